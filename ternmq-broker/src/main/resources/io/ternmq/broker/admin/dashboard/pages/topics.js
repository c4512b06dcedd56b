// Topics: those in use (a retained message, or subscribed: wildcard filters as subscribed), in order, paged; in a
// cluster one row per topic, with each node's subscribers.
import { h, bytes } from '../dom.js';
import { seg } from '../api.js';
import { listing, figure } from './listing.js';

/** Each node's subscribers, "node: n" (in a cluster each node counts its own sessions'). */
function perNode(t) {
  const nodes = Object.entries(t.nodes ?? {});
  return h('span', { 'data-testid': 'topic-nodes', 'data-value': nodes.map(([n, c]) => `${n}=${c}`).join(' ') },
    nodes.map(([n, c]) => `${n}: ${c}`).join(', '));
}

export default {
  render(root) {
    return listing(root, 'Topics', 'Topics with a retained message and the filters sessions subscribe to (a shared group counts once), on every node of the cluster: each node counts its own sessions.', {
      path: 'topics', key: 'topics', testid: 'topics-table', paged: true, nodes: true, empty: 'No topic in use.',
      search: { param: 'like', placeholder: 'part of the topic' },
      columns: [
        { key: 'topic', label: 'Topic or filter' },
        { key: 'subscribers', label: 'Subscribers', num: true, render: t => figure('topic-subscribers', t.subscribers) },
        { key: 'nodes', label: 'On nodes', render: perNode },
        { key: 'retained', label: 'Retained', render: t => (t.retained
          ? h('a', { href: `#/retained?filter=${seg(t.topic)}`, 'data-testid': 'topic-retained', 'data-value': t.retainedBytes }, bytes(t.retainedBytes))
          : '') },
      ],
      rowAttrs: t => ({ 'data-topic': t.topic }),
    }).cleanup;
  },
};
