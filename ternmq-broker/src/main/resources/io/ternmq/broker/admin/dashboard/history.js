// The 15 minutes of 1 s samples behind the plots: fetched whole once, then only the newest seconds each second.
import { api } from './api.js';

export const DROP_REASONS = ['queue_full', 'slow_consumer', 'offline_qos0', 'too_large', 'expired', 'not_authorized', 'cluster_link'];

export class History {
  constructor() {
    this.time = [];          // epoch seconds, for uPlot
    this.series = new Map(); // name -> values, one per time
    this.heapMaxBytes = null;
  }

  /** Fetches what is new; returns whether anything was. */
  async refresh() {
    const first = this.time.length === 0;
    const j = await api(`metrics/history?window=${first ? '15m' : '10s'}`);
    this.heapMaxBytes = j.heapMaxBytes;
    const last = this.time.length ? this.time[this.time.length - 1] : -Infinity;
    let added = 0;
    j.time.forEach((ms, i) => {
      const t = ms / 1000;
      if (t <= last) return;
      this.time.push(t);
      const put = (name, v) => {
        if (!this.series.has(name)) this.series.set(name, []);
        this.series.get(name).push(v);
      };
      for (const [k, v] of Object.entries(j)) {
        if (Array.isArray(v) && k !== 'time') put(k, v[i]);
      }
      for (const [reason, values] of Object.entries(j.drops ?? {})) put(`drops.${reason}`, values[i]);
      added++;
    });
    const extra = this.time.length - 900;
    if (extra > 0) {
      this.time.splice(0, extra);
      for (const v of this.series.values()) v.splice(0, extra);
    }
    return added > 0;
  }

  get(name, map = v => v) {
    return (this.series.get(name) ?? []).map(v => (v === null ? null : map(v)));
  }

  latest(name) {
    const v = this.series.get(name);
    return v && v.length ? v[v.length - 1] : null;
  }
}

const PALETTE = ['#1f5f8b', '#d9822b', '#3a9c5c', '#b3261e', '#7b4fa0', '#8c6d1f', '#2a9d9d'];

/** A uPlot chart of some series of a History; update() redraws it with the newest samples. */
export class Chart {
  constructor(container, title, testid, lines, history, opts = {}) {
    this.history = history;
    this.lines = lines; // [{label, name, map?, scale?}]
    this.container = container;
    const width = Math.max(300, (container.clientWidth || 460) - 16);
    const axes = [{}, { size: 60, values: (u, ticks) => ticks.map(opts.tick ?? (v => v)) }];
    if (lines.some(l => l.scale === 'right')) {
      axes.push({ scale: 'right', side: 1, size: 60, grid: { show: false } });
    }
    const uPlot = window.uPlot;
    this.plot = new uPlot({
      width, height: 200, title,
      scales: { x: { time: true }, right: { auto: true } },
      series: [{}, ...lines.map((l, i) => ({ label: l.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, scale: l.scale ?? 'y', spanGaps: false }))],
      axes,
    }, this.data(), container);
    container.setAttribute('data-testid', testid);
    this.mark();
  }

  data() {
    return [this.history.time.slice(), ...this.lines.map(l => this.history.get(l.name, l.map))];
  }

  mark() {
    this.container.setAttribute('data-points', String(this.history.time.length));
  }

  /** Follows its box's width (the window resized). */
  resize() {
    this.plot.setSize({ width: Math.max(300, (this.container.clientWidth || 460) - 16), height: 200 });
  }

  update() {
    this.plot.setData(this.data());
    this.mark();
  }

  destroy() {
    this.plot.destroy();
  }
}
