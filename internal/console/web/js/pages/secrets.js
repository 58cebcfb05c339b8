// Secrets: list, create, rotate (PutSecretValue), versions and stages.
// A value is fetched (secretsmanager:GetSecretValue) and put in the page
// only when the user clicks Reveal.
import * as api from '../api.js';
import { h, set, add, msg, errorMsg, field, button, table } from '../dom.js';

function when(t) {
  return t ? new Date(t * 1000).toLocaleString() : '';
}

export function render(root) {
  const list = h('div', { id: 's-list' });
  const detail = h('div', { id: 's-detail' });
  const createBox = h('div', { class: 'card', hidden: true, id: 's-create' });
  add(root, h('div', { class: 'page-head' }, h('h1', null, 'Secrets'),
    button('Create secret', () => showCreate(), { id: 's-new', class: 'primary small' })),
  createBox, h('div', { class: 'split' }, list, detail));

  async function load() {
    try {
      const r = await api.secrets('ListSecrets', { MaxResults: 100, IncludePlannedDeletion: true });
      set(list, table(['Name', 'Description', 'Last changed'], (r.SecretList || []).map((s) => [
        button(s.Name, () => open(s.ARN), { class: 'link', dataset: { secret: s.Name } }),
        s.Description || '', when(s.LastChangedDate),
      ]), { id: 'secrets-table' }));
    } catch (e) {
      set(list, errorMsg(e));
    }
  }

  function credsInputs(prefix) {
    const mode = h('select', { id: prefix + '-mode' }, h('option', { value: 'db' }, 'Database login (username + password)'), h('option', { value: 'raw' }, 'Plain text'));
    const user = h('input', { id: prefix + '-user', autocomplete: 'off', spellcheck: false });
    const pass = h('input', { id: prefix + '-pass', type: 'password', autocomplete: 'new-password' });
    const raw = h('textarea', { id: prefix + '-raw', rows: 4, class: 'code', spellcheck: false });
    const dbRow = h('div', { class: 'row' }, field('Username', user), field('Password', pass));
    const rawRow = h('div', { hidden: true }, field('Secret string', raw));
    mode.addEventListener('change', () => { dbRow.hidden = mode.value !== 'db'; rawRow.hidden = mode.value === 'db'; });
    return {
      el: h('div', null, field('Value', mode), dbRow, rawRow),
      value: () => (mode.value === 'db' ? JSON.stringify({ username: user.value, password: pass.value }) : raw.value),
      clear: () => { pass.value = ''; raw.value = ''; },
    };
  }

  function showCreate() {
    const name = h('input', { id: 's-name', spellcheck: false });
    const desc = h('input', { id: 's-desc' });
    const creds = credsInputs('s');
    const out = h('div');
    set(createBox, h('h2', null, 'Create secret'), h('div', { class: 'row' }, field('Name', name), field('Description', desc)), creds.el,
      h('div', { class: 'row' }, button('Create', async () => {
        try {
          const r = await api.secrets('CreateSecret', { Name: name.value.trim(), Description: desc.value || undefined, SecretString: creds.value() });
          creds.clear();
          createBox.hidden = true;
          await load();
          open(r.ARN);
        } catch (e) { set(out, errorMsg(e)); }
      }, { class: 'primary small', id: 's-create-btn' }), button('Cancel', () => { createBox.hidden = true; }, { class: 'small' })), out);
    createBox.hidden = false;
    name.focus();
  }

  async function open(id) {
    set(detail, h('p', { class: 'muted' }, 'Loading…'));
    let d, versions;
    try {
      d = await api.secrets('DescribeSecret', { SecretId: id });
      versions = await api.secrets('ListSecretVersionIds', { SecretId: id, IncludeDeprecated: true });
    } catch (e) {
      set(detail, errorMsg(e));
      return;
    }
    const valueBox = h('div', { class: 'secret-value', id: 's-value' }, h('span', { class: 'muted' }, 'Hidden.'));
    const revealBtn = button('Reveal value', async () => {
      if (revealBtn.dataset.shown) {
        set(valueBox, h('span', { class: 'muted' }, 'Hidden.'));
        revealBtn.textContent = 'Reveal value';
        delete revealBtn.dataset.shown;
        return;
      }
      try {
        const v = await api.secrets('GetSecretValue', { SecretId: d.ARN });
        set(valueBox, h('pre', { class: 'code' }, v.SecretString ?? `(binary, ${atob(v.SecretBinary || '').length} bytes)`));
        revealBtn.textContent = 'Hide value';
        revealBtn.dataset.shown = '1';
      } catch (e) { set(valueBox, errorMsg(e)); }
    }, { id: 's-reveal', class: 'small' });
    const creds = credsInputs('r');
    const rotateOut = h('div');
    const rotateBox = h('div', { class: 'inline-form', hidden: true }, h('h3', null, 'Put a new value (AWSCURRENT)'), creds.el,
      button('Save new version', async () => {
        try {
          await api.secrets('PutSecretValue', { SecretId: d.ARN, SecretString: creds.value() });
          creds.clear();
          open(d.ARN);
        } catch (e) { set(rotateOut, errorMsg(e)); }
      }, { class: 'primary small', id: 'r-save' }), rotateOut);
    const stages = d.VersionIdsToStages || {};
    set(detail, h('div', { class: 'card' },
      h('h2', null, d.Name),
      h('dl', { class: 'props' },
        h('dt', null, 'ARN'), h('dd', { class: 'code' }, d.ARN),
        h('dt', null, 'Description'), h('dd', null, d.Description || '–'),
        h('dt', null, 'Last changed'), h('dd', null, when(d.LastChangedDate)),
        d.DeletedDate ? [h('dt', null, 'Deletion'), h('dd', null, 'scheduled ' + when(d.DeletedDate))] : null),
      h('h3', null, 'Value'), h('div', { class: 'row' }, revealBtn, button('Rotate…', () => { rotateBox.hidden = false; }, { id: 's-rotate', class: 'small' })),
      valueBox, rotateBox,
      h('h3', null, 'Versions'),
      table(['Version', 'Stages', 'Created'], (versions.Versions || []).map((v) => [
        h('span', { class: 'code' }, v.VersionId), (v.VersionStages || stages[v.VersionId] || []).join(', '), when(v.CreatedDate)]), { id: 's-versions' })));
  }

  load();
}
