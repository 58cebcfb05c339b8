// grid.js renders a Data API result set: column names with their types
// from columnMetadata, NULL shown distinctly, pages of rows (only one page
// is in the DOM, so large results never freeze the page) and CSV/JSON
// export of the whole result.
import { h, set, button, download } from './dom.js';

// value turns one Data API Field into a plain JS value (null for isNull).
export function value(f) {
  if (!f || f.isNull) return null;
  if ('stringValue' in f) return f.stringValue;
  if ('longValue' in f) return f.longValue;
  if ('doubleValue' in f) return f.doubleValue;
  if ('booleanValue' in f) return f.booleanValue;
  if ('blobValue' in f) return { blob: f.blobValue };
  if ('arrayValue' in f) return arrayValue(f.arrayValue);
  return null;
}

function arrayValue(a) {
  for (const k of ['stringValues', 'longValues', 'doubleValues', 'booleanValues']) if (a[k]) return a[k];
  if (a.arrayValues) return a.arrayValues.map(arrayValue);
  return [];
}

// text renders a value for a cell or CSV.
export function text(v) {
  if (v === null) return 'NULL';
  if (typeof v === 'object' && v.blob !== undefined) return 'base64:' + v.blob;
  if (Array.isArray(v)) return JSON.stringify(v);
  return String(v);
}

const PAGE_SIZES = [50, 100, 500];

// Grid shows one result. columns: [{name, typeName}], rows: [[value]].
export class Grid {
  constructor(columns, rows) {
    this.columns = columns;
    this.rows = rows;
    this.page = 0;
    this.size = 100;
    this.el = h('div', { class: 'grid' });
    this.body = h('div', { class: 'table-wrap grid-body' });
    this.pager = h('div', { class: 'pager' });
    this.el.append(this.pager, this.body);
    this.draw();
  }

  pages() { return Math.max(1, Math.ceil(this.rows.length / this.size)); }

  draw() {
    const from = this.page * this.size;
    const slice = this.rows.slice(from, from + this.size);
    const head = h('tr', null, h('th', { class: 'rownum' }, '#'), this.columns.map((c) =>
      h('th', { title: c.typeName || '' }, h('div', { class: 'col-name' }, c.name || c.label || '?'),
        h('div', { class: 'col-type' }, (c.typeName || '').toLowerCase()))));
    const body = slice.map((r, i) => h('tr', null, h('td', { class: 'rownum' }, from + i + 1), r.map((v) =>
      v === null ? h('td', { class: 'null' }, 'NULL') : h('td', { class: typeof v === 'number' ? 'num' : null }, text(v)))));
    set(this.body, h('table', { class: 'results' }, h('thead', null, head), h('tbody', null, body)));
    const sizeSel = h('select', { 'aria-label': 'Rows per page', onchange: (e) => { this.size = +e.target.value; this.page = 0; this.draw(); } },
      PAGE_SIZES.map((n) => h('option', { value: String(n), selected: n === this.size }, n + ' / page')));
    set(this.pager,
      button('‹ Prev', () => { this.page--; this.draw(); }, { disabled: this.page === 0, class: 'small' }),
      h('span', { class: 'page-no' }, `Page ${this.page + 1} of ${this.pages()}`),
      button('Next ›', () => { this.page++; this.draw(); }, { disabled: this.page >= this.pages() - 1, class: 'small' }),
      sizeSel,
      h('span', { class: 'spacer' }),
      button('Export CSV', () => download('result.csv', 'text/csv', this.csv()), { class: 'small', id: 'export-csv' }),
      button('Export JSON', () => download('result.json', 'application/json', this.json()), { class: 'small', id: 'export-json' }));
  }

  csv() {
    const q = (s) => (/[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s);
    const lines = [this.columns.map((c) => q(c.name || '')).join(',')];
    for (const r of this.rows) lines.push(r.map((v) => (v === null ? '' : q(text(v)))).join(','));
    return lines.join('\r\n') + '\r\n';
  }

  json() {
    const names = this.columns.map((c) => c.name);
    return JSON.stringify(this.rows.map((r) => Object.fromEntries(r.map((v, i) => [names[i], v]))), null, 2);
  }
}
