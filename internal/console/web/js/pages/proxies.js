// Proxies: the RDS Proxy analog, managed as with `aws rds`. Lists every
// proxy (file-declared and created online), creates one from a secret and
// registers its cluster (seed 002's console flow), shows its targets with
// their health, edits its pool settings and deletes it. Every call is the
// RDS API as the signed-in principal (rds:<Action> policies decide).
import * as api from '../api.js';
import { h, set, add, errorMsg, field, button, table } from '../dom.js';

const x = api.xtext;

// kids returns the element children of node named name.
function kids(node, name) {
  return node ? [...node.children].filter((c) => c.localName === name) : [];
}

function proxiesOf(doc) {
  const list = doc.getElementsByTagName('DBProxies')[0];
  return kids(list, 'member').map((m) => ({
    name: x(m, 'DBProxyName'), arn: x(m, 'DBProxyArn'), family: x(m, 'EngineFamily'), endpoint: x(m, 'Endpoint'),
    status: x(m, 'Status'), requireTls: x(m, 'RequireTLS') === 'true', idle: x(m, 'IdleClientTimeout'),
    auth: kids(m.getElementsByTagName('Auth')[0], 'member').map((a) => ({ secret: x(a, 'SecretArn'), iam: x(a, 'IAMAuth') })),
  }));
}

