// The JS SDK v3 with only AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN set: the default credential chain
// fetches role credentials from sqlgate, calls the Data API and Secrets
// Manager, and keeps calling until it has refreshed the credentials once
// (the test server's clock makes them enter the SDK's 5-minute refresh
// window a few seconds after they are issued).
import { RDSDataClient, ExecuteStatementCommand } from "@aws-sdk/client-rds-data";
import { SecretsManagerClient, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";

const [endpoint, cluster, secret] = process.argv.slice(2);
const data = new RDSDataClient({ region: "us-east-1", endpoint });
const sm = new SecretsManagerClient({ region: "us-east-1", endpoint });

async function call() {
  const out = await data.send(new ExecuteStatementCommand({ resourceArn: cluster, secretArn: secret, sql: "SELECT 41 + 1" }));
  if (out.records[0][0].longValue !== 42) throw new Error(JSON.stringify(out));
  const s = await sm.send(new GetSecretValueCommand({ SecretId: secret }));
  if (s.ARN !== secret) throw new Error("secret " + s.ARN);
}
const akid = async () => (await data.config.credentials()).accessKeyId;

await call();
const first = await akid();
if (!first.startsWith("ASIA")) throw new Error("not role credentials: " + first);
const deadline = Date.now() + 30000;
let calls = 1;
while ((await akid()) === first) {
  if (Date.now() > deadline) throw new Error("credentials were not refreshed within 30 s");
  await new Promise((r) => setTimeout(r, 200)); // poll interval
  await call();
  calls++;
}
await call();
console.log(`ok refreshed after ${calls} calls: ${first} -> ${await akid()}`);
