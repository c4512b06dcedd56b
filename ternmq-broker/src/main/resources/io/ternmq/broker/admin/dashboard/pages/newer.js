// Pages over endpoints newer than the first admin API (issue 14 §4): each shows "not available on this broker"
// while the broker answers 404 for its path, and lights up once the broker serves it.
import { h, clear, anyJson } from '../dom.js';
import { api } from '../api.js';

export function unavailable(path) {
  return h('div', { class: 'unavailable', 'data-testid': 'unavailable', 'data-endpoint': path },
    h('strong', {}, 'Not available on this broker. '),
    `It does not serve /api/v1/${path} (a broker of an earlier version).`);
}

/** A read-only page showing what GET /api/v1/{path} answers, refreshed every few seconds. */
function endpointPage(title, path, intro, refreshMillis = 5000) {
  return {
    render(root) {
      const body = h('div', { 'data-testid': 'endpoint-body' });
      const error = h('p', { class: 'error' });
      root.append(h('h1', {}, title), h('p', { class: 'muted' }, intro), error, body);
      let timer = null;
      let stopped = false;
      const load = async () => {
        try {
          const j = await api(path);
          if (stopped) return;
          error.textContent = '';
          clear(body).append(anyJson(`${path}-table`, j));
        } catch (e) {
          if (stopped) return;
          if (e.notAvailable) {
            clear(body).append(unavailable(path));
            clearInterval(timer);
          } else {
            error.textContent = e.message;
          }
        }
      };
      load();
      timer = setInterval(load, refreshMillis);
      return () => { stopped = true; clearInterval(timer); };
    },
  };
}

export const topics = endpointPage('Topics', 'topics', 'Topics with subscribers or retained messages.');
export const alarms = endpointPage('Alarms', 'alarms',
  'Raised when heap use passes 85 %, connections 90 % of the maximum, a certificate expires within 30 days, or the store\'s sync p99 passes 100 ms.', 2000);
export const slowSubscribers = endpointPage('Slow subscribers', 'slow-subscribers',
  'Sessions falling behind: messages queued, a full in-flight window, seconds their connection could not be written.', 2000);
export const topicMetrics = endpointPage('Topic metrics', 'topic-metrics', 'Message and byte counts of up to 64 chosen topics.');
export const systree = endpointPage('$SYS', 'systree', 'The broker\'s $SYS topics, as Mosquitto 2.1 serves them.');
