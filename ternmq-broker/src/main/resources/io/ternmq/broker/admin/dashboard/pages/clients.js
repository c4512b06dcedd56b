// Clients: search and page through sessions; a client's detail with its subscriptions, Kick and Trace.
import { h, clear, table, fmt } from '../dom.js';
import { api, seg } from '../api.js';
import { startTrace } from './trace.js';
import { nodeSelect, unanswered, nodeCell } from './listing.js';

const PAGE = 50;

function list(root) {
  const like = h('input', { type: 'text', placeholder: 'part of the client id', 'data-testid': 'clients-like' });
  const connected = h('select', { 'data-testid': 'clients-connected' },
    h('option', { value: '' }, 'all'), h('option', { value: 'true' }, 'connected'), h('option', { value: 'false' }, 'offline'));
  // the nodes of the cluster, to list one node's clients only
  const node = nodeSelect('clients-node');
  const error = h('p', { class: 'error', 'data-testid': 'clients-error' });
  const body = h('div');
  const pager = h('div', { class: 'toolbar' });
  let cursors = ['']; // the cursor of each page shown so far
  let stopped = false;

  const load = async () => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (like.value) q.set('like', like.value);
    if (connected.value) q.set('connected', connected.value);
    if (node.value) q.set('node', node.value);
    if (cursors[cursors.length - 1]) q.set('cursor', cursors[cursors.length - 1]);
    try {
      const j = await api(`clients?${q}`);
      if (stopped) return;
      error.textContent = '';
      clear(body).append(h('p', { class: 'muted', 'data-testid': 'clients-count', 'data-value': j.clients.length },
        `${j.clients.length} on this page`), ...unanswered(j, 'clients'), table('clients-table', [
        { key: 'clientId', label: 'Client id', render: c => h('a', { href: `#/clients/${seg(c.clientId)}`, 'data-testid': 'client-link', 'data-client': c.clientId }, c.clientId) },
        { key: 'connected', render: c => (c.connected ? 'yes' : 'no') },
        { key: 'node', render: c => nodeCell('client-node', c.node) },
        { key: 'address' }, { key: 'protocol' }, { key: 'username', label: 'User' },
        { key: 'subscriptions', num: true }, { key: 'inflight', label: 'In flight', num: true }, { key: 'queued', num: true },
      ], j.clients, c => ({ 'data-client': c.clientId })));
      clear(pager).append(
        h('button', { class: 'secondary', disabled: cursors.length === 1, 'data-testid': 'clients-first', onclick: () => { cursors = ['']; load(); } }, 'First page'),
        h('span', { class: 'muted', 'data-testid': 'clients-page', 'data-value': cursors.length }, `page ${cursors.length}`),
        h('button', { class: 'secondary', disabled: !j.next, 'data-testid': 'clients-next', onclick: () => { cursors.push(j.next); load(); } }, 'Next page'));
    } catch (e) {
      if (!stopped) error.textContent = e.message;
    }
  };
  const search = h('form', { class: 'inline', 'data-testid': 'clients-search' }, like, connected, node,
    h('button', { type: 'submit', 'data-testid': 'clients-search-submit' }, 'Search'));
  search.addEventListener('submit', ev => { ev.preventDefault(); cursors = ['']; load(); });
  root.append(h('h1', {}, 'Clients'), search, error, body, pager);
  load();
  return () => { stopped = true; };
}

