// $SYS: the broker's $SYS values as Mosquitto 2.1's /api/v1/systree serves them, read now, refreshed every 5 s.
import { h, clear, fmt, bytes, duration } from '../dom.js';
import { api } from '../api.js';

const PREFIX = '$SYS/broker/';

function shown(topic, v) {
  if (topic === `${PREFIX}uptime`) return duration(v);
  return /bytes|heap/.test(topic) ? `${fmt(v)} (${bytes(v)})` : fmt(v);
}

export default {
  render(root) {
    const error = h('p', { class: 'error' });
    const body = h('div');
    root.append(h('h1', {}, '$SYS'), h('p', { class: 'muted' },
      'The values MQTT clients read under $SYS/broker/ (with sys_interval on), read now.'), error, body);
    let stopped = false;
    const load = async () => {
      try {
        const j = await api('systree');
        if (stopped) return;
        error.textContent = '';
        clear(body).append(h('table', { 'data-testid': 'systree-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Topic'), h('th', {}, 'Value'))),
          h('tbody', {}, Object.entries(j).map(([topic, v]) => h('tr', { 'data-topic': topic },
            h('td', {}, topic), h('td', { class: 'num', 'data-value': v }, shown(topic, v)))))));
      } catch (e) { if (!stopped) error.textContent = e.message; }
    };
    load();
    const timer = setInterval(load, 5000);
    return () => { stopped = true; clearInterval(timer); };
  },
};
