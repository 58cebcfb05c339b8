// Connect through a proxy: the other way in beside the Data API. Pick a
// proxy or one of its endpoints (DescribeDBProxyEndpoints, with the
// proxies' engine and auth from DescribeDBProxies), see its host and
// port, choose how the client proves itself — an IAM auth token from
// `aws rds generate-db-auth-token`, or the password in the proxy's secret
// — and copy ready psql / mariadb commands and a connection string. The
// snippets fetch the token or the password when they run: no password is
// shown here.
import * as api from '../api.js';
import { h, set, field } from '../dom.js';

const x = api.xtext;

function kids(node, name) {
  return node ? [...node.children].filter((c) => c.localName === name) : [];
}

// shq quotes s for a POSIX shell.
export function shq(s) {
  return /^[A-Za-z0-9_.:/@=+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

// targets lists every proxy endpoint with its proxy's engine and auth.
async function targets() {
  const [pdoc, edoc] = await Promise.all([api.rds('DescribeDBProxies'), api.rds('DescribeDBProxyEndpoints')]);
  const proxies = {};
  for (const m of kids(pdoc.getElementsByTagName('DBProxies')[0], 'member')) {
    proxies[x(m, 'DBProxyName')] = { family: x(m, 'EngineFamily'), tls: x(m, 'RequireTLS') === 'true',
      auth: kids(m.getElementsByTagName('Auth')[0], 'member').map((a) => ({ secret: x(a, 'SecretArn'), iam: x(a, 'IAMAuth') })) };
  }
  return kids(edoc.getElementsByTagName('DBProxyEndpoints')[0], 'member').map((m) => ({
    proxy: x(m, 'DBProxyName'), name: x(m, 'DBProxyEndpointName'), endpoint: x(m, 'Endpoint'),
    status: x(m, 'Status'), isDefault: x(m, 'IsDefault') === 'true', ...(proxies[x(m, 'DBProxyName')] || { auth: [] }),
  })).filter((t) => t.family);
}

// snippets returns the commands for target t with the chosen auth.
export function snippets(t, { iam, user, db, secret, origin, region }) {
  const i = t.endpoint.lastIndexOf(':');
  const host = t.endpoint.slice(0, i), port = t.endpoint.slice(i + 1);
  const pg = t.family === 'POSTGRESQL';
  const lines = [`export AWS_REGION=${region} AWS_DEFAULT_REGION=${region}`];
  let who = shq(user), pass;
  if (iam) {
    pass = `"$(aws rds generate-db-auth-token --hostname ${host} --port ${port} --username ${shq(user)} --region ${region})"`;
  } else {
    lines.push(`SECRET=$(aws --endpoint-url ${origin} secretsmanager get-secret-value --secret-id ${shq(secret)} --query SecretString --output text)`);
    who = '"$(echo "$SECRET" | jq -r .username)"';
    pass = '"$(echo "$SECRET" | jq -r .password)"';
  }
  // IAM tokens travel only over TLS; with a password TLS is the default too.
  const cli = pg
    ? `PGPASSWORD=${pass} psql "host=${host} port=${port} user=${iam ? user : `$(echo "$SECRET" | jq -r .username)`} dbname=${db} sslmode=require"`
    : `mariadb -h ${host} -P ${port} -u ${who} --password=${pass} --ssl ${shq(db)}`;
  const url = pg
    ? `postgresql://${encodeURIComponent(iam ? user : 'USER')}@${host}:${port}/${encodeURIComponent(db)}?sslmode=require`
    : `mysql://${encodeURIComponent(iam ? user : 'USER')}@${host}:${port}/${encodeURIComponent(db)}?ssl-mode=REQUIRED`;
  return { host, port, env: lines.join('\n'), cli, url };
}

// panel renders the "through a proxy" form.
export function panel() {
  const pick = h('select', { id: 'cp-proxy' });
  const authIam = h('input', { id: 'cp-auth-iam', type: 'radio', name: 'cp-auth', value: 'iam' });
  const authSecret = h('input', { id: 'cp-auth-secret', type: 'radio', name: 'cp-auth', value: 'secret', checked: true });
  const secret = h('select', { id: 'cp-secret' });
  const user = h('input', { id: 'cp-user', spellcheck: false, placeholder: 'database user' });
  const db = h('input', { id: 'cp-db', spellcheck: false, placeholder: 'database' });
  const out = h('div', { id: 'cp-out' });
  let list = [];

  function current() { return list[Number(pick.value)]; }

  function render() {
    const t = current();
    if (!t) { set(out, h('p', { class: 'muted' }, 'No proxy yet: create one on the Proxies page.')); return; }
    const modes = new Set(t.auth.map((a) => a.iam));
    authIam.disabled = modes.has('DISABLED') || modes.size === 0;
    authSecret.disabled = modes.has('REQUIRED');
    if (authIam.disabled) authSecret.checked = true;
    if (authSecret.disabled) authIam.checked = true;
    user.disabled = !authIam.checked;
    secret.disabled = !authSecret.checked;
    if (secret.dataset.proxy !== t.proxy) {
      secret.dataset.proxy = t.proxy;
      set(secret, t.auth.map((a) => h('option', { value: a.secret }, a.secret)));
    }
    const s = snippets(t, { iam: authIam.checked, user: user.value.trim() || 'USER', db: db.value.trim() || 'DATABASE',
      secret: secret.value, origin: location.origin, region: api.session.info.region });
    set(out,
      h('p', null, 'Host ', h('span', { class: 'code', id: 'cp-host' }, s.host), ' port ', h('span', { class: 'code', id: 'cp-port' }, s.port),
        t.status === 'available' ? '' : h('span', { class: 'muted' }, ` (${t.status})`)),
      h('h3', null, 'Environment'), h('pre', { class: 'code', id: 'cp-env' }, s.env),
      h('h3', null, t.family === 'POSTGRESQL' ? 'psql' : 'mariadb'), h('pre', { class: 'code', id: 'cp-cli' }, s.cli),
      h('h3', null, 'Connection string'), h('pre', { class: 'code', id: 'cp-url' }, s.url),
      h('p', { class: 'muted' }, authIam.checked
        ? 'The token is valid for 15 minutes; the user needs rds-db:connect on this proxy\u2019s cluster and user.'
        : 'The password comes from the secret when the command runs (secretsmanager:GetSecretValue); the connection string names no password.'));
  }

  targets().then((ts) => {
    list = ts;
    set(pick, ts.map((t, i) => h('option', { value: String(i) }, t.isDefault ? `${t.proxy} (default endpoint)` : `${t.proxy} / ${t.name}`)));
    render();
  }).catch((e) => set(out, h('p', { class: 'msg error' }, `${e.code || 'Error'}: ${e.message}`)));
  for (const el of [pick, authIam, authSecret, secret]) el.addEventListener('change', render);
  for (const el of [user, db]) el.addEventListener('input', render);

  return h('div', { class: 'card', id: 'cp-panel' },
    h('p', { class: 'muted' }, 'A PostgreSQL or MySQL client connects to a proxy as to the database; the proxy pools the connections.'),
    h('div', { class: 'row' }, field('Proxy or endpoint', pick), field('Database', db)),
    h('fieldset', { class: 'modes' },
      h('label', { class: 'check' }, authSecret, ' The secret\u2019s password'),
      h('label', { class: 'check' }, authIam, ' IAM auth token (aws rds generate-db-auth-token)')),
    h('div', { class: 'row' }, field('Secret', secret), field('Database user (IAM)', user)),
    out);
}
