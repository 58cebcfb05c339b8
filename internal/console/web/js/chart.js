// chart.js draws small live line charts in <canvas>.
import { h } from './dom.js';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

// Chart keeps the last `keep` points of each series and redraws on push.
export class Chart {
  constructor(title, unit, seriesNames, keep = 90) {
    this.unit = unit;
    this.names = seriesNames;
    this.keep = keep;
    this.data = seriesNames.map(() => []);
    this.canvas = h('canvas', { width: 600, height: 220, 'aria-label': title, role: 'img' });
    this.legend = h('div', { class: 'legend' }, seriesNames.map((n, i) => h('span', null, h('i', { class: 'swatch s' + i }), n)));
    this.latest = h('div', { class: 'latest' });
    this.el = h('div', { class: 'card chart' }, h('h3', null, title), this.canvas, this.legend, this.latest);
  }

  push(values) {
    values.forEach((v, i) => {
      this.data[i].push(Number.isFinite(v) ? v : null);
      if (this.data[i].length > this.keep) this.data[i].shift();
    });
    this.latest.textContent = this.names.map((n, i) => `${n}: ${fmt(values[i], this.unit)}`).join(' · ');
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth || 600;
    const hgt = c.clientHeight || 220;
    if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(hgt * dpr); }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    const padL = 56, padB = 18, padT = 8, padR = 8;
    const all = this.data.flat().filter((v) => v !== null);
    const max = niceMax(Math.max(this.unit === 's' ? 1e-3 : 1, ...all));
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#6b7280';
    g.strokeStyle = '#e5e7eb';
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = padT + (hgt - padT - padB) * (1 - i / 4);
      g.beginPath(); g.moveTo(padL, y); g.lineTo(w - padR, y); g.stroke();
      g.fillText(fmt((max * i) / 4, this.unit), 4, y + 4);
    }
    const xs = (w - padL - padR) / Math.max(1, this.keep - 1);
    this.data.forEach((series, si) => {
      g.strokeStyle = g.fillStyle = COLORS[si % COLORS.length];
      g.lineWidth = 2;
      g.beginPath();
      let pen = false;
      const off = this.keep - series.length;
      series.forEach((v, i) => {
        if (v === null) { pen = false; return; }
        const x = padL + (off + i) * xs;
        const y = padT + (hgt - padT - padB) * (1 - v / max);
        if (pen) g.lineTo(x, y); else { g.moveTo(x, y); g.fillRect(x - 1.5, y - 1.5, 3, 3); }
        pen = true;
      });
      g.stroke();
    });
    g.fillStyle = '#6b7280';
    g.fillText('last ' + this.keep * 2 + ' s', w - padR - 60, hgt - 4);
  }
}

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function fmt(v, unit) {
  if (!Number.isFinite(v)) return '–';
  if (unit === 's') {
    if (v < 1e-3) return (v * 1e6).toFixed(0) + ' µs';
    if (v < 1) return (v * 1e3).toFixed(v < 0.01 ? 2 : 1) + ' ms';
    return v.toFixed(2) + ' s';
  }
  if (unit === '/s') return (v < 10 ? v.toFixed(2) : v.toFixed(0)) + '/s';
  return v < 10 && v % 1 ? v.toFixed(2) : String(Math.round(v));
}
