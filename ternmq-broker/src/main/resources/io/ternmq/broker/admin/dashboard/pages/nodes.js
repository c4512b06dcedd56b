// Nodes: every member of the cluster (on a single node, that one), as each reports itself and as this node sees it,
// refreshed every 2 s. A node that does not answer in time is listed with the reason.
import { h, fmt } from '../dom.js';
import { listing, figure } from './listing.js';

const yesNo = v => (v === null || v === undefined ? '–' : v ? 'yes' : 'no');
const rate = v => (v === null || v === undefined ? '–' : `${fmt(v)}/s`);

export default {
  render(root) {
    return listing(root, 'Nodes',
      'The members of the cluster, each asked for its own figures (a node that does not answer within 2 s shows why). On a single node: that node.', {
        path: 'nodes', key: 'nodes', testid: 'nodes-table', refreshMillis: 2000, empty: 'No node answered.',
        columns: [
          { key: 'node', label: 'Node', render: n => h('span', { 'data-testid': 'node-id' }, n.node + (n.self ? ' (this node)' : '')) },
          { key: 'state', label: 'State', render: n => (n.error ? h('span', { class: 'error', 'data-testid': 'node-error' }, n.error)
            : n.self ? 'serving' : `link ${n.linkUp ? 'up' : 'down'}, routes ${n.routesReceived ? 'received' : 'waiting'}`) },
          { key: 'mqtt', label: 'MQTT', render: n => (n.mqtt ?? []).join(' ') },
          { key: 'admin', label: 'Admin', render: n => n.admin ?? '–' },
          { key: 'connections', label: 'Connections', num: true, render: n => figure('node-connections', n.connections) },
          { key: 'sessions', label: 'Sessions', num: true, render: n => figure('node-sessions', n.sessions) },
          { key: 'subscriptions', label: 'Subscriptions', num: true, render: n => figure('node-subscriptions', n.subscriptions) },
          { key: 'retained', label: 'Retained', num: true },
          { key: 'messagesInPerSecond', label: 'PUBLISH in', num: true, render: n => rate(n.messagesInPerSecond) },
          { key: 'messagesOutPerSecond', label: 'PUBLISH out', num: true, render: n => rate(n.messagesOutPerSecond) },
          { key: 'uptimeSeconds', label: 'Uptime (s)', num: true },
          { key: 'version', label: 'Version' },
          { key: 'member', label: 'Member', render: n => yesNo(n.member) },
        ],
        rowAttrs: n => ({ 'data-node': n.node, 'data-self': String(!!n.self), 'data-answered': String(!n.error) }),
      }).cleanup;
  },
};
