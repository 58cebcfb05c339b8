// editor.js is the SQL editor: a textarea over a highlighted copy of its
// text (the overlay technique: the textarea's own text is transparent, the
// caret and selection stay native). Highlighting builds spans with
// textContent only.
import { h } from './dom.js';
import { tokens, statementAt } from './sql.js';

export class Editor {
  constructor({ value = '', onRun }) {
    this.hl = h('pre', { class: 'hl', 'aria-hidden': 'true' });
    this.ta = h('textarea', { id: 'sql', class: 'code', spellcheck: false, autocomplete: 'off', 'aria-label': 'SQL', wrap: 'off', value });
    this.el = h('div', { class: 'editor' }, this.hl, this.ta);
    this.ta.addEventListener('input', () => this.paint());
    this.ta.addEventListener('scroll', () => { this.hl.scrollTop = this.ta.scrollTop; this.hl.scrollLeft = this.ta.scrollLeft; });
    this.ta.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
        e.preventDefault();
        onRun(this.current());
      } else if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        this.ta.setRangeText('  ', this.ta.selectionStart, this.ta.selectionEnd, 'end');
        this.paint();
      }
    });
    this.paint();
  }

  get value() { return this.ta.value; }

  set value(v) { this.ta.value = v; this.paint(); }

  // current is the selection when there is one, else the statement under
  // the cursor.
  current() {
    const { selectionStart: a, selectionEnd: b, value } = this.ta;
    if (b > a && value.slice(a, b).trim()) return value.slice(a, b).trim();
    return statementAt(value, a);
  }

  paint() {
    const frag = document.createDocumentFragment();
    for (const t of tokens(this.ta.value)) {
      frag.append(t.type === 'ws' || t.type === 'punct' ? document.createTextNode(t.text) : h('span', { class: 't-' + t.type }, t.text));
    }
    // A trailing newline needs a character after it to take up a line.
    frag.append(document.createTextNode('\n'));
    this.hl.replaceChildren(frag);
  }
}
