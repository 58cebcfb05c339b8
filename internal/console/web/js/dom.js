// dom.js builds elements. User data only ever becomes text nodes or
// properties: there is no innerHTML anywhere in the console.

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'readOnly', 'hidden', 'multiple', 'spellcheck', 'rows']);

// h(tag, props, ...children): strings and numbers become text nodes,
// null/false children are skipped, arrays are flattened.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'innerHTML' || k === 'outerHTML') throw new Error('BUG: no HTML strings');
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  add(el, children);
  return el;
}

// add appends children (see h) to el.
export function add(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// set replaces el's children.
export function set(el, ...children) {
  el.replaceChildren();
  return add(el, ...children);
}

// msg is a status line: kind is "error", "ok" or "info".
export function msg(kind, text, extra) {
  return h('div', { class: 'msg ' + kind, role: kind === 'error' ? 'alert' : 'status' }, text, extra);
}

// errorMsg shows an API error: its code and the service's message.
export function errorMsg(err) {
  const code = err && err.code ? err.code + ': ' : '';
  return msg('error', code + (err && err.message ? err.message : String(err)));
}

export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), input, hint ? h('small', { class: 'muted' }, hint) : null);
}

export function button(text, onClick, props = {}) {
  return h('button', { type: 'button', ...props, onclick: onClick }, text);
}

// table renders rows (arrays of cells: string, number or Node) under heads.
export function table(heads, rows, props = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', props,
      h('thead', null, h('tr', null, heads.map((x) => h('th', null, x)))),
      h('tbody', null, rows.length ? rows.map((r) => h('tr', null, r.map((c) => h('td', null, c))))
        : h('tr', null, h('td', { colspan: heads.length, class: 'muted' }, 'None')))));
}

// download saves text as a file.
export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// busy disables a button while promise runs.
export async function busy(btn, fn) {
  btn.disabled = true;
  try { return await fn(); } finally { btn.disabled = false; }
}

// store is localStorage JSON with a default.
export const store = {
  get(key, def) {
    try { const v = JSON.parse(localStorage.getItem('sqlgate.' + key)); return v ?? def; } catch { return def; }
  },
  set(key, v) { localStorage.setItem('sqlgate.' + key, JSON.stringify(v)); },
};
