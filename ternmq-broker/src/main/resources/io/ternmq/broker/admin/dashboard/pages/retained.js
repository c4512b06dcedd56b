// Retained messages: list by filter, preview a payload as text, hex or JSON, delete one, publish (MQTT 5 properties).
import { h, clear, table } from '../dom.js';
import { api, seg } from '../api.js';

function payloadBytes(m) {
  if (m.payload !== undefined) return new TextEncoder().encode(m.payload);
  return Uint8Array.from(atob(m.payloadBase64 ?? ''), c => c.charCodeAt(0));
}

function hex(b) {
  const lines = [];
  for (let i = 0; i < b.length; i += 16) {
    const row = [...b.slice(i, i + 16)];
    lines.push(`${i.toString(16).padStart(6, '0')}  ${row.map(x => x.toString(16).padStart(2, '0')).join(' ').padEnd(48)}  `
      + row.map(x => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join(''));
  }
  return lines.join('\n');
}

function preview(m) {
  const out = h('pre', { class: 'preview', 'data-testid': 'retained-preview' });
  const tabs = h('div', { class: 'toolbar tabs' });
  const views = {
    text: () => (m.payload !== undefined ? m.payload : '(not UTF-8: see hex)'),
    hex: () => hex(payloadBytes(m)),
    json: () => {
      try { return JSON.stringify(JSON.parse(m.payload ?? ''), null, 2); } catch { return '(not JSON)'; }
    },
  };
  const pick = name => {
    out.textContent = views[name]();
    out.setAttribute('data-view', name);
    [...tabs.children].forEach(b => b.classList.toggle('active', b.dataset.view === name));
  };
  tabs.append(...Object.keys(views).map(v => h('button', { type: 'button', 'data-view': v, 'data-testid': `preview-${v}`, onclick: () => pick(v) }, v.toUpperCase())));
  pick(m.payload === undefined ? 'hex' : 'text');
  return h('div', { 'data-testid': 'retained-detail', 'data-topic': m.topic }, h('h2', {}, m.topic), tabs, out);
}

function publishForm(say, fail, reload) {
  const f = name => h('input', { type: 'text', name, 'data-testid': `publish-${name}` });
  const topic = f('topic');
  topic.required = true;
  const payload = h('textarea', { name: 'payload', 'data-testid': 'publish-payload' });
  const encoding = h('select', { 'data-testid': 'publish-encoding' }, h('option', { value: 'text' }, 'text'), h('option', { value: 'base64' }, 'base64'));
  const qos = h('select', { 'data-testid': 'publish-qos' }, [0, 1, 2].map(q => h('option', { value: q }, `QoS ${q}`)));
  const retain = h('input', { type: 'checkbox', checked: true, 'data-testid': 'publish-retain' });
  const contentType = f('contentType');
  const responseTopic = f('responseTopic');
  const correlationData = f('correlationData');
  const expiry = h('input', { type: 'number', min: 0, name: 'messageExpiryInterval', 'data-testid': 'publish-messageExpiryInterval' });
  const format = h('select', { 'data-testid': 'publish-payloadFormatIndicator' }, h('option', { value: '' }, 'unset'),
    h('option', { value: '0' }, '0: bytes'), h('option', { value: '1' }, '1: UTF-8'));
  const userProps = h('textarea', { placeholder: 'name=value, one a line', 'data-testid': 'publish-userProperties' });
  const form = h('form', { class: 'stack', 'data-testid': 'publish-form' },
    h('label', {}, 'Topic'), topic, h('label', {}, 'Payload'), payload, h('label', {}, 'Payload is'), encoding,
    h('label', {}, 'QoS'), qos, h('label', {}, 'Retain'), retain,
    h('strong', { class: 'full' }, 'MQTT 5 properties'),
    h('label', {}, 'Content type'), contentType, h('label', {}, 'Response topic'), responseTopic,
    h('label', {}, 'Correlation data'), correlationData, h('label', {}, 'Message expiry (s)'), expiry,
    h('label', {}, 'Payload format'), format, h('label', {}, 'User properties'), userProps,
    h('button', { type: 'submit', class: 'full', 'data-testid': 'publish-submit' }, 'Publish'));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const body = { topic: topic.value, qos: Number(qos.value), retain: retain.checked };
    body[encoding.value === 'base64' ? 'payloadBase64' : 'payload'] = payload.value;
    const p = {};
    if (contentType.value) p.contentType = contentType.value;
    if (responseTopic.value) p.responseTopic = responseTopic.value;
    if (correlationData.value) p.correlationData = correlationData.value;
    if (expiry.value !== '') p.messageExpiryInterval = Number(expiry.value);
    if (format.value !== '') p.payloadFormatIndicator = Number(format.value);
    const users = userProps.value.split('\n').map(l => l.trim()).filter(Boolean);
    if (users.length) {
      p.userProperties = {};
      for (const l of users) {
        const eq = l.indexOf('=');
        if (eq < 1) { fail(`user property '${l}' is not name=value`); return; }
        p.userProperties[l.slice(0, eq)] = l.slice(eq + 1);
      }
    }
    if (Object.keys(p).length) body.properties = p;
    try {
      const r = await api('publish', { method: 'POST', body });
      say(`Published to ${r.topic}: ${r.matched} subscriber(s).`);
      reload();
    } catch (e) { fail(e.message); }
  });
  return form;
}

export default {
  render(root, ctx) {
    const filter = h('input', { type: 'text', value: ctx.query.get('filter') || '#', 'data-testid': 'retained-filter' });
    const error = h('p', { class: 'error', 'data-testid': 'retained-error' });
    const result = h('p', { class: 'notice', 'data-testid': 'retained-result', hidden: true });
    const body = h('div');
    const detail = h('div');
    const say = t => { result.hidden = false; result.textContent = t; error.textContent = ''; };
    const fail = t => { error.textContent = t; };
    const load = async () => {
      try {
        const j = await api(`retained?filter=${encodeURIComponent(filter.value || '#')}&limit=1000`);
        clear(body).append(h('p', { class: 'muted', 'data-testid': 'retained-total', 'data-value': j.total }, `${j.total} retained`),
          table('retained-table', [
            { key: 'topic', render: m => h('a', { href: '#', 'data-testid': 'retained-open', onclick: ev => { ev.preventDefault(); clear(detail).append(preview(m)); } }, m.topic) },
            { key: 'bytes', num: true }, { key: 'qos', label: 'QoS', num: true }, { key: 'publishedAt', label: 'Published' },
            ...(ctx.readOnly ? [] : [{ key: '', label: '', render: m => h('button', { class: 'danger', 'data-testid': 'retained-delete', onclick: () => remove(m.topic) }, 'Delete') }]),
          ], j.retained, m => ({ 'data-topic': m.topic })));
      } catch (e) { fail(e.message); }
    };
    const remove = async topic => {
      try {
        await api(`retained/${seg(topic)}`, { method: 'DELETE' });
        say(`Deleted the retained message of ${topic}.`);
        clear(detail);
        load();
      } catch (e) { fail(e.message); }
    };
    const search = h('form', { class: 'inline' }, h('label', {}, 'Filter ', filter), h('button', { type: 'submit' }, 'List'));
    search.addEventListener('submit', ev => { ev.preventDefault(); load(); });
    root.append(h('h1', {}, 'Retained messages'), search, error, result, body, detail);
    if (!ctx.readOnly) root.append(h('h2', {}, 'Publish'), publishForm(say, fail, load));
    load();
  },
};
