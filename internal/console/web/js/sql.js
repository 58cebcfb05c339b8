// sql.js tokenizes SQL for the editor: highlighting and finding the
// statement under the cursor. It is a lexer, not a parser: strings,
// quoted identifiers and comments are recognised so that a ';' inside them
// does not split statements.

const KEYWORDS = new Set(`add all alter and any as asc auto_increment begin between by case cascade check column commit
constraint create cross current_date current_timestamp database databases default delete desc describe distinct drop else end
exists explain false foreign from full grant group having if in index inner insert into is join key left like limit not null
offset on or order outer primary references rename replace returning revoke right rollback schema select set show table tables
then to transaction true truncate union unique update use using values view when where with int integer bigint smallint tinyint
varchar char text blob boolean bool date time timestamp datetime decimal numeric float double real serial json jsonb uuid
unsigned engine charset collate interval count sum avg min max coalesce cast`.split(/\s+/));

// tokens splits src into [{type, text, start}] covering every character.
// type: kw, ident, str, num, comment, ws, punct.
export function tokens(src) {
  const out = [];
  let i = 0;
  const n = src.length;
  const push = (type, end) => { out.push({ type, text: src.slice(i, end), start: i }); i = end; };
  while (i < n) {
    const c = src[i];
    const c2 = src.slice(i, i + 2);
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < n && /\s/.test(src[j])) j++;
      push('ws', j);
    } else if (c2 === '--' || c === '#') {
      let j = src.indexOf('\n', i);
      push('comment', j < 0 ? n : j);
    } else if (c2 === '/*') {
      const j = src.indexOf('*/', i + 2);
      push('comment', j < 0 ? n : j + 2);
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < n) {
        if (src[j] === '\\' && c !== '`') { j += 2; continue; }
        if (src[j] === c) {
          if (src[j + 1] === c) { j += 2; continue; }
          j++;
          break;
        }
        j++;
      }
      push(c === "'" ? 'str' : 'ident', Math.min(j, n));
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] || ''))) {
      let j = i + 1;
      while (j < n && /[0-9a-fA-FxX._eE]/.test(src[j])) j++;
      push('num', j);
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(src[j])) j++;
      push(KEYWORDS.has(src.slice(i, j).toLowerCase()) ? 'kw' : 'ident', j);
    } else {
      push('punct', i + 1);
    }
  }
  return out;
}

// statements splits src at top-level semicolons: [{start, end, text}],
// end excluding the ';'. Blank statements (only spaces and comments) are
// marked blank.
export function statements(src) {
  const out = [];
  let start = 0;
  let blank = true;
  for (const t of tokens(src)) {
    if (t.type === 'punct' && t.text === ';') {
      out.push({ start, end: t.start, text: src.slice(start, t.start).trim(), blank });
      start = t.start + 1;
      blank = true;
    } else if (t.type !== 'ws' && t.type !== 'comment') {
      blank = false;
    }
  }
  out.push({ start, end: src.length, text: src.slice(start).trim(), blank });
  return out;
}

// statementAt returns the statement text under the cursor at pos: the one
// containing it, or the nearest non-blank one before it (the cursor just
// after a ';').
export function statementAt(src, pos) {
  const all = statements(src);
  let idx = all.findIndex((s) => pos >= s.start && pos <= s.end);
  if (idx < 0) idx = all.length - 1;
  while (idx > 0 && all[idx].blank) idx--;
  if (all[idx].blank) idx = all.findIndex((s) => !s.blank);
  return idx < 0 ? '' : all[idx].text;
}

// runnable returns every non-blank statement's text, in order.
export function runnable(src) {
  return statements(src).filter((s) => !s.blank).map((s) => s.text);
}