function detail(root, ctx, id) {
  const error = h('p', { class: 'error', 'data-testid': 'client-error' });
  const info = h('div');
  const subs = h('div');
  const actions = h('div');
  const subActions = h('div');
  const result = h('p', { class: 'notice', 'data-testid': 'client-result', hidden: true });
  root.append(h('p', {}, h('a', { href: '#/clients' }, '← Clients')), h('h1', { 'data-testid': 'client-id' }, id), error, result, info,
    actions, h('h2', {}, 'Subscriptions'), subs, subActions);
  const say = text => { result.hidden = false; result.textContent = text; };

  const load = async () => {
    try {
      const [c, s] = await Promise.all([api(`clients/${seg(id)}`), api(`clients/${seg(id)}/subscriptions`)]);
      error.textContent = '';
      const fields = ['node', 'connected', 'address', 'listener', 'transport', 'username', 'protocol', 'connectedAt', 'expiryInterval',
        'subscriptions', 'inflight', 'queued', 'messagesIn', 'messagesOut', 'bytesIn', 'bytesOut'].filter(k => k in c);
      clear(info).append(h('dl', { class: 'kv', 'data-testid': 'client-detail', 'data-connected': String(c.connected) },
        fields.flatMap(k => [h('dt', {}, k), h('dd', { 'data-testid': `client-field-${k}`, 'data-value': c[k] ?? '' }, k === 'expiryInterval' && c[k] === null ? 'never' : fmt(c[k]))])));
      clear(subs).append(table('client-subscriptions', [
        { key: 'filter' }, { key: 'qos', label: 'QoS', num: true }, { key: 'noLocal' }, { key: 'retainAsPublished' },
        { key: 'retainHandling', num: true },
        ...(ctx.readOnly ? [] : [{ key: '', label: '', render: sub => h('button', { class: 'secondary', 'data-testid': 'unsubscribe', onclick: () => unsubscribe(sub.filter) }, 'Remove') }]),
      ], s.subscriptions));
    } catch (e) {
      if (e.status === 404) {
        error.textContent = `No client '${id}': its session has ended.`;
        clearInterval(timer); // it will not come back by itself
      } else {
        error.textContent = e.message;
      }
    }
  };

  const kickForm = () => {
    const noWill = h('input', { type: 'checkbox', 'data-testid': 'kick-no-will' });
    const discard = h('input', { type: 'checkbox', 'data-testid': 'kick-discard' });
    const form = h('form', { class: 'inline', 'data-testid': 'kick-form' },
      h('label', {}, noWill, ' do not publish its will'), h('label', {}, discard, ' end its session'),
      h('button', { type: 'submit', class: 'danger', 'data-testid': 'kick' }, 'Kick'));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      const q = new URLSearchParams();
      if (noWill.checked) q.set('will', 'false');
      if (discard.checked) q.set('session', 'discard');
      try {
        await api(`clients/${seg(id)}?${q}`, { method: 'DELETE' });
        say(`Kicked ${id}.`);
        if (discard.checked) location.hash = '#/clients'; else load();
      } catch (e) { error.textContent = e.message; }
    });
    return form;
  };

  const subscribeForm = () => {
    const filter = h('input', { type: 'text', placeholder: 'topic filter', required: true, 'data-testid': 'subscribe-filter' });
    const qos = h('select', { 'data-testid': 'subscribe-qos' }, [0, 1, 2].map(q => h('option', { value: q }, `QoS ${q}`)));
    const form = h('form', { class: 'inline', 'data-testid': 'subscribe-form' }, filter, qos,
      h('button', { type: 'submit', 'data-testid': 'subscribe' }, 'Subscribe'));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      try {
        await api(`clients/${seg(id)}/subscriptions`, { method: 'POST', body: { filter: filter.value, qos: Number(qos.value) } });
        say(`Subscribed ${id} to ${filter.value}.`);
        load();
      } catch (e) { error.textContent = e.message; }
    });
    return form;
  };

  const unsubscribe = async filter => {
    try {
      await api(`clients/${seg(id)}/subscriptions?filter=${encodeURIComponent(filter)}`, { method: 'DELETE' });
      say(`Removed ${filter}.`);
      load();
    } catch (e) { error.textContent = e.message; }
  };
  if (!ctx.readOnly) {
    actions.append(kickForm());
    subActions.append(subscribeForm());
  }
  const trace = async () => {
    try {
      location.hash = `#/trace/${seg(await startTrace({ clientId: id, durationSeconds: 300 }))}`;
    } catch (e) { error.textContent = e.message; }
  };
  // a trace of this client for 5 minutes, without payloads; the Trace page offers more
  if (!ctx.readOnly) actions.append(h('p', {}, h('button', { class: 'secondary', 'data-testid': 'client-trace', onclick: trace }, 'Trace this client (5 minutes)')));
  // the detail follows the client (a kick, a reconnect) while it is shown
  const timer = setInterval(load, 2000);
  load();
  return () => clearInterval(timer);
}

export default {
  render(root, ctx) {
    return ctx.rest.length ? detail(root, ctx, ctx.rest.join('/')) : list(root);
  },
};
