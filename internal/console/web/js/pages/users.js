// Users and keys: IAM users, their access keys (a new key's secret is
// shown once), attached and inline policies (a JSON editor validated by
// the server's policy parser before saving) and the policy simulator.
import * as api from '../api.js';
import { xtext, xmembers } from '../api.js';
import { h, set, add, msg, errorMsg, field, button, table } from '../dom.js';

const EXAMPLE = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['rds-data:ExecuteStatement'], Resource: 'arn:aws:rds:REGION:ACCOUNT:cluster:NAME' }],
}, null, 2);

export function render(root) {
  const list = h('div', { id: 'u-list' });
  const detail = h('div', { id: 'u-detail' });
  const newName = h('input', { id: 'u-new-name', placeholder: 'user name', spellcheck: false });
  const newOut = h('div');
  add(root, h('div', { class: 'page-head' }, h('h1', null, 'Users and keys')),
    h('div', { class: 'row card' }, field('New user', newName), h('div', { class: 'field end' }, button('Create user', async () => {
      try {
        await api.iam('CreateUser', { UserName: newName.value.trim() });
        const name = newName.value.trim();
        newName.value = '';
        set(newOut);
        await load();
        open(name);
      } catch (e) { set(newOut, errorMsg(e)); }
    }, { id: 'u-create', class: 'primary small' })), newOut),
    h('div', { class: 'split' }, list, detail),
    simulator());

  async function load() {
    try {
      const doc = await api.iam('ListUsers', { MaxItems: 1000 });
      set(list, table(['User', 'Path', 'Created'], xmembers(doc, 'Users').map((u) => [
        button(xtext(u, 'UserName'), () => open(xtext(u, 'UserName')), { class: 'link', dataset: { user: xtext(u, 'UserName') } }),
        xtext(u, 'Path'), new Date(xtext(u, 'CreateDate')).toLocaleString()]), { id: 'users-table' }));
    } catch (e) {
      set(list, errorMsg(e));
    }
  }

  async function open(user) {
    set(detail, h('p', { class: 'muted' }, 'Loading…'));
    let u;
    try {
      u = await api.iam('GetUser', { UserName: user });
    } catch (e) {
      set(detail, errorMsg(e));
      return;
    }
    const arn = xtext(u, 'Arn');
    const keys = h('div', { id: 'u-keys' });
    const pols = h('div', { id: 'u-policies' });
    set(detail, h('div', { class: 'card' }, h('h2', null, user), h('p', { class: 'code muted' }, arn),
      h('h3', null, 'Access keys'), keys, h('h3', null, 'Policies'), pols));
    drawKeys(keys, user);
    drawPolicies(pols, user);
    const sim = document.getElementById('sim-principal');
    if (sim) sim.value = arn;
  }

  async function drawKeys(el, user) {
    const out = h('div', { id: 'u-key-out' });
    try {
      const doc = await api.iam('ListAccessKeys', { UserName: user });
      const rows = xmembers(doc, 'AccessKeyMetadata').map((k) => {
        const id = xtext(k, 'AccessKeyId');
        const status = xtext(k, 'Status');
        return [h('span', { class: 'code' }, id), status, new Date(xtext(k, 'CreateDate')).toLocaleString(),
          h('span', null,
            button(status === 'Active' ? 'Deactivate' : 'Activate', () => act('UpdateAccessKey', { UserName: user, AccessKeyId: id, Status: status === 'Active' ? 'Inactive' : 'Active' }), { class: 'small' }),
            button('Delete', () => act('DeleteAccessKey', { UserName: user, AccessKeyId: id }), { class: 'small danger' }))];
      });
      set(el, table(['Access key ID', 'Status', 'Created', ''], rows), h('div', { class: 'row' },
        button('Create access key', async () => {
          try {
            const r = await api.iam('CreateAccessKey', { UserName: user });
            await drawKeys(el, user);
            const box = document.getElementById('u-key-out');
            set(box, h('div', { class: 'once', id: 'u-new-key' },
              h('strong', null, 'Save this secret access key now: it is shown only once.'),
              h('dl', { class: 'props' }, h('dt', null, 'Access key ID'), h('dd', { class: 'code', id: 'u-new-akid' }, xtext(r, 'AccessKeyId')),
                h('dt', null, 'Secret access key'), h('dd', { class: 'code', id: 'u-new-secret' }, xtext(r, 'SecretAccessKey'))),
              button('I have saved it', () => set(box), { class: 'small' })));
          } catch (e) { set(out, errorMsg(e)); }
        }, { id: 'u-create-key', class: 'small' })), out);
    } catch (e) {
      set(el, errorMsg(e));
    }
    async function act(action, params) {
      try { await api.iam(action, params); drawKeys(el, user); } catch (e) { set(out, errorMsg(e)); }
    }
  }

  async function drawPolicies(el, user) {
    const out = h('div');
    let attached = [], inline = [];
    try {
      attached = xmembers(await api.iam('ListAttachedUserPolicies', { UserName: user }), 'AttachedPolicies');
      inline = xmembers(await api.iam('ListUserPolicies', { UserName: user }), 'PolicyNames').map((m) => m.textContent);
    } catch (e) {
      set(el, errorMsg(e));
      return;
    }
    const attachArn = h('input', { id: 'u-attach-arn', list: 'u-managed', placeholder: 'arn:aws:iam::ACCOUNT:policy/NAME', spellcheck: false });
    const managed = h('datalist', { id: 'u-managed' });
    api.iam('ListPolicies', { Scope: 'All', MaxItems: 1000 }).then((d) => set(managed, xmembers(d, 'Policies').map((p) =>
      h('option', { value: xtext(p, 'Arn'), label: xtext(p, 'PolicyName') })))).catch(() => {});
    const name = h('input', { id: 'u-pol-name', placeholder: 'inline policy name', spellcheck: false });
    const docIn = h('textarea', { id: 'u-pol-doc', class: 'code', rows: 12, spellcheck: false, value: EXAMPLE });
    const check = h('div', { id: 'u-pol-check' });
    const refresh = () => drawPolicies(el, user);
    async function validate() {
      try {
        const r = await api.validatePolicy(docIn.value);
        set(check, r.valid ? msg('ok', 'Valid policy.') : msg('error', 'Invalid policy: ' + r.error));
        return r.valid;
      } catch (e) { set(check, errorMsg(e)); return false; }
    }
    set(el,
      h('h4', null, 'Attached (managed)'),
      table(['Policy', 'ARN', ''], attached.map((p) => [xtext(p, 'PolicyName'), h('span', { class: 'code' }, xtext(p, 'PolicyArn')),
        button('Detach', async () => { try { await api.iam('DetachUserPolicy', { UserName: user, PolicyArn: xtext(p, 'PolicyArn') }); refresh(); } catch (e) { set(out, errorMsg(e)); } }, { class: 'small' })])),
      h('div', { class: 'row' }, attachArn, managed, button('Attach', async () => {
        try { await api.iam('AttachUserPolicy', { UserName: user, PolicyArn: attachArn.value.trim() }); refresh(); } catch (e) { set(out, errorMsg(e)); }
      }, { class: 'small' })),
      h('h4', null, 'Inline'),
      table(['Name', ''], inline.map((n) => [n, h('span', null,
        button('Edit', async () => {
          try {
            const d = await api.iam('GetUserPolicy', { UserName: user, PolicyName: n });
            name.value = n;
            docIn.value = pretty(decodeURIComponent(xtext(d, 'PolicyDocument')));
            set(check);
            docIn.focus();
          } catch (e) { set(out, errorMsg(e)); }
        }, { class: 'small', dataset: { policy: n } }),
        button('Delete', async () => { try { await api.iam('DeleteUserPolicy', { UserName: user, PolicyName: n }); refresh(); } catch (e) { set(out, errorMsg(e)); } }, { class: 'small danger' }))])),
      h('div', { class: 'inline-form' }, h('h4', null, 'Edit inline policy'), field('Name', name), field('Policy document (JSON)', docIn), check,
        h('div', { class: 'row' }, button('Validate', validate, { class: 'small', id: 'u-pol-validate' }),
          button('Save policy', async () => {
            if (!(await validate())) return;
            try {
              await api.iam('PutUserPolicy', { UserName: user, PolicyName: name.value.trim(), PolicyDocument: docIn.value });
              set(check, msg('ok', 'Saved.'));
              drawPolicies(el, user);
            } catch (e) { set(check, errorMsg(e)); }
          }, { class: 'primary small', id: 'u-pol-save' }))),
      out);
  }

  load();
}

