// Topic metrics: messages and payload bytes in and out for up to 64 registered topic filters; register, remove.
import { h, bytes } from '../dom.js';
import { api } from '../api.js';
import { listing, figure } from './listing.js';

/** Each node's messages in and out, "node: in in / out out" (in a cluster each node counts its own). */
function perNode(m) {
  const nodes = Object.entries(m.nodes ?? {});
  return h('span', { 'data-testid': 'topic-metric-nodes', 'data-value': nodes.map(([n, c]) => `${n}=${c.messagesIn}/${c.messagesOut}`).join(' ') },
    nodes.map(([n, c]) => `${n}: ${c.messagesIn.toLocaleString('en-US')} in / ${c.messagesOut.toLocaleString('en-US')} out`).join(', '));
}

export default {
  render(root, ctx) {
    const filter = h('input', { type: 'text', placeholder: 'topic filter, e.g. home/+/temp', required: true, 'data-testid': 'topic-metric-filter' });
    const form = h('form', { class: 'inline', 'data-testid': 'topic-metric-form' }, filter,
      h('button', { type: 'submit', 'data-testid': 'topic-metric-register' }, 'Start counting'));
    const count = h('p', { class: 'muted', 'data-testid': 'topic-metrics-count' });
    const page = listing(root, 'Topic metrics',
      'Messages and payload bytes published to the broker (in) and written to clients (out) on topics matching each filter, counted from its registration. A filter is counted on every node of the cluster (nodes joining later too): the figures are summed, On nodes has each node\'s.', {
        path: 'topic-metrics', key: 'topicMetrics', testid: 'topic-metrics-table', refreshMillis: 2000, nodes: true,
        empty: 'No topic filter is registered.',
        above: [count, ...(ctx.readOnly ? [] : [form])],
        onLoad: j => { count.textContent = `${j.topicMetrics.length} of at most ${j.max} filters registered.`; count.dataset.value = j.topicMetrics.length; },
        columns: [
          { key: 'filter', label: 'Filter' }, { key: 'registeredAt', label: 'Since' },
          { key: 'messagesIn', label: 'Messages in', num: true, render: m => figure('topic-metric-messages-in', m.messagesIn) },
          { key: 'bytesIn', label: 'Bytes in', num: true, render: m => figure('topic-metric-bytes-in', m.bytesIn, bytes(m.bytesIn)) },
          { key: 'messagesOut', label: 'Messages out', num: true, render: m => figure('topic-metric-messages-out', m.messagesOut) },
          { key: 'bytesOut', label: 'Bytes out', num: true, render: m => figure('topic-metric-bytes-out', m.bytesOut, bytes(m.bytesOut)) },
          { key: 'nodes', label: 'On nodes', render: perNode },
          ...(ctx.readOnly ? [] : [{ key: '', label: '', render: m => h('button', { class: 'secondary', 'data-testid': 'topic-metric-remove', onclick: () => remove(m.filter) }, 'Stop counting') }]),
        ],
        rowAttrs: m => ({ 'data-filter': m.filter }),
      });
    const remove = async f => {
      try {
        await api(`topic-metrics?filter=${encodeURIComponent(f)}`, { method: 'DELETE' });
        page.reload();
      } catch (e) { page.error.textContent = e.message; }
    };
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      try {
        await api('topic-metrics', { method: 'POST', body: { filter: filter.value } });
        filter.value = '';
        page.reload();
      } catch (e) { page.error.textContent = e.message; }
    });
    return page.cleanup;
  },
};
