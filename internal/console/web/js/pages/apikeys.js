// API keys and usage plans of the SQL endpoints, through sqlgate's API
// Gateway API (the calls `aws apigateway` makes): keys, plans, binding,
// and each key's usage today, refreshed every few seconds. A key's value
// is fetched (get-api-key includeValue) only when the user clicks Show.
import * as api from '../api.js';
import { h, set, add, errorMsg, field, button, table } from '../dom.js';

const PERIOD_MS = 5000;
let timer = null;

export function stop() { clearInterval(timer); timer = null; }

const enc = encodeURIComponent;
const today = () => new Date().toISOString().slice(0, 10);

function planLimits(p) {
  const t = p.throttle ? `${p.throttle.rateLimit}/s, burst ${p.throttle.burstLimit}` : 'no rate limit';
  const q = p.quota ? `${p.quota.limit} per ${p.quota.period.toLowerCase()}` : 'no quota';
  return t + ' · ' + q;
}

export function render(root) {
  const keysBox = h('div', { id: 'k-keys' });
  const plansBox = h('div', { id: 'k-plans' });
  const formBox = h('div', { class: 'card', hidden: true, id: 'k-form' });
  const out = h('div', { id: 'k-out' });
  add(root, h('div', { class: 'page-head' }, h('h1', null, 'API keys and usage plans'),
    button('Create API key', () => showKeyForm(), { id: 'k-new-key', class: 'primary small' }),
    button('Create usage plan', () => showPlanForm(), { id: 'k-new-plan', class: 'small' })),
  h('p', { class: 'muted' }, 'Keys for the SQL endpoints (x-api-key). Changes apply at once on every node. ' +
    `Usage today refreshes every ${PERIOD_MS / 1000} s.`),
  out, formBox, h('h2', null, 'API keys'), keysBox, h('h2', null, 'Usage plans'), plansBox);

  let keys = [], plans = [], planKeys = {}, usage = {};

  async function load() {
    try {
      keys = (await api.apigw('GET', 'apikeys?limit=500')).item || [];
      plans = (await api.apigw('GET', 'usageplans?limit=500')).item || [];
      planKeys = {};
      usage = {};
      for (const p of plans) {
        planKeys[p.id] = ((await api.apigw('GET', `usageplans/${enc(p.id)}/keys?limit=500`)).item || []).map((k) => k.id);
        const u = await api.apigw('GET', `usageplans/${enc(p.id)}/usage?startDate=${today()}&endDate=${today()}`);
        for (const [id, days] of Object.entries(u.values || {})) usage[id] = { used: days[0][0], remaining: days[0][1], quota: !!p.quota };
      }
      draw();
    } catch (e) {
      stop();
      set(keysBox, errorMsg(e));
    }
  }

  function plansOf(keyId) {
    return plans.filter((p) => (planKeys[p.id] || []).includes(keyId));
  }

  function draw() {
    set(keysBox, table(['Name', 'ID', 'Status', 'Usage plans', 'Requests today', 'Value', ''], keys.map((k) => {
      const u = usage[k.id];
      const valueBox = h('span', { class: 'muted', dataset: { key: k.id } }, 'hidden');
      return [k.name, h('span', { class: 'code' }, k.id), k.enabled ? 'enabled' : 'disabled',
        plansOf(k.id).map((p) => p.name).join(', ') || '–',
        h('span', { class: 'k-usage', dataset: { key: k.name } }, u ? String(u.used) + (u.quota ? ` (${u.remaining} left)` : '') : '0'),
        h('span', null, valueBox, ' ', button('Show', async () => {
          try {
            const v = await api.apigw('GET', `apikeys/${enc(k.id)}?includeValue=true`);
            set(valueBox, v.value ? h('span', { class: 'code' }, v.value) : 'not kept (created before values were sealed)');
          } catch (e) { set(valueBox, errorMsg(e)); }
        }, { class: 'link small' })),
        h('span', null,
          button(k.enabled ? 'Disable' : 'Enable', () => act(() => api.apigw('PATCH', `apikeys/${enc(k.id)}`,
            { patchOperations: [{ op: 'replace', path: '/enabled', value: String(!k.enabled) }] })), { class: 'small', dataset: { toggle: k.name } }),
          button('Delete', () => confirm(`Delete API key ${k.name}?`) && act(() => api.apigw('DELETE', `apikeys/${enc(k.id)}`)), { class: 'small danger' }))];
    }), { id: 'keys-table' }));
    set(plansBox, table(['Name', 'ID', 'Limits', 'Endpoints', 'Keys', ''], plans.map((p) => {
      const pick = h('select', { dataset: { plan: p.name } }, h('option', { value: '' }, 'Add key…'),
        keys.filter((k) => !(planKeys[p.id] || []).includes(k.id)).map((k) => h('option', { value: k.id }, k.name)));
      pick.addEventListener('change', () => pick.value && act(() => api.apigw('POST', `usageplans/${enc(p.id)}/keys`, { keyId: pick.value, keyType: 'API_KEY' })));
      return [p.name, h('span', { class: 'code' }, p.id), planLimits(p),
        (p.apiStages || []).map((s) => s.stage).join(', ') || 'all',
        h('span', null, (planKeys[p.id] || []).map((id) => {
          const k = keys.find((x) => x.id === id);
          return h('span', { class: 'tag' }, k ? k.name : id, ' ', button('×', () => act(() =>
            api.apigw('DELETE', `usageplans/${enc(p.id)}/keys/${enc(id)}`)), { class: 'link small', title: 'Remove from plan' }));
        }), pick),
        button('Delete', () => confirm(`Delete usage plan ${p.name}?`) && act(() => api.apigw('DELETE', `usageplans/${enc(p.id)}`)), { class: 'small danger' })];
    }), { id: 'plans-table' }));
  }

  async function act(fn) {
    set(out);
    try { await fn(); } catch (e) { set(out, errorMsg(e)); }
    await load();
  }

  function showKeyForm() {
    const name = h('input', { id: 'k-name', spellcheck: false });
    const value = h('input', { id: 'k-value', autocomplete: 'off', spellcheck: false });
    const plan = h('select', { id: 'k-plan' }, h('option', { value: '' }, 'none (unlimited)'), plans.map((p) => h('option', { value: p.id }, p.name)));
    const res = h('div');
    set(formBox, h('h2', null, 'Create API key'), h('div', { class: 'row' }, field('Name', name),
      field('Value', value, 'optional: 20 to 128 characters; empty generates 40'), field('Usage plan', plan)),
    h('div', { class: 'row' }, button('Create', async () => {
      try {
        const k = await api.apigw('POST', 'apikeys', { name: name.value.trim(), enabled: true, value: value.value || undefined });
        if (plan.value) await api.apigw('POST', `usageplans/${enc(plan.value)}/keys`, { keyId: k.id, keyType: 'API_KEY' });
        set(res, h('div', { class: 'msg ok', id: 'k-created' }, 'x-api-key: ', h('span', { class: 'code' }, k.value)));
        await load();
      } catch (e) { set(res, errorMsg(e)); }
    }, { class: 'primary small', id: 'k-create' }), button('Close', () => { formBox.hidden = true; }, { class: 'small' })), res);
    formBox.hidden = false;
    name.focus();
  }

  function showPlanForm() {
    const name = h('input', { id: 'p-name', spellcheck: false });
    const rate = h('input', { id: 'p-rate', type: 'number', min: 0, step: 'any' });
    const burst = h('input', { id: 'p-burst', type: 'number', min: 0 });
    const limit = h('input', { id: 'p-quota', type: 'number', min: 0 });
    const period = h('select', { id: 'p-period' }, ['DAY', 'WEEK', 'MONTH'].map((x) => h('option', { value: x }, x)));
    const stages = h('input', { id: 'p-stages', spellcheck: false });
    const res = h('div');
    set(formBox, h('h2', null, 'Create usage plan'), h('div', { class: 'row' }, field('Name', name),
      field('Rate (requests/s)', rate, 'empty = no rate limit'), field('Burst', burst)),
    h('div', { class: 'row' }, field('Quota', limit, 'empty = no quota'), field('per', period),
      field('Endpoints', stages, 'comma-separated endpoint names; empty = all')),
    h('div', { class: 'row' }, button('Create', async () => {
      const req = { name: name.value.trim() };
      if (rate.value) req.throttle = { rateLimit: Number(rate.value), burstLimit: Number(burst.value || 0) };
      if (limit.value) req.quota = { limit: Number(limit.value), period: period.value };
      const st = stages.value.split(',').map((x) => x.trim()).filter(Boolean);
      if (st.length) req.apiStages = st.map((stage) => ({ apiId: 'sqlgate', stage }));
      try {
        await api.apigw('POST', 'usageplans', req);
        formBox.hidden = true;
        await load();
      } catch (e) { set(res, errorMsg(e)); }
    }, { class: 'primary small', id: 'p-create' }), button('Close', () => { formBox.hidden = true; }, { class: 'small' })), res);
    formBox.hidden = false;
    name.focus();
  }

  stop();
  load();
  timer = setInterval(load, PERIOD_MS);
}