function pretty(doc) {
  try { return JSON.stringify(JSON.parse(doc), null, 2); } catch { return doc; }
}

// simulator asks SimulatePrincipalPolicy whether a user or role may do an
// action on a resource, and which policy decided.
function simulator() {
  const principal = h('input', { id: 'sim-principal', placeholder: 'arn:aws:iam::ACCOUNT:user/NAME', spellcheck: false });
  const action = h('input', { id: 'sim-action', value: 'rds-data:ExecuteStatement', spellcheck: false });
  const resource = h('input', { id: 'sim-resource', placeholder: 'resource ARN (blank: *)', spellcheck: false });
  const out = h('div', { id: 'sim-out' });
  return h('div', { class: 'card' }, h('h2', null, 'Simulate'),
    h('p', { class: 'muted' }, 'The decision the authorizer would make for this principal\'s identity policies.'),
    h('div', { class: 'row' }, field('Principal ARN', principal), field('Action', action), field('Resource', resource),
      h('div', { class: 'field end' }, button('Simulate', async () => {
        try {
          const d = await api.iam('SimulatePrincipalPolicy', { PolicySourceArn: principal.value.trim(), ActionNames: [action.value.trim()],
            ResourceArns: resource.value.trim() ? [resource.value.trim()] : undefined });
          set(out, xmembers(d, 'EvaluationResults').map((r) => {
            const decision = xtext(r, 'EvalDecision');
            const by = xmembers(r, 'MatchedStatements').map((s) => `${xtext(s, 'SourcePolicyId')} (${xtext(s, 'SourcePolicyType')})`);
            return msg(decision === 'allowed' ? 'ok' : 'error', `${decision}: ${xtext(r, 'EvalActionName')} on ${xtext(r, 'EvalResourceName')}` +
              (by.length ? ' — decided by ' + by.join(', ') : ' — no statement matched (implicit deny)'));
          }));
        } catch (e) { set(out, errorMsg(e)); }
      }, { id: 'sim-run', class: 'primary small' }))), out);
}
