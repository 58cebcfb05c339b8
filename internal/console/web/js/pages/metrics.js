// Metrics: live charts from sqlgate's Prometheus metrics (/metrics):
// request and error rates of every *_total counter, latency percentiles of
// every histogram (the Data API, and the proxies and endpoints when they
// export theirs), and the pools' connections.
import { h, set, add, msg } from '../dom.js';
import { Chart } from '../chart.js';
import * as prom from '../prom.js';

const PERIOD_MS = 2000;
let timer = null;

export function stop() { clearInterval(timer); timer = null; }

const AREAS = { dataapi: 'Data API', proxy: 'Proxy', endpoint: 'Endpoints', endpoints: 'Endpoints', pool: 'Pool' };

// title turns sqlgate_dataapi_request_duration_seconds into
// "Data API request duration".
function title(base) {
  const parts = base.replace(/^sqlgate_/, '').replace(/_(seconds|bytes)$/, '').split('_');
  const area = AREAS[parts[0]];
  return (area ? [area, ...parts.slice(1)] : parts).join(' ');
}

export function render(root) {
  const grid = h('div', { class: 'charts', id: 'm-charts' });
  const state = h('div', { id: 'm-state' });
  add(root, h('div', { class: 'page-head' }, h('h1', null, 'Metrics'),
    h('span', { class: 'muted' }, `Live from /metrics every ${PERIOD_MS / 1000} s`)), state, grid);
  const charts = new Map(); // key → {chart, update(prev, cur, dt)}
  let prev = null;

  function ensure(key, make) {
    if (!charts.has(key)) {
      const c = make();
      charts.set(key, c);
      grid.append(c.chart.el);
    }
    return charts.get(key);
  }

  async function tick() {
    let cur;
    try {
      cur = await prom.scrape();
      set(state);
    } catch (e) {
      set(state, msg('error', String(e.message || e)));
      return;
    }
    const s = cur.samples;
    if (prev) {
      const dt = Math.max(cur.at - prev.at, 1e-3);
      // Counters: rate, and the error rate when an outcome label exists.
      const counters = prom.families(s, '_total').sort((a, b) => (a.includes('dataapi') ? -1 : 0) - (b.includes('dataapi') ? -1 : 0));
      for (const base of counters) {
        const name = base + '_total';
        const hasOutcome = s.some((x) => x.name === name && 'outcome' in x.labels);
        const isErr = /error|fail/.test(base);
        const series = hasOutcome ? ['all', 'errors'] : [isErr ? 'errors' : 'rate'];
        const c = ensure('c:' + base, () => ({ chart: new Chart(title(base) + ' per second', '/s', series) }));
        const rate = (f) => Math.max(0, (prom.sum(s, name, f) - prom.sum(prev.samples, name, f)) / dt);
        c.chart.push(hasOutcome ? [rate(() => true), rate((l) => l.outcome !== 'OK')] : [rate(() => true)]);
      }
      // Histograms: percentiles over the last period.
      for (const base of prom.families(s, '_bucket')) {
        const c = ensure('h:' + base, () => ({ chart: new Chart(title(base) + ' (percentiles)', 's', ['p50', 'p95', 'p99']) }));
        const a = prom.buckets(prev.samples, base);
        const b = prom.buckets(s, base);
        c.chart.push([0.5, 0.95, 0.99].map((q) => prom.quantile(q, a, b)));
      }
      // Pool connections.
      if (s.some((x) => x.name === 'sqlgate_pool_connections')) {
        const c = ensure('pool', () => ({ chart: new Chart('Backend connections (all clusters)', '', ['busy', 'idle', 'waiting']) }));
        c.chart.push([
          prom.sum(s, 'sqlgate_pool_connections', (l) => l.state === 'busy'),
          prom.sum(s, 'sqlgate_pool_connections', (l) => l.state === 'idle'),
          prom.sum(s, 'sqlgate_pool_waiting'),
        ]);
      }
      if (!charts.size) set(state, msg('info', 'No metrics yet.'));
    } else {
      set(state, msg('info', 'Collecting…'));
    }
    prev = cur;
  }
  stop();
  tick();
  timer = setInterval(tick, PERIOD_MS);
}
