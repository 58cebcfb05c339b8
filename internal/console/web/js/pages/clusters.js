// Clusters: configuration and live connection budget of every cluster the
// principal may describe (rds:DescribeDBClusters), plus proxy pinning from
// /metrics when a proxy exports it.
import * as api from '../api.js';
import { h, set, add, errorMsg, table } from '../dom.js';
import * as prom from '../prom.js';

const PERIOD_MS = 3000;
let timer = null;

export function stop() { clearInterval(timer); timer = null; }

function budget(c) {
  const pct = (n) => (c.maxConnections ? Math.min(100, (100 * n) / c.maxConnections) : 0);
  const bar = h('div', { class: 'budget-bar', title: `${c.busy} busy, ${c.idle} idle of ${c.maxConnections}` },
    h('span', { class: 'busy' }), h('span', { class: 'idle' }));
  bar.children[0].style.width = pct(c.busy) + '%';
  bar.children[1].style.width = pct(c.idle) + '%';
  return h('div', { class: 'budget' }, bar,
    h('small', null, `${c.busy} busy · ${c.idle} idle · ${c.waiting} waiting · max ${c.maxConnections}`));
}

function pinning(samples, name) {
  const now = prom.sum(samples, 'sqlgate_proxy_pinned_sessions', (l) => l.cluster === name);
  const reasons = samples.filter((x) => x.name === 'sqlgate_proxy_session_pins_total' && x.labels.cluster === name && x.value > 0)
    .map((x) => `${x.labels.reason}: ${x.value}`);
  return h('div', null, `${now} pinned now`, reasons.length ? h('small', { class: 'muted block' }, 'since start — ' + reasons.join(', ')) : null);
}

export function render(root) {
  const body = h('div', { id: 'c-body' });
  add(root, h('div', { class: 'page-head' }, h('h1', null, 'Clusters'),
    h('span', { class: 'muted' }, `Refreshes every ${PERIOD_MS / 1000} s`)), body);
  async function tick() {
    let cls;
    try {
      cls = await api.clusters();
    } catch (e) {
      stop();
      set(body, errorMsg(e));
      return;
    }
    let samples = [];
    try { samples = (await prom.scrape()).samples; } catch { /* metrics optional */ }
    const hasProxyMetrics = samples.some((x) => x.name.startsWith('sqlgate_proxy_'));
    set(body, table(['Cluster', 'Engine', 'Address', 'Data API', 'Proxy endpoint', 'Connection budget', 'Pinned sessions'],
      cls.map((c) => [
        h('div', null, h('strong', null, c.name), h('small', { class: 'muted block code' }, c.arn)),
        c.engine,
        h('span', { class: 'code' }, c.address + (c.database ? ' / ' + c.database : '')),
        h('span', { class: c.dataApi ? 'badge on' : 'badge off' }, c.dataApi ? 'enabled' : 'disabled'),
        c.proxy ? h('div', null, h('span', { class: 'code' }, c.proxy.listen),
          h('small', { class: 'muted block' }, `IAM auth ${c.proxy.iamAuth || 'optional'}${c.proxy.requireTls ? ' · TLS required' : ''}`)) : h('span', { class: 'muted' }, 'none'),
        budget(c),
        c.proxy ? (hasProxyMetrics ? pinning(samples, c.name) : h('span', { class: 'muted' }, 'no proxy metrics')) : h('span', { class: 'muted' }, '–'),
      ]), { id: 'clusters-table' }));
  }
  stop();
  tick();
  timer = setInterval(tick, PERIOD_MS);
}
