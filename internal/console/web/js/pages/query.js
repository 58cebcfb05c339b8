// The Query Editor: pick cluster, secret and database, run SQL through the
// Data API as the signed-in principal, see the result grid.
import * as api from '../api.js';
import { h, set, add, msg, errorMsg, field, button, store } from '../dom.js';
import { Editor } from '../editor.js';
import { Grid, value } from '../grid.js';
import { runnable } from '../sql.js';

const MAX_HISTORY = 200;

export function render(root) {
  const conn = store.get('conn', {});
  const clusterIn = h('input', { id: 'q-cluster', list: 'q-clusters', value: conn.cluster || '', placeholder: 'arn:aws:rds:…:cluster:NAME', spellcheck: false });
  const secretIn = h('input', { id: 'q-secret', list: 'q-secrets', value: conn.secret || '', placeholder: 'secret name or ARN', spellcheck: false });
  const dbIn = h('input', { id: 'q-database', value: conn.database || '', placeholder: '(cluster default)', spellcheck: false });
  const clusterList = h('datalist', { id: 'q-clusters' });
  const secretList = h('datalist', { id: 'q-secrets' });
  const connHint = h('div', { class: 'hint' });
  const newSecretBox = h('div', { class: 'inline-form', hidden: true });
  const saveConn = () => store.set('conn', { cluster: clusterIn.value.trim(), secret: secretIn.value.trim(), database: dbIn.value.trim() });
  for (const el of [clusterIn, secretIn, dbIn]) el.addEventListener('change', saveConn);

  const out = h('div', { class: 'results-area', id: 'q-results', 'aria-live': 'polite' });
  const status = h('div', { class: 'status-line', id: 'q-status' });
  const editor = new Editor({ value: store.get('draft', 'SELECT 1;\n'), onRun: (sql) => run([sql]) });
  editor.ta.addEventListener('input', () => store.set('draft', editor.value));

  // Transaction mode.
  let txId = '';
  const txState = h('span', { class: 'tx-state', id: 'q-tx' }, 'Auto-commit');
  const beginBtn = button('Begin', () => tx('BeginTransaction'), { id: 'q-begin', class: 'small' });
  const commitBtn = button('Commit', () => tx('CommitTransaction'), { id: 'q-commit', class: 'small', disabled: true });
  const rollbackBtn = button('Rollback', () => tx('RollbackTransaction'), { id: 'q-rollback', class: 'small', disabled: true });
  function setTx(id) {
    txId = id;
    txState.textContent = id ? 'In transaction ' + id.slice(0, 12) + '…' : 'Auto-commit';
    txState.classList.toggle('on', !!id);
    beginBtn.disabled = !!id;
    commitBtn.disabled = rollbackBtn.disabled = !id;
  }
  async function tx(action) {
    const target = connection();
    if (!target) return;
    try {
      if (action === 'BeginTransaction') {
        const r = await api.data(action, { resourceArn: target.resourceArn, secretArn: target.secretArn, database: target.database || undefined });
        setTx(r.transactionId);
        set(status, msg('info', 'Transaction started. Statements run in it until Commit or Rollback.'));
      } else {
        const r = await api.data(action, { resourceArn: target.resourceArn, secretArn: target.secretArn, transactionId: txId });
        setTx('');
        set(status, msg('ok', r.transactionStatus || (action === 'CommitTransaction' ? 'Transaction Committed' : 'Rollback Complete')));
      }
    } catch (e) {
      if (e.code === 'NotFoundException' || e.code === 'BadRequestException') setTx('');
      set(status, errorMsg(e));
    }
  }

  function connection() {
    const resourceArn = clusterIn.value.trim();
    const secretArn = secretIn.value.trim();
    if (!resourceArn || !secretArn) {
      set(status, msg('error', 'Choose a cluster and a secret first.'));
      return null;
    }
    saveConn();
    return { resourceArn, secretArn, database: dbIn.value.trim() };
  }

  // Running and cancelling.
  let running = null;
  const runBtn = button('Run', () => run([editor.current()]), { id: 'q-run', class: 'primary', title: 'Ctrl/Cmd+Enter: statement under the cursor, or the selection' });
  // Run all sends the whole script in one request: the server runs it in
  // one session, so a USE or SET holds until the script ends.
  const runAllBtn = button('Run all', () => run(runnable(editor.value), editor.value), { id: 'q-run-all', title: 'Run the whole script in one session' });
  const cancelBtn = button('Cancel', () => running && running.abort(), { id: 'q-cancel', disabled: true });

  // run runs sqls one call each, or, given the script they came from,
  // the script in one call.
  async function run(sqls, script) {
    sqls = sqls.filter((s) => s && s.trim());
    if (!sqls.length || running) return;
    const target = connection();
    if (!target) return;
    running = new AbortController();
    runBtn.disabled = runAllBtn.disabled = true;
    cancelBtn.disabled = false;
    set(status, msg('info', 'Running…'));
    const t0 = performance.now();
    let last = null;
    let done = 0;
    const request = (sql) => {
      const req = { resourceArn: target.resourceArn, secretArn: target.secretArn, sql, includeResultMetadata: true };
      if (target.database) req.database = target.database;
      if (txId) req.transactionId = txId;
      return req;
    };
    try {
      if (script !== undefined && sqls.length > 1) {
        addHistory(script.trim());
        last = await api.script(request(script), running.signal);
        done = last.statements || sqls.length;
      } else {
        for (const sql of sqls) {
          addHistory(sql);
          last = await api.data('Execute', request(sql), running.signal);
          done++;
        }
      }
      show(last, done, performance.now() - t0);
    } catch (e) {
      if (e.detail && e.detail.failedStatement) done = e.detail.failedStatement - 1;
      const ms = Math.round(performance.now() - t0);
      const total = (e.detail && e.detail.statements) || sqls.length;
      const where = total > 1 ? ` (statement ${done + 1} of ${total})` : '';
      set(out);
      set(status, e.name === 'AbortError' ? msg('info', `Cancelled after ${ms} ms${where}.`) : errorMsg(e), where && e.name !== 'AbortError' ? h('div', { class: 'muted' }, 'Failed at' + where) : null);
      markLastHistory(false);
    } finally {
      running = null;
      runBtn.disabled = runAllBtn.disabled = false;
      cancelBtn.disabled = true;
    }
  }

  function show(r, count, ms) {
    ms = Math.round(ms);
    const n = count > 1 ? `${count} statements · ` : '';
    if (r.columnMetadata && r.records) {
      const rows = r.records.map((rec) => rec.map(value));
      set(out, new Grid(r.columnMetadata, rows).el);
      set(status, msg('ok', `${n}${rows.length} row${rows.length === 1 ? '' : 's'} · ${ms} ms`));
    } else {
      set(out);
      const gen = (r.generatedFields || []).map(value).filter((v) => v !== null);
      set(status, msg('ok', `${n}${r.numberOfRecordsUpdated ?? 0} row(s) affected · ${ms} ms` + (gen.length ? ` · generated: ${gen.join(', ')}` : '')));
    }
  }

  // History (this browser) and saved queries.
  const histList = h('ol', { class: 'history', id: 'q-history' });
  const savedList = h('ul', { class: 'saved', id: 'q-saved' });
  function addHistory(sql) {
    const hist = store.get('history', []);
    const n = (hist[0]?.n || 0) + 1;
    hist.unshift({ n, sql, at: Date.now(), ok: true });
    store.set('history', hist.slice(0, MAX_HISTORY));
    drawHistory();
  }
  function markLastHistory(ok) {
    const hist = store.get('history', []);
    if (hist[0]) hist[0].ok = ok;
    store.set('history', hist);
    drawHistory();
  }
  function drawHistory() {
    set(histList, store.get('history', []).map((e) => h('li', { value: e.n, class: e.ok ? '' : 'failed' },
      h('button', { type: 'button', class: 'link code-snip', title: new Date(e.at).toLocaleString(), onclick: () => { editor.value = e.sql; editor.ta.focus(); } }, e.sql))));
  }
  const saveName = h('input', { id: 'q-save-name', placeholder: 'Name', spellcheck: false });
  function drawSaved() {
    set(savedList, store.get('saved', []).map((s, i) => h('li', null,
      h('button', { type: 'button', class: 'link', title: s.sql, onclick: () => { editor.value = s.sql; } }, s.name),
      button('×', () => { const all = store.get('saved', []); all.splice(i, 1); store.set('saved', all); drawSaved(); }, { class: 'link danger', 'aria-label': 'Delete ' + s.name }))));
  }
  const saveBtn = button('Save query', () => {
    const name = saveName.value.trim() || editor.current().slice(0, 40);
    if (!name) return;
    const all = store.get('saved', []).filter((s) => s.name !== name);
    all.unshift({ name, sql: editor.value });
    store.set('saved', all);
    saveName.value = '';
    drawSaved();
  }, { class: 'small', id: 'q-save' });

  // New secret inline.
  function newSecretForm() {
    const name = h('input', { id: 'ns-name', spellcheck: false, placeholder: 'e.g. maria-app' });
    const user = h('input', { id: 'ns-user', spellcheck: false, autocomplete: 'off' });
    const pass = h('input', { id: 'ns-pass', type: 'password', autocomplete: 'new-password' });
    const res = h('div');
    set(newSecretBox,
      h('h3', null, 'New database secret'),
      h('div', { class: 'row' }, field('Name', name), field('Username', user), field('Password', pass)),
      h('div', { class: 'row' }, button('Create secret', async (e) => {
        try {
          const r = await api.secrets('CreateSecret', { Name: name.value.trim(), SecretString: JSON.stringify({ username: user.value, password: pass.value }) });
          pass.value = '';
          secretIn.value = r.ARN;
          saveConn();
          newSecretBox.hidden = true;
          set(connHint, msg('ok', 'Created secret ' + r.Name + '.'));
          loadPickers();
        } catch (err) { set(res, errorMsg(err)); }
      }, { class: 'primary small', id: 'ns-create' }), button('Close', () => { newSecretBox.hidden = true; }, { class: 'small' })),
      res);
    newSecretBox.hidden = false;
    name.focus();
  }

  async function loadPickers() {
    const hints = [];
    try {
      const cls = await api.clusters();
      set(clusterList, cls.map((c) => h('option', { value: c.arn, label: `${c.name} (${c.engine})` })));
      if (!clusterIn.value && cls.length) { clusterIn.value = cls[0].arn; saveConn(); }
    } catch (e) {
      hints.push(`Cannot list clusters (${e.code}); paste a cluster ARN.`);
    }
    try {
      const r = await api.secrets('ListSecrets', { MaxResults: 100 });
      set(secretList, (r.SecretList || []).map((s) => h('option', { value: s.ARN, label: s.Name })));
    } catch (e) {
      hints.push(`Cannot list secrets (${e.code}); paste a secret ARN.`);
    }
    set(connHint, hints.length ? msg('info', hints.join(' ')) : null);
  }

  add(root,
    h('div', { class: 'page-head' }, h('h1', null, 'Query editor')),
    h('div', { class: 'card conn' },
      h('div', { class: 'row' },
        field('Cluster', clusterIn), field('Secret', secretIn), h('label', { class: 'field narrow' }, h('span', { class: 'label' }, 'Database'), dbIn),
        h('div', { class: 'field end' }, button('New secret', newSecretForm, { id: 'q-new-secret', class: 'small' }))),
      clusterList, secretList, connHint, newSecretBox),
    h('div', { class: 'query-layout' },
      h('div', { class: 'query-main' },
        editor.el,
        h('div', { class: 'toolbar' }, runBtn, runAllBtn, cancelBtn, h('span', { class: 'spacer' }),
          h('span', { class: 'tx' }, txState, beginBtn, commitBtn, rollbackBtn)),
        h('div', { class: 'muted small-print' }, 'Ctrl/Cmd+Enter runs the statement under the cursor, or the selection.'),
        status, out),
      h('aside', { class: 'query-side card' },
        h('h3', null, 'Saved queries'), h('div', { class: 'row tight' }, saveName, saveBtn), savedList,
        h('h3', null, 'History'), histList,
        button('Clear history', () => { store.set('history', []); drawHistory(); }, { class: 'link small' }))));
  drawHistory();
  drawSaved();
  loadPickers();
}
