// Trace: follow a client id, a topic filter or an IP address for up to 30 minutes (payloads only if asked): the
// traces kept, a live view of one (Server-Sent Events from traces/{id}/live), stop (DELETE), download (traces/{id}).
// #/trace/{id} opens the live view of that trace (the client page's Trace button lands there).
import { h, clear, table } from '../dom.js';
import { api, seg } from '../api.js';
import { nodeCell, unanswered } from './listing.js';

const KINDS = [['clientId', 'Client id'], ['topic', 'Topic filter'], ['ip', 'IP address']];
const EVENT_TYPES = ['connect', 'publish_in', 'publish_out', 'subscribe', 'disconnect'];
const MAX_ROWS = 1000; // the live view keeps the newest; the download has all the trace kept

/** Starts a trace (POST traces) and answers its id. */
export async function startTrace(body) {
  return (await api('traces', { method: 'POST', body })).id;
}

function what(t) {
  const k = KINDS.find(([key]) => key in t);
  return k ? `${k[1].toLowerCase()} ${t[k[0]]}` : '';
}

/** Each node's events recorded, "node: n" (in a cluster every node records the trace for its own clients). */
function perNode(t) {
  const nodes = Object.entries(t.nodes ?? {});
  return h('span', { 'data-testid': 'trace-nodes', 'data-value': nodes.map(([n, c]) => `${n}=${c}`).join(' ') },
    nodes.map(([n, c]) => `${n}: ${c.toLocaleString('en-US')}`).join(', '));
}

function eventRow(type, e) {
  const payload = e.payload ?? (e.payloadBase64 !== undefined ? `base64:${e.payloadBase64}` : '');
  const detail = [
    e.topic !== undefined ? `QoS ${e.qos}${e.retain ? ', retained' : ''}, ${e.bytes} B` : '',
    e.filters ? e.filters.join(' ') : '', e.detail ?? '', payload + (e.payloadTruncated ? ' …' : ''),
  ].filter(Boolean).join(' · ');
  return h('tr', { 'data-testid': 'trace-event', 'data-type': type, 'data-topic': e.topic ?? null, 'data-client': e.clientId ?? null, 'data-node': e.node ?? null },
    h('td', {}, (e.at ?? '').replace('T', ' ').replace('Z', '')), h('td', {}, nodeCell('trace-event-node', e.node)), h('td', {}, type), h('td', {}, e.clientId ?? ''),
    h('td', {}, e.address ?? ''), h('td', {}, e.topic ?? ''), h('td', {}, detail));
}

