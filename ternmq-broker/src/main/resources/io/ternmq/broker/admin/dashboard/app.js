// The dashboard: one page, its views chosen by the URL's fragment (#/clients/...), each a module of pages/.
import { h, clear } from './dom.js';
import { login, logIn, logOut, ApiError } from './api.js';
import overview from './pages/overview.js';
import clients from './pages/clients.js';
import nodes from './pages/nodes.js';
import subscriptions from './pages/subscriptions.js';
import retained from './pages/retained.js';
import metrics from './pages/metrics.js';
import topics from './pages/topics.js';
import alarms from './pages/alarms.js';
import slowSubscribers from './pages/slow-subscribers.js';
import topicMetrics from './pages/topic-metrics.js';
import systree from './pages/systree.js';
import trace from './pages/trace.js';

const PAGES = [
  ['overview', 'Overview', overview],
  ['nodes', 'Nodes', nodes],
  ['clients', 'Clients', clients],
  ['subscriptions', 'Subscriptions', subscriptions],
  ['topics', 'Topics', topics],
  ['retained', 'Retained', retained],
  ['metrics', 'Metrics', metrics],
  ['alarms', 'Alarms', alarms],
  ['slow-subscribers', 'Slow subscribers', slowSubscribers],
  ['topic-metrics', 'Topic metrics', topicMetrics],
  ['trace', 'Trace', trace],
  ['systree', '$SYS', systree],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let cleanup = null;

function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [name, ...rest] = hash.split('/');
  const query = new URLSearchParams(hash.includes('?') ? hash.slice(hash.indexOf('?') + 1) : '');
  return { name: (name || 'overview').split('?')[0], rest: rest.map(s => decodeURIComponent(s.split('?')[0])), query };
}

function show() {
  if (cleanup) { cleanup(); cleanup = null; }
  clear(main);
  const me = login();
  if (!me) {
    nav.hidden = true;
    clear(nav);
    clear(who);
    showLogin();
    return;
  }
  const r = route();
  const page = PAGES.find(p => p[0] === r.name) ?? PAGES[0];
  nav.hidden = false;
  clear(nav).append(...PAGES.map(([id, title]) => h('a', {
    href: `#/${id}`, class: id === page[0] ? 'active' : null, 'data-testid': `nav-${id}`,
  }, title)));
  clear(who).append(h('span', { 'data-testid': 'user', 'data-readonly': me.readOnly ? 'true' : 'false' },
    me.user + (me.readOnly ? ' (read-only)' : '')),
  h('button', { class: 'secondary', 'data-testid': 'logout', onclick: async () => { await logOut(); location.hash = '#/login'; show(); } },
    'Log out'));
  const root = h('section', { 'data-testid': `page-${page[0]}`, 'data-page': page[0] });
  main.append(root);
  const ctx = { readOnly: !!me.readOnly, user: me.user, rest: r.rest, query: r.query };
  try {
    cleanup = page[2].render(root, ctx) ?? null;
  } catch (e) {
    root.append(h('p', { class: 'error' }, String(e.message ?? e)));
  }
}

function showLogin() {
  const error = h('p', { class: 'error', 'data-testid': 'login-error' });
  const user = h('input', { type: 'text', name: 'user', autocomplete: 'username', required: true, 'data-testid': 'login-user' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', 'data-testid': 'login-password' });
  const form = h('form', { class: 'stack', 'data-testid': 'login-form' },
    h('label', {}, 'User', user), h('label', {}, 'Password', password),
    h('button', { type: 'submit', 'data-testid': 'login-submit' }, 'Log in'), error);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    error.textContent = '';
    try {
      await logIn(user.value, password.value);
      if (!location.hash || location.hash === '#/login') location.hash = '#/overview';
      show();
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 401 ? 'Wrong user name or password.' : e.message;
    }
  });
  main.append(h('section', { class: 'login', 'data-testid': 'page-login' }, h('h1', {}, 'TernMQ: log in'), form));
  user.focus();
}

window.addEventListener('hashchange', show);
window.addEventListener('ternmq-logged-out', show);
show();
