// Slow subscribers: sessions that do not keep up (queued, a full in-flight window, an unwritable socket), paged.
import { h } from '../dom.js';
import { seg } from '../api.js';
import { listing, figure, nodeCell } from './listing.js';

const REASONS = { queued: 'messages queued', inflight_full: 'in-flight window full', unwritable: 'not reading' };

export default {
  render(root) {
    return listing(root, 'Slow subscribers',
      'Sessions falling behind, on every node of the cluster: messages queued behind the in-flight window, a full window (acknowledgements not coming), or a socket the client has stopped reading.', {
        path: 'slow-subscribers', key: 'slowSubscribers', testid: 'slow-table', paged: true, nodes: true, refreshMillis: 2000,
        empty: 'No session is falling behind.',
        columns: [
          { key: 'clientId', label: 'Client id', render: s => h('a', { href: `#/clients/${seg(s.clientId)}` }, s.clientId) },
          { key: 'node', label: 'Node', render: s => nodeCell('slow-node', s.node) },
          { key: 'connected', label: 'Connected', render: s => (s.connected ? 'yes' : 'no') },
          { key: 'reasons', label: 'Why', render: s => s.reasons.map(r => REASONS[r] ?? r).join(', ') },
          { key: 'queued', label: 'Queued', num: true, render: s => figure('slow-queued', s.queued) },
          { key: 'inflight', label: 'In flight', num: true, render: s => (s.maxInflight === null ? String(s.inflight) : `${s.inflight} / ${s.maxInflight}`) },
          { key: 'unwritableSeconds', label: 'Unwritable (s)', num: true },
        ],
        rowAttrs: s => ({ 'data-client': s.clientId, 'data-reasons': s.reasons.join(' ') }),
      }).cleanup;
  },
};
