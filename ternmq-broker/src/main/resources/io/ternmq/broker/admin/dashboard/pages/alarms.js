// Alarms: the conditions that hold now on every node (each checks every 5 s and when asked), refreshed every 2 s.
import { fmt } from '../dom.js';
import { listing, figure, nodeCell } from './listing.js';

export default {
  render(root) {
    return listing(root, 'Alarms',
      'Raised on any node of the cluster while its heap use passes 85 %, its connected clients 90 % of max_connections, a certificate expires within 30 days, or its store\'s sync p99 passes 100 ms.', {
        path: 'alarms', key: 'alarms', testid: 'alarms-table', refreshMillis: 2000, nodes: true, empty: 'No alarm: all is well.',
        columns: [
          { key: 'node', label: 'Node', render: a => nodeCell('alarm-node', a.node) }, { key: 'name', label: 'Alarm' }, { key: 'subject', label: 'Subject' }, { key: 'message', label: 'Message' }, { key: 'since', label: 'Since' },
          { key: 'value', label: 'Value', num: true, render: a => figure('alarm-value', a.value, `${fmt(a.value)} ${a.unit ?? ''}`) },
          { key: 'threshold', label: 'Threshold', num: true, render: a => `${fmt(a.threshold)} ${a.unit ?? ''}` },
        ],
        rowAttrs: a => ({ 'data-alarm': a.name, 'data-node': a.node }),
      }).cleanup;
  },
};
