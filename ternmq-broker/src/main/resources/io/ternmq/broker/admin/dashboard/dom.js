// Building the page without innerHTML: text is always text (client ids, topics and payloads come from clients).

/** h('div', {class: 'x', 'data-testid': 'y', onclick: fn}, child, ...): an element; children are nodes or text. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** A number for people: 12,345 (a figure's exact value stays in data-value). */
export function fmt(n) {
  if (n === null || n === undefined) return '–';
  return typeof n === 'number' ? n.toLocaleString('en-US', { maximumFractionDigits: 2 }) : String(n);
}

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toLocaleString('en-US', { maximumFractionDigits: 1 })} ${units[i]}`;
}

export function duration(seconds) {
  const d = Math.floor(seconds / 86400), hh = Math.floor(seconds % 86400 / 3600);
  const m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  return (d ? `${d}d ` : '') + (d || hh ? `${hh}h ` : '') + (d || hh || m ? `${m}m ` : '') + `${s}s`;
}

/** A figure card: its value in data-value for tests and scripts. */
export function card(label, testid, value, shown = fmt(value)) {
  return h('div', { class: 'card' }, h('div', { class: 'label' }, label),
    h('div', { class: 'value', 'data-testid': testid, 'data-value': value ?? '' }, shown));
}

/** A table of objects: columns [{key, label, render?, num?}]. */
export function table(testid, columns, rows, rowAttrs = () => ({})) {
  return h('table', { 'data-testid': testid },
    h('thead', {}, h('tr', {}, columns.map(c => h('th', {}, c.label ?? c.key)))),
    h('tbody', {}, rows.map(r => h('tr', rowAttrs(r), columns.map(c => {
      const v = c.render ? c.render(r) : r[c.key];
      return h('td', { class: c.num ? 'num' : null }, v instanceof Node ? v : display(v));
    })))));
}

function display(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return typeof v === 'number' ? fmt(v) : String(v);
}
