// prom.js reads sqlgate's /metrics (Prometheus text format 0.0.4).

// parse returns [{name, labels, value}] for every sample line.
export function parse(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      for (const lm of m[3].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

export async function scrape() {
  const res = await fetch('/metrics', { cache: 'no-store' });
  if (!res.ok) throw new Error('GET /metrics: HTTP ' + res.status);
  return { at: performance.now() / 1000, samples: parse(await res.text()) };
}

// sum adds the samples named name that match filter(labels).
export function sum(samples, name, filter = () => true) {
  let s = 0;
  for (const x of samples) if (x.name === name && filter(x.labels)) s += x.value;
  return s;
}

// families lists the distinct metric names ending in suffix.
export function families(samples, suffix) {
  return [...new Set(samples.filter((x) => x.name.endsWith(suffix)).map((x) => x.name.slice(0, -suffix.length)))];
}

// buckets returns the cumulative bucket counts of histogram base, summed
// over every label set: [[le, count]] sorted by le.
export function buckets(samples, base) {
  const m = new Map();
  for (const x of samples) {
    if (x.name !== base + '_bucket') continue;
    const le = x.labels.le === '+Inf' ? Infinity : Number(x.labels.le);
    m.set(le, (m.get(le) || 0) + x.value);
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
}

// quantile estimates quantile q from bucket deltas (between two scrapes),
// interpolating linearly inside the bucket as Prometheus does. It returns
// NaN when nothing was observed.
export function quantile(q, prev, cur) {
  const before = new Map(prev);
  const deltas = cur.map(([le, c]) => [le, c - (before.get(le) || 0)]);
  const total = deltas.length ? deltas[deltas.length - 1][1] : 0;
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let lo = 0;
  let loCount = 0;
  for (const [le, c] of deltas) {
    if (c >= rank) {
      if (le === Infinity) return lo;
      return lo + (le - lo) * ((rank - loCount) / Math.max(c - loCount, 1e-9));
    }
    lo = le;
    loCount = c;
  }
  return lo;
}
