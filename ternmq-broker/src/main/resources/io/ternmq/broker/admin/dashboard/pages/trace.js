// Trace: follow a client id, topic filter or address for up to 30 minutes (payloads only if asked); live events
// over Server-Sent Events, or a download. Shows "not available" while the broker has no /api/v1/traces.
import { h, clear, anyJson } from '../dom.js';
import { api, seg } from '../api.js';
import { unavailable } from './newer.js';

export default {
  render(root, ctx) {
    const error = h('p', { class: 'error' });
    const list = h('div', { 'data-testid': 'traces' });
    const live = h('pre', { class: 'preview', 'data-testid': 'trace-live', hidden: true });
    root.append(h('h1', {}, 'Trace'), error);
    let source = null;
    const load = async () => {
      try {
        const j = await api('traces');
        clear(list).append(anyJson('traces-table', j));
        const traces = Array.isArray(j) ? j : Object.values(j ?? {}).find(Array.isArray) ?? [];
        for (const t of traces.filter(t => t && t.id !== undefined)) {
          list.append(h('p', {}, `Trace ${t.id}: `,
            h('a', { href: '#', 'data-testid': 'trace-watch', onclick: ev => { ev.preventDefault(); watch(t.id); } }, 'watch live'), ' · ',
            h('a', { href: `/api/v1/traces/${seg(String(t.id))}/download`, download: `trace-${t.id}.jsonl` }, 'download')));
        }
        return true;
      } catch (e) {
        if (e.notAvailable) { clear(root).append(h('h1', {}, 'Trace'), unavailable('traces')); return false; }
        error.textContent = e.message;
        return true;
      }
    };
    const watch = id => {
      source?.close();
      live.hidden = false;
      live.textContent = '';
      source = new EventSource(`/api/v1/traces/${seg(String(id))}/events`);
      source.onmessage = ev => { live.textContent += `${ev.data}\n`; };
    };
    const form = () => {
      const clientId = h('input', { type: 'text', value: ctx.query.get('clientId') ?? '', 'data-testid': 'trace-clientId' });
      const topic = h('input', { type: 'text', 'data-testid': 'trace-topic' });
      const ip = h('input', { type: 'text', 'data-testid': 'trace-ip' });
      const minutes = h('input', { type: 'number', min: 1, max: 30, value: 5, 'data-testid': 'trace-minutes' });
      const payloads = h('input', { type: 'checkbox', 'data-testid': 'trace-payloads' });
      const f = h('form', { class: 'stack', 'data-testid': 'trace-form' },
        h('label', {}, 'Client id'), clientId, h('label', {}, 'Topic filter'), topic, h('label', {}, 'IP address'), ip,
        h('label', {}, 'Minutes (≤ 30)'), minutes, h('label', {}, 'Record payloads'), payloads,
        h('button', { type: 'submit', class: 'full' }, 'Start trace'));
      f.addEventListener('submit', async ev => {
        ev.preventDefault();
        const body = { durationSeconds: Number(minutes.value) * 60, payloads: payloads.checked };
        if (clientId.value) body.clientId = clientId.value;
        if (topic.value) body.topicFilter = topic.value;
        if (ip.value) body.ip = ip.value;
        try {
          const t = await api('traces', { method: 'POST', body });
          await load();
          if (t && t.id !== undefined) watch(t.id);
        } catch (e) { error.textContent = e.message; }
      });
      return f;
    };
    load().then(available => {
      if (!available) return;
      root.append(list, live);
      if (!ctx.readOnly) root.append(h('h2', {}, 'New trace'), form());
    });
    return () => source?.close();
  },
};
