// Alarms: the conditions that hold now (the broker checks every 5 s and when asked), refreshed every 2 s.
import { fmt } from '../dom.js';
import { listing, figure } from './listing.js';

export default {
  render(root) {
    return listing(root, 'Alarms',
      'Raised while heap use passes 85 %, connected clients 90 % of max_connections, a certificate expires within 30 days, or the store\'s sync p99 passes 100 ms.', {
        path: 'alarms', key: 'alarms', testid: 'alarms-table', refreshMillis: 2000, empty: 'No alarm: all is well.',
        columns: [
          { key: 'name', label: 'Alarm' }, { key: 'subject', label: 'Subject' }, { key: 'message', label: 'Message' }, { key: 'since', label: 'Since' },
          { key: 'value', label: 'Value', num: true, render: a => figure('alarm-value', a.value, `${fmt(a.value)} ${a.unit ?? ''}`) },
          { key: 'threshold', label: 'Threshold', num: true, render: a => `${fmt(a.threshold)} ${a.unit ?? ''}` },
        ],
        rowAttrs: a => ({ 'data-alarm': a.name }),
      }).cleanup;
  },
};
