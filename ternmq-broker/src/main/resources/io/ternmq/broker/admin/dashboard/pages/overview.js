// Overview: the broker at a glance (status) and the last 15 minutes, second by second (metrics/history).
import { h, clear, card, bytes, duration } from '../dom.js';
import { api } from '../api.js';
import { History, Chart, DROP_REASONS } from '../history.js';

const MB = v => v / 1048576;

export default {
  render(root) {
    const cards = h('div', { class: 'cards', 'data-testid': 'overview-cards' });
    const error = h('p', { class: 'error', 'data-testid': 'overview-error' });
    const charts = h('div', { class: 'charts', 'data-testid': 'overview-charts' });
    root.append(h('h1', {}, 'Overview'), error, cards, h('h2', {}, 'Last 15 minutes'), charts);
    const history = new History();
    let status = null;
    let plots = null;
    let stopped = false;

    const drawCards = () => {
      if (!status) return;
      const heap = history.latest('heapUsed');
      clear(cards).append(
        card('Version', 'version', status.version),
        card('Uptime', 'uptime', status.uptimeSeconds, duration(status.uptimeSeconds)),
        card('Clients connected', 'clients-connected', status.clientsConnected),
        card('Connections', 'connections', status.connections),
        card('Peak clients', 'clients-peak', status.clientsMaximum),
        card('Sessions', 'sessions', status.sessions),
        card('Subscriptions', 'subscriptions', status.subscriptions),
        card('Retained', 'retained', status.retained),
        card('Heap used', 'heap', heap, heap === null ? '–' : `${bytes(heap)} of ${bytes(history.heapMaxBytes)}`),
      );
    };

    const makeCharts = () => {
      const box = () => { const d = h('div', { class: 'chart' }); charts.append(d); return d; };
      plots = [
        new Chart(box(), 'Connections', 'chart-connections', [
          { label: 'clients', name: 'clients' }, { label: 'connections', name: 'connections' }], history),
        new Chart(box(), 'PUBLISH / s', 'chart-publish', [
          { label: 'in', name: 'publishIn' }, { label: 'out', name: 'publishOut' }], history),
        new Chart(box(), 'Bytes / s', 'chart-bytes', [
          { label: 'in', name: 'bytesIn' }, { label: 'out', name: 'bytesOut' }], history, { tick: v => bytes(v) }),
        new Chart(box(), 'Drops / s by reason', 'chart-drops',
          DROP_REASONS.map(r => ({ label: r, name: `drops.${r}` })), history),
        new Chart(box(), 'Heap (MiB) and GC (ms / s)', 'chart-heap', [
          { label: 'heap MiB', name: 'heapUsed', map: MB }, { label: 'GC ms', name: 'gcTimeMs', scale: 'right' }], history),
        new Chart(box(), 'Store sync p99 (ms)', 'chart-sync', [{ label: 'p99 ms', name: 'syncP99Ms' }], history),
      ];
    };

    const tick = async () => {
      try {
        const [s, grew] = await Promise.all([api('status'), history.refresh()]);
        if (stopped) return;
        status = s;
        error.textContent = '';
        drawCards();
        if (!plots) makeCharts();
        else if (grew) plots.forEach(p => p.update());
      } catch (e) {
        if (!stopped) error.textContent = e.message;
      }
    };
    tick();
    const timer = setInterval(tick, 1000);
    const resized = () => plots?.forEach(p => p.resize());
    window.addEventListener('resize', resized);
    return () => {
      stopped = true;
      clearInterval(timer);
      window.removeEventListener('resize', resized);
      plots?.forEach(p => p.destroy());
    };
  },
};
