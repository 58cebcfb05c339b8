// users.mjs reproduces seed 001's users example with the AWS SDK for
// JavaScript v3 against sqlgate: CREATE DATABASE simple_db, a users table with
// AUTO_INCREMENT ids, Alice/Bob/Charlie, and the SELECT whose records must be
// exactly [[{longValue:1},{stringValue:'Alice'}],…]. It also checks that an
// SQL error surfaces as error.name === 'DatabaseErrorException' and reads a
// secret with @aws-sdk/client-secrets-manager. Clients are configured with
// endpoint, credentials and region explicitly (seed001.mjs covers the
// AWS_ENDPOINT_URL-only setup).
//
// Environment: SQLGATE_ENDPOINT, CLUSTER_ARN, SECRET_ARN, SECRET_NAME,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
// Prints "PASS name" / "FAIL name: detail"; exits 1 on any failure.
import { RDSDataClient, ExecuteStatementCommand } from "@aws-sdk/client-rds-data";
import { SecretsManagerClient, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};

const config = {
  endpoint: env("SQLGATE_ENDPOINT"),
  region: "us-east-1",
  credentials: {
    accessKeyId: env("AWS_ACCESS_KEY_ID"),
    secretAccessKey: env("AWS_SECRET_ACCESS_KEY"),
  },
  maxAttempts: 1,
};
const CLUSTER_ARN = env("CLUSTER_ARN");
const SECRET_ARN = env("SECRET_ARN");

let failures = 0;
const pass = (name) => console.log(`PASS ${name}`);
const fail = (name, detail) => {
  failures++;
  console.log(`FAIL ${name}: ${String(detail).replace(/\n/g, " ").slice(0, 600)}`);
};

async function check(name, fn) {
  try {
    const [ok, detail] = await fn();
    ok ? pass(name) : fail(name, detail);
  } catch (err) {
    fail(name, `${err.name}: ${err.message}`);
  }
}

const client = new RDSDataClient(config);
const exec = (sql, database) =>
  client.send(new ExecuteStatementCommand({ resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN, database, sql }));

await check("d.create-database", async () => {
  await exec("CREATE DATABASE IF NOT EXISTS simple_db");
  return [true];
});

await check("d.create-users-table", async () => {
  await exec("DROP TABLE IF EXISTS users", "simple_db");
  const r = await exec(
    "CREATE TABLE users (\n    id INT AUTO_INCREMENT PRIMARY KEY,\n    name VARCHAR(50)\n)",
    "simple_db",
  );
  return [r.numberOfRecordsUpdated === 0, `CREATE TABLE returned ${JSON.stringify(r)}`];
});

await check("d.insert-users", async () => {
  const r = await exec("INSERT INTO users (name) VALUES ('Alice'), ('Bob'), ('Charlie')", "simple_db");
  return [r.numberOfRecordsUpdated === 3, `INSERT returned ${JSON.stringify({ ...r, $metadata: undefined })}`];
});

await check("d.select-users", async () => {
  const r = await exec("SELECT * FROM users;", "simple_db");
  const got = JSON.stringify(r.records);
  const want = '[[{"longValue":1},{"stringValue":"Alice"}],[{"longValue":2},{"stringValue":"Bob"}],[{"longValue":3},{"stringValue":"Charlie"}]]';
  return [got === want, `records ${got}, want ${want}`];
});

await check("d.sql-error-name", async () => {
  try {
    await exec("SELECT * FROM e2e_no_such_table", "simple_db");
    return [false, "succeeded, want DatabaseErrorException"];
  } catch (err) {
    const status = err.$metadata?.httpStatusCode;
    return [
      err.name === "DatabaseErrorException" && status === 400,
      `error.name=${err.name} status=${status} message=${err.message}`,
    ];
  }
});

await check("d.secrets-manager-get-secret-value", async () => {
  const sm = new SecretsManagerClient(config);
  const r = await sm.send(new GetSecretValueCommand({ SecretId: env("SECRET_NAME") }));
  const v = JSON.parse(r.SecretString);
  return [v.username === "sqlgate" && r.Name === env("SECRET_NAME"), `got Name=${r.Name} keys=${Object.keys(v)}`];
});

process.exitCode = failures ? 1 : 0;
