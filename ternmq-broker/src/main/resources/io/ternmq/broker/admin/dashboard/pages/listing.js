// A page over one listing of the API: a table refreshed every few seconds and, for endpoints that page, the
// cursor/next paging of the Clients page (the page shown is re-read with its own cursor on each refresh).
import { h, clear, table } from '../dom.js';
import { api } from '../api.js';

/**
 * Renders into `root`: options {path, key (the answer's list), columns, testid, rowAttrs, empty (text when the list
 * is empty), paged, refreshMillis, search ({param, placeholder}: a text field sent as that query parameter),
 * nodes (a choice of the cluster's nodes, sent as node=; the nodes that did not answer are named above the table),
 * above (nodes between the title and the table), onLoad (called with the answer)}. Returns {cleanup, reload}.
 */
export function listing(root, title, intro, o) {
  const error = h('p', { class: 'error', 'data-testid': `${o.testid}-error` });
  const body = h('div');
  const pager = h('div', { class: 'toolbar' });
  let cursors = [''];
  let stopped = false;
  const field = o.search ? h('input', { type: 'text', placeholder: o.search.placeholder, 'data-testid': `${o.testid}-like` }) : null;
  const node = o.nodes ? nodeSelect(`${o.testid}-node`) : null;

  const load = async () => {
    const q = new URLSearchParams();
    if (o.paged) q.set('limit', String(o.limit ?? 100));
    if (field?.value) q.set(o.search.param, field.value);
    if (node?.value) q.set('node', node.value);
    if (cursors[cursors.length - 1]) q.set('cursor', cursors[cursors.length - 1]);
    try {
      const j = await api(q.toString() ? `${o.path}?${q}` : o.path);
      if (stopped) return;
      error.textContent = '';
      const rows = j[o.key] ?? [];
      clear(body).append(...unanswered(j, o.testid), rows.length === 0
        ? h('p', { class: 'muted', 'data-testid': `${o.testid}-empty` }, o.empty)
        : table(o.testid, o.columns, rows, o.rowAttrs));
      o.onLoad?.(j);
      if (o.paged) {
        clear(pager).append(
          h('button', { class: 'secondary', disabled: cursors.length === 1, 'data-testid': `${o.testid}-first`, onclick: () => { cursors = ['']; load(); } }, 'First page'),
          h('span', { class: 'muted', 'data-testid': `${o.testid}-page`, 'data-value': cursors.length }, `page ${cursors.length}`),
          h('button', { class: 'secondary', disabled: !j.next, 'data-testid': `${o.testid}-next`, onclick: () => { cursors.push(j.next); load(); } }, 'Next page'));
      }
    } catch (e) {
      if (!stopped) error.textContent = e.message;
    }
  };

  root.append(h('h1', {}, title), h('p', { class: 'muted' }, intro));
  if (field || node) {
    const form = h('form', { class: 'inline', 'data-testid': `${o.testid}-search` }, field, node,
      h('button', { type: 'submit', 'data-testid': `${o.testid}-search-submit` }, field ? 'Search' : 'Show'));
    form.addEventListener('submit', ev => { ev.preventDefault(); cursors = ['']; load(); });
    node?.addEventListener('change', () => { cursors = ['']; load(); });
    root.append(form);
  }
  root.append(...(o.above ?? []), error, body, pager);
  load();
  const timer = setInterval(load, o.refreshMillis ?? 5000);
  return { cleanup: () => { stopped = true; clearInterval(timer); }, reload: load, error };
}

/** A choice of the cluster's nodes for a listing's node= (filled once; a single node lists itself): '' is every node. */
export function nodeSelect(testid) {
  const node = h('select', { 'data-testid': testid }, h('option', { value: '' }, 'every node'));
  api('nodes').then(j => node.append(...j.nodes.map(n => h('option', { value: n.node }, n.node + (n.self ? ' (this node)' : ''))))).catch(() => {});
  return node;
}

/** The nodes of the cluster that did not answer a listing in time (their rows are missing), as a warning; or none. */
export function unanswered(j, testid) {
  const missing = (j.unanswered ?? []).map(u => `node ${u.node}: ${u.error}`).join('; ');
  return missing ? [h('p', { class: 'error', 'data-testid': `${testid}-unanswered` }, `Missing, did not answer: ${missing}`)] : [];
}

/** A node's id in a table cell, in data-value for tests and scripts. */
export function nodeCell(testid, node) {
  return h('span', { 'data-testid': testid, 'data-value': node ?? '' }, node ?? '');
}

/** A figure in a table cell, its exact value in data-value (for tests and scripts). */
export function figure(testid, value, shown) {
  return h('span', { 'data-testid': testid, 'data-value': value ?? '' }, shown ?? (value ?? '–').toLocaleString('en-US'));
}