export default {
  render(root, ctx) {
    const error = h('p', { class: 'error', 'data-testid': 'trace-error' });
    const list = h('div');
    const liveBox = h('div', { 'data-testid': 'trace-live', hidden: true });
    root.append(h('h1', {}, 'Trace'), h('p', { class: 'muted' },
      'Records the CONNECT, PUBLISH in and out, SUBSCRIBE and end of connection of the clients it follows (a topic trace: PUBLISHes and SUBSCRIBEs on matching topics), for up to 30 minutes; at most 8 traces are kept. In a cluster every node records it for its own connections (nodes joining later too); the live view and the download show every node\'s events, each naming its node.'),
    error);
    let source = null;
    let watching = null;
    let stopped = false;

    const load = async () => {
      try {
        const j = await api('traces');
        if (stopped) return;
        error.textContent = '';
        clear(list).append(...unanswered(j, 'traces-table'), j.traces.length === 0 ? h('p', { class: 'muted', 'data-testid': 'traces-empty' }, 'No trace.') : table('traces-table', [
          { key: 'id', label: 'Trace' }, { key: 'what', label: 'Follows', render: what },
          { key: 'payloads', label: 'Payloads', render: t => (t.payloads ? 'recorded' : 'no') }, { key: 'startedAt', label: 'Started' },
          { key: 'endsAt', label: 'Ends' }, { key: 'running', label: 'State', render: t => (t.running ? 'running' : 'ended') },
          { key: 'recorded', label: 'Events', num: true }, { key: 'nodes', label: 'On nodes', render: perNode },
          { key: '', label: '', render: t => h('span', { class: 'actions' },
            h('a', { href: `#/trace/${seg(t.id)}`, 'data-testid': 'trace-watch' }, 'Live'), ' ',
            h('a', { href: `/api/v1/traces/${seg(t.id)}`, download: `trace-${t.id}.json`, 'data-testid': 'trace-download' }, 'Download'), ' ',
            ctx.readOnly ? null : h('button', { class: 'secondary', 'data-testid': 'trace-stop', onclick: () => stop(t.id) }, 'Stop and forget')) },
        ], j.traces, t => ({ 'data-trace': t.id, 'data-running': String(t.running) })));
      } catch (e) { if (!stopped) error.textContent = e.message; }
    };

    const stop = async id => {
      try {
        await api(`traces/${seg(id)}`, { method: 'DELETE' });
        if (id === watching) location.hash = '#/trace'; else load();
      } catch (e) { error.textContent = e.message; }
    };

    const watch = id => {
      watching = id;
      const state = h('span', { 'data-testid': 'trace-live-state', 'data-state': 'connecting' }, 'connecting…');
      const rows = h('tbody', { 'data-testid': 'trace-events' });
      liveBox.hidden = false;
      clear(liveBox).append(h('h2', {}, `Trace ${id}, live `), h('p', { class: 'muted' }, state, ' · ',
        h('a', { href: `/api/v1/traces/${seg(id)}`, download: `trace-${id}.json` }, 'download what it recorded')),
      h('table', {}, h('thead', {}, h('tr', {}, ['At (UTC)', 'Node', 'Event', 'Client id', 'Address', 'Topic', 'Detail'].map(t => h('th', {}, t)))), rows));
      const setState = (s, text) => { state.dataset.state = s; state.textContent = text; };
      let recount = null; // the list's event counts follow, a second behind
      const add = (type, data) => {
        recount ??= setTimeout(() => { recount = null; if (!stopped) load(); }, 1000);
        rows.prepend(eventRow(type, data));
        while (rows.childElementCount > MAX_ROWS) rows.lastElementChild.remove();
      };
      source = new EventSource(`/api/v1/traces/${seg(id)}/live`);
      source.onopen = () => setState('open', 'following');
      for (const type of EVENT_TYPES) source.addEventListener(type, ev => add(type, JSON.parse(ev.data)));
      source.addEventListener('dropped', ev => {
        const d = JSON.parse(ev.data);
        add('dropped', { node: d.node, detail: `${d.missed} events missed (this view fell behind)` });
      });
      source.addEventListener('unanswered', ev => {
        const d = JSON.parse(ev.data);
        add('unanswered', { node: d.node, detail: `did not answer (${d.error}): its events follow when it does` });
      });
      source.addEventListener('end', () => {
        // the broker closes the stream after this: without close() EventSource would connect again
        source.close();
        setState('ended', 'the trace has ended');
        load();
      });
      source.onerror = () => {
        if (source.readyState === EventSource.CLOSED) setState('closed', 'not following (the trace is gone or the login ended)');
      };
    };

    const form = () => {
      const kind = h('select', { 'data-testid': 'trace-kind' }, KINDS.map(([k, label]) => h('option', { value: k }, label)));
      const value = h('input', { type: 'text', required: true, 'data-testid': 'trace-value', placeholder: 'sensor/7, cmd/#, 10.1.2.3' });
      const seconds = h('input', { type: 'number', min: 1, max: 1800, value: 300, required: true, 'data-testid': 'trace-seconds' });
      const payloads = h('input', { type: 'checkbox', 'data-testid': 'trace-payloads' });
      const f = h('form', { class: 'stack', 'data-testid': 'trace-form' },
        h('label', {}, 'Follow'), h('span', { class: 'inline' }, kind, ' ', value),
        h('label', {}, 'Seconds (≤ 1800)'), seconds,
        h('label', {}, 'Payloads'), h('label', {}, payloads, ' record them (the first KiB of each)'),
        h('button', { type: 'submit', class: 'full', 'data-testid': 'trace-start' }, 'Start trace'));
      f.addEventListener('submit', async ev => {
        ev.preventDefault();
        try {
          const id = await startTrace({ [kind.value]: value.value, durationSeconds: Number(seconds.value), payloads: payloads.checked });
          location.hash = `#/trace/${seg(id)}`;
        } catch (e) { error.textContent = e.message; }
      });
      return f;
    };

    root.append(liveBox, h('h2', {}, 'Traces'), list);
    if (!ctx.readOnly) root.append(h('h2', {}, 'New trace'), form());
    if (ctx.rest.length) watch(ctx.rest.join('/'));
    load();
    const timer = setInterval(load, 5000);
    return () => { stopped = true; clearInterval(timer); source?.close(); };
  },
};
