// Connect: the `sqlgate connect` wizard in the browser. The server builds
// the plan (user, least-privilege policy) with the same code as the CLI;
// the browser then makes each IAM call as the signed-in principal.
import * as api from '../api.js';
import { xtext, xmembers } from '../api.js';
import { h, set, add, msg, errorMsg, field, button } from '../dom.js';

export function render(root) {
  const fn = h('input', { id: 'cn-function', placeholder: 'orders', spellcheck: false });
  const cluster = h('input', { id: 'cn-cluster', list: 'cn-clusters', spellcheck: false, placeholder: 'cluster ARN' });
  const secret = h('input', { id: 'cn-secret', list: 'cn-secrets', spellcheck: false, placeholder: 'secret ARN' });
  const ro = h('input', { id: 'cn-readonly', type: 'checkbox' });
  const clusters = h('datalist', { id: 'cn-clusters' });
  const secrets = h('datalist', { id: 'cn-secrets' });
  const steps = h('ol', { class: 'steps', id: 'cn-steps' });
  const result = h('div', { id: 'cn-result' });
  api.clusters().then((cs) => set(clusters, cs.map((c) => h('option', { value: c.arn, label: c.name })))).catch(() => {});
  api.secrets('ListSecrets', { MaxResults: 100 }).then((r) => set(secrets, (r.SecretList || []).map((s) => h('option', { value: s.ARN, label: s.Name })))).catch(() => {});

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

  async function go(btn) {
    set(steps);
    set(result);
    btn.disabled = true;
    try {
      let secretArn = secret.value.trim();
      if (!secretArn.startsWith('arn:')) {
        secretArn = (await api.secrets('DescribeSecret', { SecretId: secretArn })).ARN;
      }
      const plan = await api.connectPlan({ function: fn.value.trim(), clusterArn: cluster.value.trim(), secretArn, readOnly: ro.checked });
      await step(`Create user ${plan.userName}`, async () => {
        try { await api.iam('CreateUser', { UserName: plan.userName, Path: plan.path }); } catch (e) {
          if (e.code === 'EntityAlreadyExists') return 'exists already';
          throw e;
        }
      });
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
      const region = api.session.info.region;
      const env = [
        `export AWS_ENDPOINT_URL=${location.origin}`,
        `export AWS_REGION=${region} AWS_DEFAULT_REGION=${region}`,
        `export AWS_ACCESS_KEY_ID=${akid}`,
        `export AWS_SECRET_ACCESS_KEY=${secretKey || '<shown when the key was created>'}`,
        `export CLUSTER_ARN=${cluster.value.trim()}`,
        `export SECRET_ARN=${secretArn}`,
      ].join('\n');
      set(result, msg('ok', `Function "${fn.value.trim()}" can now use the cluster.` + (secretKey ? ' The secret access key is shown only now.' : '')),
        h('h3', null, 'Environment'), h('pre', { class: 'code', id: 'cn-env' }, env),
        h('h3', null, 'Policy'), h('pre', { class: 'code' }, plan.policyDocument),
        h('h3', null, 'First query (Node.js, AWS SDK v3)'), h('pre', { class: 'code' }, SNIPPET));
    } catch (e) {
      add(result, errorMsg(e));
    } finally {
      btn.disabled = false;
    }
  }

  add(root, h('div', { class: 'page-head' }, h('h1', null, 'Connect a function')),
    h('div', { class: 'card' },
      h('p', { class: 'muted' }, 'Creates a user for the function, a least-privilege policy (the Data API on the cluster and GetSecretValue on the secret) and an access key — what `sqlgate connect` does, as you.'),
      h('div', { class: 'row' }, field('Function name', fn), field('Cluster', cluster), field('Secret', secret)),
      h('label', { class: 'check' }, ro, ' Read-only (ExecuteStatement only)'),
      clusters, secrets,
      h('div', { class: 'row' }, button('Connect', (e) => go(e.currentTarget), { class: 'primary', id: 'cn-go' }))),
    steps, result);
}

const SNIPPET = `import { RDSDataClient, ExecuteStatementCommand } from "@aws-sdk/client-rds-data";
const rds = new RDSDataClient({});
const out = await rds.send(new ExecuteStatementCommand({
  resourceArn: process.env.CLUSTER_ARN, secretArn: process.env.SECRET_ARN, sql: "SELECT 1" }));
console.log(out.records);`;