export function render(root) {
  const list = h('div', { id: 'p-list' });
  const detail = h('div', { id: 'p-detail' });
  const createBox = h('div', { class: 'card', hidden: true, id: 'p-create' });
  add(root, h('div', { class: 'page-head' }, h('h1', null, 'Proxies'),
    button('Create proxy', () => showCreate(), { id: 'p-new', class: 'primary small' })),
  createBox, h('div', { class: 'split' }, list, detail));

  async function load() {
    try {
      const ps = proxiesOf(await api.rds('DescribeDBProxies'));
      set(list, table(['Proxy', 'Engine', 'Endpoint (host:port)', 'IAM auth'], ps.map((p) => [
        button(p.name, () => open(p.name), { class: 'link', dataset: { proxy: p.name } }),
        p.family, h('span', { class: 'code' }, p.endpoint), (p.auth[0] || {}).iam || '–',
      ]), { id: 'proxies-table' }));
    } catch (e) {
      set(list, errorMsg(e));
    }
  }

  async function showCreate() {
    const name = h('input', { id: 'p-name', spellcheck: false });
    const family = h('select', { id: 'p-family' }, h('option', { value: 'POSTGRESQL' }, 'PostgreSQL'), h('option', { value: 'MYSQL' }, 'MySQL / MariaDB'));
    const secret = h('select', { id: 'p-secret' });
    const cluster = h('select', { id: 'p-cluster' });
    const iamMode = h('select', { id: 'p-iam' }, ['ENABLED', 'REQUIRED', 'DISABLED'].map((v) => h('option', { value: v }, v)));
    const tls = h('input', { type: 'checkbox', id: 'p-tls' });
    const out = h('div');
    set(createBox, h('h2', null, 'Create proxy'),
      h('div', { class: 'row' }, field('Name', name), field('Engine family', family)),
      h('div', { class: 'row' }, field('Secret (database login)', secret), field('Target cluster', cluster)),
      h('div', { class: 'row' }, field('IAM authentication', iamMode, 'ENABLED: the secret\'s password or an IAM token'), field('Require TLS', tls)),
      h('div', { class: 'row' }, button('Create', async () => {
        try {
          await api.rds('CreateDBProxy', { DBProxyName: name.value.trim(), EngineFamily: family.value,
            RoleArn: 'arn:aws:iam::' + api.session.info.account + ':role/sqlgate-proxy', 'VpcSubnetIds.member.1': 'sqlgate',
            'Auth.member.1.AuthScheme': 'SECRETS', 'Auth.member.1.SecretArn': secret.value, 'Auth.member.1.IAMAuth': iamMode.value,
            RequireTLS: tls.checked });
          if (cluster.value) {
            await api.rds('RegisterDBProxyTargets', { DBProxyName: name.value.trim(), 'DBClusterIdentifiers.member.1': cluster.value });
          }
          createBox.hidden = true;
          await load();
          open(name.value.trim());
        } catch (e) { set(out, errorMsg(e)); }
      }, { class: 'primary small', id: 'p-create-btn' }), button('Cancel', () => { createBox.hidden = true; }, { class: 'small' })), out);
    createBox.hidden = false;
    name.focus();
    try {
      const s = await api.secrets('ListSecrets', { MaxResults: 100 });
      set(secret, (s.SecretList || []).map((v) => h('option', { value: v.ARN }, v.Name)));
    } catch (e) { set(out, errorMsg(e)); }
    try {
      const cs = await api.clusters();
      set(cluster, h('option', { value: '' }, '(register later)'),
        cs.filter((c) => c.engine !== 'sqlite').map((c) => h('option', { value: c.name }, `${c.name} (${c.engine})`)));
    } catch { set(cluster, h('option', { value: '' }, '(clusters not visible)')); }
  }

  function poolForm(p, g) {
    const inputs = {
      MaxConnectionsPercent: h('input', { type: 'number', min: 1, max: 100, value: x(g, 'MaxConnectionsPercent'), id: 'p-maxpct' }),
      MaxIdleConnectionsPercent: h('input', { type: 'number', min: 0, max: 100, value: x(g, 'MaxIdleConnectionsPercent'), id: 'p-idlepct' }),
      ConnectionBorrowTimeout: h('input', { type: 'number', min: 1, max: 3600, value: x(g, 'ConnectionBorrowTimeout'), id: 'p-borrow' }),
      InitQuery: h('input', { value: x(g, 'InitQuery'), id: 'p-init', spellcheck: false, class: 'code' }),
    };
    const out = h('div');
    return h('div', null,
      h('div', { class: 'row' }, field('Max connections (% of the cluster budget)', inputs.MaxConnectionsPercent),
        field('Max idle connections (%)', inputs.MaxIdleConnectionsPercent)),
      h('div', { class: 'row' }, field('Borrow timeout (s)', inputs.ConnectionBorrowTimeout), field('Init query', inputs.InitQuery)),
      button('Save pool settings', async () => {
        const params = { DBProxyName: p.name, TargetGroupName: 'default' };
        for (const [k, el] of Object.entries(inputs)) params['ConnectionPoolConfig.' + k] = el.value;
        try {
          await api.rds('ModifyDBProxyTargetGroup', params);
          set(out, h('div', { class: 'msg ok', role: 'status' }, 'Saved; the proxy uses it now.'));
        } catch (e) { set(out, errorMsg(e)); }
      }, { class: 'primary small', id: 'p-pool-save' }), out);
  }

  async function open(name) {
    set(detail, h('p', { class: 'muted' }, 'Loading…'));
    let p, targets, group;
    try {
      p = proxiesOf(await api.rds('DescribeDBProxies', { DBProxyName: name }))[0];
      targets = kids((await api.rds('DescribeDBProxyTargets', { DBProxyName: name })).getElementsByTagName('Targets')[0], 'member');
      group = kids((await api.rds('DescribeDBProxyTargetGroups', { DBProxyName: name })).getElementsByTagName('TargetGroups')[0], 'member')[0];
    } catch (e) {
      set(detail, errorMsg(e));
      return;
    }
    const out = h('div');
    const [host, port] = [p.endpoint.replace(/:\d+$/, ''), (p.endpoint.match(/:(\d+)$/) || [])[1] || ''];
    set(detail, h('div', { class: 'card' },
      h('h2', null, p.name),
      h('dl', { class: 'props' },
        h('dt', null, 'ARN'), h('dd', { class: 'code' }, p.arn),
        h('dt', null, 'Endpoint'), h('dd', { class: 'code', id: 'p-endpoint' }, p.endpoint),
        h('dt', null, 'Connect'), h('dd', { class: 'code' }, p.family === 'MYSQL'
          ? `mariadb -h ${host} -P ${port} -u … -p` : `psql "host=${host} port=${port} user=… dbname=…"`),
        h('dt', null, 'Auth'), h('dd', null, p.auth.map((a) => `${a.secret} (IAM ${a.iam})`).join(', ') || '–'),
        h('dt', null, 'TLS'), h('dd', null, p.requireTls ? 'required' : 'optional'),
        h('dt', null, 'Idle client timeout'), h('dd', null, p.idle + ' s')),
      h('h3', null, 'Targets'),
      table(['Target', 'Type', 'Endpoint', 'Health'], targets.map((t) => {
        const th = t.getElementsByTagName('TargetHealth')[0];
        const state = th ? x(th, 'State') : '';
        return [x(t, 'TrackedClusterId') || x(t, 'RdsResourceId'), x(t, 'Type'),
          h('span', { class: 'code' }, x(t, 'Endpoint') ? `${x(t, 'Endpoint')}:${x(t, 'Port')}` : '–'),
          th ? h('span', { class: state === 'AVAILABLE' ? 'badge on' : 'badge off', title: x(th, 'Description') },
            state + (x(th, 'Reason') ? ' · ' + x(th, 'Reason') : '')) : h('span', { class: 'muted' }, '–')];
      }), { id: 'p-targets' }),
      h('h3', null, 'Connection pool'),
      group ? poolForm(p, group.getElementsByTagName('ConnectionPoolConfig')[0]) : null,
      h('h3', null, 'Delete'),
      button('Delete proxy', async () => {
        if (!confirm(`Delete ${p.name}? Its clients are disconnected.`)) return;
        try {
          await api.rds('DeleteDBProxy', { DBProxyName: p.name });
          set(detail);
          await load();
        } catch (e) { set(out, errorMsg(e)); }
      }, { class: 'small danger', id: 'p-delete' }), out));
  }

  load();
}

export function stop() {}
