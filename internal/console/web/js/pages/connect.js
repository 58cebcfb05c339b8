// Connect: the `sqlgate connect` wizard in the browser. The server builds
// the plan with the same code as the CLI (admin.PlanConnect); the browser
// then makes each IAM and workload call as the signed-in principal.
//
// By default the function gets a role (trusted only by its service
// principal, with the least-privilege policy) and a workload whose
// bootstrap token its SDK exchanges for short-lived credentials: no key
// anywhere. The older access-key mode is an explicit, weaker choice.
// "Through a proxy" (connect_proxy.js) is the other way in: a SQL client
// on a proxy endpoint with an IAM token or the secret's password.
import * as api from '../api.js';
import { xtext, xmembers } from '../api.js';
import { h, set, add, msg, errorMsg, field, button } from '../dom.js';
import { panel as proxyPanel } from './connect_proxy.js';

export function render(root) {
  const fn = h('input', { id: 'cn-function', placeholder: 'orders', spellcheck: false });
  const cluster = h('input', { id: 'cn-cluster', list: 'cn-clusters', spellcheck: false, placeholder: 'cluster ARN' });
  const secret = h('input', { id: 'cn-secret', list: 'cn-secrets', spellcheck: false, placeholder: 'secret ARN' });
  const ro = h('input', { id: 'cn-readonly', type: 'checkbox' });
  const type = h('select', { id: 'cn-type' }, ['lambda', 'ec2', 'ecs', 'eks'].map((t) => h('option', { value: t }, t)));
  const modeRole = h('input', { id: 'cn-mode-workload', type: 'radio', name: 'cn-mode', value: 'workload', checked: true });
  const modeKey = h('input', { id: 'cn-mode-key', type: 'radio', name: 'cn-mode', value: 'accessKey' });
  const clusters = h('datalist', { id: 'cn-clusters' });
  const secrets = h('datalist', { id: 'cn-secrets' });
  const steps = h('ol', { class: 'steps', id: 'cn-steps' });
  const result = h('div', { id: 'cn-result' });
  api.clusters().then((cs) => set(clusters, cs.map((c) => h('option', { value: c.arn, label: c.name })))).catch(() => {});
  api.secrets('ListSecrets', { MaxResults: 100 }).then((r) => set(secrets, (r.SecretList || []).map((s) => h('option', { value: s.ARN, label: s.Name })))).catch(() => {});
  const keyWarning = h('p', { class: 'msg info', id: 'cn-key-warning', hidden: true },
    'Weaker: a long-lived access key works from anywhere until someone deletes it, and ends up in every function\u2019s environment. Prefer a workload role.');
  modeKey.addEventListener('change', () => { keyWarning.hidden = !modeKey.checked; type.disabled = modeKey.checked; });
  modeRole.addEventListener('change', () => { keyWarning.hidden = modeRole.checked; type.disabled = !modeRole.checked; });

  async function step(label, fn) {
    const li = h('li', null, label + ' … ');
    steps.append(li);
    try {
      const note = await fn();
      li.append(h('span', { class: 'ok' }, typeof note === 'string' ? note : 'done'));
    } catch (e) {
      li.append(h('span', { class: 'err' }, `${e.code || 'Error'}: ${e.message}`));
      throw e;
    }
  }

  // exists makes an "already exists" answer a note, so the wizard can run again.
  function exists(call, codes) {
    return async () => {
      try { await call(); } catch (e) {
        if (codes.includes(e.code)) return 'exists already';
        throw e;
      }
    };
  }

  // workloadMode creates the role, its policy and the workload; it returns
  // the environment lines that carry the credentials.
  async function workloadMode(plan) {
    await step(`Create role ${plan.roleName} (trusted by ${plan.workloadType})`, exists(() => api.iam('CreateRole', {
      RoleName: plan.roleName, Path: plan.path, AssumeRolePolicyDocument: plan.trustPolicy, Description: plan.description }), ['EntityAlreadyExists']));
    await step(`Put inline policy ${plan.policyName}`, () => api.iam('PutRolePolicy', { RoleName: plan.roleName, PolicyName: plan.policyName, PolicyDocument: plan.policyDocument }));
    let token = '';
    await step(`Create workload ${plan.workloadName}`, async () => {
      try {
        token = (await api.workloads('CreateWorkload', { Name: plan.workloadName, Type: plan.workloadType, Role: plan.roleName })).BootstrapToken;
        return 'created';
      } catch (e) {
        if (e.code !== 'ResourceExistsException') throw e;
        token = (await api.workloads('RotateWorkloadToken', { Name: plan.workloadName })).BootstrapToken;
        return 'exists already: new bootstrap token';
      }
    });
    const uri = plan.credentialsUri || `${location.origin}/v1/credentials/${plan.workloadName}`;
    return { lines: [`export AWS_CONTAINER_CREDENTIALS_FULL_URI=${uri}`, `export AWS_CONTAINER_AUTHORIZATION_TOKEN=${token}`],
      note: 'The bootstrap token is shown only now (running the wizard again replaces it). No access key was created.' };
  }

  // keyMode is the weaker mode: a user with a long-lived access key.
  async function keyMode(plan) {
    await step(`Create user ${plan.userName}`, exists(() => api.iam('CreateUser', { UserName: plan.userName, Path: plan.path }), ['EntityAlreadyExists']));
    await step(`Put inline policy ${plan.policyName}`, () => api.iam('PutUserPolicy', { UserName: plan.userName, PolicyName: plan.policyName, PolicyDocument: plan.policyDocument }));
    let akid = '', secretKey = '';
    await step('Access key', async () => {
      const keys = xmembers(await api.iam('ListAccessKeys', { UserName: plan.userName }), 'AccessKeyMetadata');
      if (keys.length) { akid = xtext(keys[0], 'AccessKeyId'); return 'has one already (its secret was shown when it was created)'; }
      const k = await api.iam('CreateAccessKey', { UserName: plan.userName });
      akid = xtext(k, 'AccessKeyId');
      secretKey = xtext(k, 'SecretAccessKey');
      return 'created';
    });
    return { lines: [`export AWS_ACCESS_KEY_ID=${akid}`, `export AWS_SECRET_ACCESS_KEY=${secretKey || '<shown when the key was created>'}`],
      note: secretKey ? 'The secret access key is shown only now.' : '' };
  }

  async function go(btn) {
    set(steps);
    set(result);
    btn.disabled = true;
    try {
      let secretArn = secret.value.trim();
      if (!secretArn.startsWith('arn:')) {
        secretArn = (await api.secrets('DescribeSecret', { SecretId: secretArn })).ARN;
      }
      const plan = await api.connectPlan({ function: fn.value.trim(), clusterArn: cluster.value.trim(), secretArn,
        readOnly: ro.checked, accessKey: modeKey.checked, type: type.value });
      const creds = plan.mode === 'workload' ? await workloadMode(plan) : await keyMode(plan);
      const region = api.session.info.region;
      const env = [
        `export AWS_ENDPOINT_URL=${location.origin}`,
        `export AWS_REGION=${region} AWS_DEFAULT_REGION=${region}`,
        ...creds.lines,
        `export CLUSTER_ARN=${cluster.value.trim()}`,
        `export SECRET_ARN=${secretArn}`,
      ].join('\n');
      set(result, msg('ok', `Function "${fn.value.trim()}" can now use the cluster. ${creds.note}`),
        h('h3', null, 'Environment'), h('pre', { class: 'code', id: 'cn-env' }, env),
        h('h3', null, 'Policy'), h('pre', { class: 'code', id: 'cn-policy' }, plan.policyDocument),
        h('h3', null, 'First query (Node.js, AWS SDK v3)'), h('pre', { class: 'code' }, SNIPPET));
    } catch (e) {
      add(result, errorMsg(e));
    } finally {
      btn.disabled = false;
    }
  }

  const viaData = h('input', { id: 'cn-via-dataapi', type: 'radio', name: 'cn-via', checked: true });
  const viaProxy = h('input', { id: 'cn-via-proxy', type: 'radio', name: 'cn-via' });
  const dataBox = h('div', { id: 'cn-dataapi' });
  const proxyBox = h('div', { id: 'cn-proxy', hidden: true });
  const via = () => {
    dataBox.hidden = viaProxy.checked;
    proxyBox.hidden = !viaProxy.checked;
    if (viaProxy.checked && !proxyBox.firstChild) proxyBox.append(proxyPanel());
  };
  viaData.addEventListener('change', via);
  viaProxy.addEventListener('change', via);
  add(root, h('div', { class: 'page-head' }, h('h1', null, 'Connect')),
    h('fieldset', { class: 'modes' },
      h('label', { class: 'check' }, viaData, ' A function, through the Data API'),
      h('label', { class: 'check' }, viaProxy, ' A SQL client, through a proxy')),
    proxyBox, dataBox);
  add(dataBox,
    h('div', { class: 'card' },
      h('p', { class: 'muted' }, 'Creates what `sqlgate connect` does, as you: a role for the function with a least-privilege policy (the Data API on the cluster and GetSecretValue on the secret) and a workload whose bootstrap token the function\u2019s SDK exchanges for short-lived credentials.'),
      h('div', { class: 'row' }, field('Function name', fn), field('Cluster', cluster), field('Secret', secret), field('Runs on', type)),
      h('label', { class: 'check' }, ro, ' Read-only (ExecuteStatement only)'),
      h('fieldset', { class: 'modes' },
        h('label', { class: 'check' }, modeRole, ' Workload role, short-lived credentials (recommended)'),
        h('label', { class: 'check' }, modeKey, ' Access key (weaker)')),
      keyWarning,
      clusters, secrets,
      h('div', { class: 'row' }, button('Connect', (e) => go(e.currentTarget), { class: 'primary', id: 'cn-go' }))),
    steps, result);
}

const SNIPPET = `import { RDSDataClient, ExecuteStatementCommand } from "@aws-sdk/client-rds-data";
const rds = new RDSDataClient({});   // credentials from the environment above
const out = await rds.send(new ExecuteStatementCommand({
  resourceArn: process.env.CLUSTER_ARN, secretArn: process.env.SECRET_ARN, sql: "SELECT 1" }));
console.log(out.records);`;
