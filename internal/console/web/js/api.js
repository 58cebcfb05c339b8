// api.js talks to the console's JSON API. After sign-in the server keeps
// the session in an HttpOnly cookie; state-changing calls send the CSRF
// token it returned. Every call runs as the signed-in principal through
// sqlgate's own Data API, Secrets Manager and IAM handlers.

let csrf = '';
let onSignedOut = () => {};

export const session = { info: null };

export class ApiError extends Error {
  constructor(status, code, message, detail = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail; // the other members of a JSON error body
  }
}

// onSessionEnd registers what to do when the server says the session is gone.
export function onSessionEnd(fn) { onSignedOut = fn; }

async function call(path, { method = 'POST', body, type = 'application/json', signal } = {}) {
  const headers = {};
  if (method !== 'GET') {
    headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) headers['Content-Type'] = type;
  }
  const res = await fetch('api/' + path, { method, headers, body, signal, credentials: 'same-origin', cache: 'no-store' });
  const text = await res.text();
  if (!res.ok) {
    const err = parseError(res, text);
    if (res.status === 401 && err.code === 'SessionRequiredException') {
      session.info = null;
      onSignedOut(err);
    }
    throw err;
  }
  return text;
}

function parseError(res, text) {
  let code = (res.headers.get('x-amzn-errortype') || '').split(':')[0];
  let message = text || res.statusText;
  let detail = {};
  if ((res.headers.get('content-type') || '').includes('xml')) {
    const doc = new DOMParser().parseFromString(text, 'application/xml');
    code = xtext(doc, 'Code') || code;
    message = xtext(doc, 'Message') || message;
  } else {
    try {
      const j = JSON.parse(text);
      detail = j;
      code = code || String(j.__type || j.code || '').split('#').pop();
      message = j.message || j.Message || message;
    } catch { /* not JSON */ }
  }
  return new ApiError(res.status, code || 'HTTP ' + res.status, message, detail);
}

export async function restore() {
  try {
    session.info = JSON.parse(await call('session', { method: 'GET' }));
    csrf = session.info.csrfToken;
  } catch (e) {
    if (e.status !== 401) throw e;
    session.info = null;
  }
  return session.info;
}

export async function login(accessKeyId, secretAccessKey, sessionToken) {
  const info = JSON.parse(await call('login', { body: JSON.stringify({ accessKeyId, secretAccessKey, sessionToken }) }));
  session.info = info;
  csrf = info.csrfToken;
  return info;
}

export async function logout() {
  try { await call('logout'); } finally { session.info = null; csrf = ''; }
}

// data calls a Data API operation ("Execute", "BeginTransaction", …).
export async function data(action, req, signal) {
  return JSON.parse(await call('rds-data/' + action, { body: JSON.stringify(req), signal }));
}

// script runs a whole script (req.sql) in one database session: "Run all".
export async function script(req, signal) {
  return JSON.parse(await call('script', { body: JSON.stringify(req), signal }));
}

// secrets calls a Secrets Manager operation.
export async function secrets(op, req = {}) {
  return JSON.parse(await call('secretsmanager/' + op, { body: JSON.stringify(req) }));
}

// iam calls an IAM (or STS) Query action and returns the XML document.
// Array params become Name.member.N.
export async function iam(action, params = {}, service = 'iam') {
  const f = new URLSearchParams({ Action: action, Version: service === 'sts' ? '2011-06-15' : '2010-05-08' });
  for (const [k, v] of Object.entries(params)) {
    if (v == null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x, i) => f.set(`${k}.member.${i + 1}`, x));
    else f.set(k, String(v));
  }
  const text = await call(service, { body: f.toString(), type: 'application/x-www-form-urlencoded' });
  return new DOMParser().parseFromString(text, 'application/xml');
}

// rds calls an RDS Query action and returns the XML document. params are
// already in the wire's names (Auth.member.1.SecretArn, …).
export async function rds(action, params = {}) {
  const f = new URLSearchParams({ Action: action, Version: '2014-10-31' });
  for (const [k, v] of Object.entries(params)) {
    if (v != null && v !== '') f.set(k, String(v));
  }
  const text = await call('rds', { body: f.toString(), type: 'application/x-www-form-urlencoded' });
  return new DOMParser().parseFromString(text, 'application/xml');
}

// apigw calls the API Gateway API (API keys, usage plans, usage): method,
// REST path ("apikeys", "usageplans/ID/keys") with its query, JSON body.
export async function apigw(method, path, req) {
  const text = await call('apigateway/' + path, { method, body: req === undefined ? undefined : JSON.stringify(req) });
  return text ? JSON.parse(text) : {};
}

export async function clusters() {
  return JSON.parse(await call('clusters', { method: 'GET' })).clusters;
}

export async function validatePolicy(policyDocument) {
  return JSON.parse(await call('policy/validate', { body: JSON.stringify({ policyDocument }) }));
}

// workloads calls a workload API operation (SqlgateWorkloads.*).
export async function workloads(op, req = {}) {
  return JSON.parse(await call('workloads/' + op, { body: JSON.stringify(req) }));
}

export async function connectPlan(req) {
  return JSON.parse(await call('connect/plan', { body: JSON.stringify(req) }));
}

// xtext returns the text of the first descendant element named name.
export function xtext(node, name) {
  const el = node.getElementsByTagName(name)[0];
  return el ? el.textContent : '';
}

// xmembers returns the <member> children of the first element named list.
export function xmembers(node, list) {
  const el = node.getElementsByTagName(list)[0];
  return el ? [...el.children].filter((c) => c.localName === 'member') : [];
}
