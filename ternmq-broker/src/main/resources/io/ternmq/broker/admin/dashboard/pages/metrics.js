// Metrics: the counters since the start (stats), refreshed every 2 s; Prometheus scrapes the same at /metrics.
import { h, clear, fmt } from '../dom.js';
import { api } from '../api.js';

function rows(prefix, obj) {
  return Object.entries(obj).flatMap(([k, v]) => (v && typeof v === 'object')
    ? rows(`${prefix}${k}.`, v)
    : [h('tr', { 'data-metric': prefix + k }, h('td', {}, prefix + k), h('td', { class: 'num', 'data-value': v }, fmt(v)))]);
}

export default {
  render(root) {
    const error = h('p', { class: 'error' });
    const body = h('div');
    root.append(h('h1', {}, 'Metrics'), h('p', { class: 'muted' },
      'Counters since the broker started. Prometheus reads these and more at ', h('code', {}, '/metrics'), '.'), error, body);
    let stopped = false;
    const load = async () => {
      try {
        const s = await api('stats');
        if (stopped) return;
        error.textContent = '';
        clear(body).append(h('table', { 'data-testid': 'metrics-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Counter'), h('th', {}, 'Value'))), h('tbody', {}, rows('', s))));
      } catch (e) { if (!stopped) error.textContent = e.message; }
    };
    load();
    const timer = setInterval(load, 2000);
    return () => { stopped = true; clearInterval(timer); };
  },
};
