// Subscriptions: every session's on every node of the cluster, each with its node, paged, filtered by a part of the filter.
import { h, clear, table } from '../dom.js';
import { api, seg } from '../api.js';
import { nodeCell, unanswered } from './listing.js';

export default {
  render(root) {
    const like = h('input', { type: 'text', placeholder: 'part of the topic filter', 'data-testid': 'subscriptions-like' });
    const error = h('p', { class: 'error' });
    const body = h('div');
    const pager = h('div', { class: 'toolbar' });
    let cursors = [''];
    const load = async () => {
      const q = new URLSearchParams({ limit: '100' });
      if (like.value) q.set('like', like.value);
      if (cursors[cursors.length - 1]) q.set('cursor', cursors[cursors.length - 1]);
      try {
        const j = await api(`subscriptions?${q}`);
        error.textContent = '';
        clear(body).append(...unanswered(j, 'subscriptions'), table('subscriptions-table', [
          { key: 'clientId', label: 'Client id', render: s => h('a', { href: `#/clients/${seg(s.clientId)}` }, s.clientId) },
          { key: 'node', render: s => nodeCell('subscription-node', s.node) },
          { key: 'filter' }, { key: 'qos', label: 'QoS', num: true }, { key: 'noLocal' }, { key: 'retainAsPublished' },
          { key: 'retainHandling', num: true }, { key: 'subscriptionId', num: true },
        ], j.subscriptions, s => ({ 'data-filter': s.filter, 'data-client': s.clientId })));
        clear(pager).append(
          h('button', { class: 'secondary', disabled: cursors.length === 1, onclick: () => { cursors = ['']; load(); } }, 'First page'),
          h('button', { class: 'secondary', disabled: !j.next, 'data-testid': 'subscriptions-next', onclick: () => { cursors.push(j.next); load(); } }, 'Next page'));
      } catch (e) { error.textContent = e.message; }
    };
    const form = h('form', { class: 'inline' }, like, h('button', { type: 'submit' }, 'Search'));
    form.addEventListener('submit', ev => { ev.preventDefault(); cursors = ['']; load(); });
    root.append(h('h1', {}, 'Subscriptions'), form, error, body, pager);
    load();
  },
};
