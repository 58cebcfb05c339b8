// clients.mjs runs the ordinary flows of the most used Data API client
// libraries against sqlgate: data-api-client (which drives aws-sdk v2's
// RDSDataService) on MariaDB and PostgreSQL, and Drizzle's aws-data-api/pg
// driver (on @aws-sdk/client-rds-data v3) on PostgreSQL — create, insert,
// select, transactions (committed, failed and rolled back, nested with
// savepoints). run.sh passes:
//   SQLGATE_ENDPOINT  http://127.0.0.1:PORT
//   ARN_PREFIX        arn:aws:rds:us-east-1:000000000000:cluster
//   SECRET_MARIA, SECRET_PG  the clusters' secrets; DATABASE the database
// and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION.
// Prints "PASS name" / "FAIL name: detail"; exits 1 on failure.
import { createRequire } from 'node:module';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { drizzle } from 'drizzle-orm/aws-data-api/pg';
import { pgTable, serial, text, integer } from 'drizzle-orm/pg-core';
import { sql, eq, asc } from 'drizzle-orm';

const require = createRequire(import.meta.url);
const dataApiClient = require('data-api-client');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const ENDPOINT = env('SQLGATE_ENDPOINT');
const ARN = env('ARN_PREFIX');
const DATABASE = env('DATABASE');
const REGION = process.env.AWS_REGION || 'us-east-1';
const suffix = Date.now().toString(36);

let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log('PASS ' + name);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${String(e && e.stack ? e.stack.split('\n').slice(0, 3).join(' ') : e).replace(/\s+/g, ' ').slice(0, 600)}`);
  }
}
function expect(cond, msg) { if (!cond) throw new Error(msg); }
const json = (v) => JSON.stringify(v);

// data-api-client, as its README sets it up, pointed at sqlgate.
function dac(engine, cluster, secret, database) {
  return dataApiClient({ engine, resourceArn: `${ARN}:${cluster}`, secretArn: secret, database,
    options: { endpoint: ENDPOINT, region: REGION, maxRetries: 0 } });
}

async function dataApiClientFlow(engine, cluster, secret) {
  const p = `k.dac.${cluster}`;
  const tbl = `dac_users_${suffix}`;
  let db = dac(engine, cluster, secret, DATABASE);
  if (engine === 'mysql') {
    // Its integration tests' setup: drop and re-create a database, then use it.
    const dbx = `dac_db_${suffix}`;
    await check(`${p}.drop-create-database-then-use`, async () => {
      const admin = dac(engine, cluster, secret, undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${dbx}`);
      await admin.query(`CREATE DATABASE ${dbx}`);
      const inDb = dac(engine, cluster, secret, dbx);
      await inDb.query('CREATE TABLE t (i int)');
      await inDb.query('INSERT INTO t VALUES (:i)', { i: 1 });
      await admin.query(`DROP DATABASE ${dbx}`);
      await admin.query(`CREATE DATABASE ${dbx}`);
      await inDb.query('CREATE TABLE t (i int)');
      const r = await inDb.query('SELECT COUNT(*) AS n FROM t');
      expect(r.records[0].n === 0, json(r));
      await admin.query(`DROP DATABASE ${dbx}`);
    });
  }
  const idCol = engine === 'mysql' ? 'id INT AUTO_INCREMENT PRIMARY KEY' : 'id serial PRIMARY KEY';
  await check(`${p}.create-table`, async () => {
    await db.query(`CREATE TABLE ${tbl} (${idCol}, name VARCHAR(50) NOT NULL, age INT)`);
  });
  await check(`${p}.insert-named-params`, async () => {
    const r = await db.query(`INSERT INTO ${tbl} (name, age) VALUES (:name, :age)`, { name: 'Alice', age: 30 });
    expect(r.numberOfRecordsUpdated === 1, json(r));
    if (engine === 'mysql') expect(r.insertId === 1, 'insertId ' + json(r));
  });
  await check(`${p}.batch-insert`, async () => {
    const r = await db.query(`INSERT INTO ${tbl} (name, age) VALUES (:name, :age)`, [[{ name: 'Bob', age: 40 }], [{ name: 'Carol', age: null }]]);
    expect(Array.isArray(r.updateResults) && r.updateResults.length === 2, json(r));
  });
  await check(`${p}.select-hydrated`, async () => {
    const r = await db.query(`SELECT id, name, age FROM ${tbl} WHERE age IS NULL OR age > :min ORDER BY id`, { min: 10 });
    expect(json(r.records.map((x) => [x.name, x.age])) === json([['Alice', 30], ['Bob', 40], ['Carol', null]]), json(r.records));
  });
  await check(`${p}.transaction-commit`, async () => {
    const r = await db.transaction()
      .query(`INSERT INTO ${tbl} (name, age) VALUES (:name, :age)`, { name: 'Dave', age: 50 })
      .query((prev) => [`UPDATE ${tbl} SET age = age + 1 WHERE name = :name`, { name: 'Dave' }])
      .rollback((e) => { throw e; })
      .commit();
    expect(Array.isArray(r) && r[r.length - 1].transactionStatus === 'Transaction Committed', json(r));
    const c = await db.query(`SELECT age FROM ${tbl} WHERE name = 'Dave'`);
    expect(c.records.length === 1 && c.records[0].age === 51, json(c));
  });
  await check(`${p}.transaction-failed-rolls-back`, async () => {
    let rolledBack = false;
    try {
      await db.transaction()
        .query(`INSERT INTO ${tbl} (name, age) VALUES ('Eve', 1)`)
        .query(`INSERT INTO no_such_table_${suffix} VALUES (1)`)
        .rollback(() => { rolledBack = true; })
        .commit();
    } catch { /* expected */ }
    const c = await db.query(`SELECT COUNT(*) AS n FROM ${tbl} WHERE name = 'Eve'`);
    expect(rolledBack && Number(c.records[0].n) === 0, `rollback callback ${rolledBack}, rows ${json(c.records)}`);
  });
  await check(`${p}.no-state-between-calls`, async () => {
    await db.query(engine === 'mysql' ? "SET @leak = 'x'" : "SET search_path TO pg_catalog");
    const r = await db.query(engine === 'mysql' ? "SELECT COALESCE(@leak, 'none') AS v" : "SELECT current_setting('search_path') AS v");
    expect(r.records[0].v !== 'x' && r.records[0].v !== 'pg_catalog', json(r.records));
  });
  await check(`${p}.drop-table`, async () => { await db.query(`DROP TABLE ${tbl}`); });
}

async function drizzleFlow(secret) {
  const p = 'k.drizzle.pg';
  const tbl = `drizzle_users_${suffix}`;
  const rds = new RDSDataClient({ endpoint: ENDPOINT, region: REGION, maxAttempts: 1 });
  const db = drizzle(rds, { database: DATABASE, resourceArn: `${ARN}:pg`, secretArn: secret });
  const users = pgTable(tbl, { id: serial('id').primaryKey(), name: text('name').notNull(), n: integer('n') });
  const names = async () => (await db.select({ name: users.name }).from(users).orderBy(asc(users.id))).map((r) => r.name);
  await check(`${p}.create-table`, async () => {
    await db.execute(sql`CREATE TABLE ${users} (id serial PRIMARY KEY, name text NOT NULL, n integer)`);
  });
  await check(`${p}.insert-returning`, async () => {
    const r = await db.insert(users).values([{ name: 'a', n: 1 }, { name: 'b', n: 2 }]).returning({ id: users.id });
    expect(r.length === 2 && r[0].id === 1 && r[1].id === 2, json(r));
  });
  await check(`${p}.select-where`, async () => {
    const r = await db.select().from(users).where(eq(users.name, 'b'));
    expect(json(r) === json([{ id: 2, name: 'b', n: 2 }]), json(r));
  });
  await check(`${p}.update`, async () => {
    await db.update(users).set({ n: 20 }).where(eq(users.name, 'b'));
    const r = await db.select({ n: users.n }).from(users).where(eq(users.name, 'b'));
    expect(r[0].n === 20, json(r));
  });
  await check(`${p}.transaction-nested-savepoint`, async () => {
    await db.transaction(async (tx) => {
      await tx.insert(users).values({ name: 'c' });
      await tx.transaction(async (tx2) => {
        await tx2.insert(users).values({ name: 'd' });
        tx2.rollback();
      }).catch(() => {});
      await tx.transaction(async (tx2) => { await tx2.insert(users).values({ name: 'e' }); });
    });
    const got = await names();
    expect(json(got) === json(['a', 'b', 'c', 'e']), json(got));
  });
  await check(`${p}.transaction-rollback`, async () => {
    await db.transaction(async (tx) => {
      await tx.insert(users).values({ name: 'f' });
      tx.rollback();
    }).catch(() => {});
    const got = await names();
    expect(!got.includes('f'), json(got));
  });
  await check(`${p}.transaction-isolation-level`, async () => {
    const lvl = await db.transaction(async (tx) => (await tx.execute(sql`SHOW transaction_isolation`)).records[0],
      { isolationLevel: 'serializable' });
    expect(json(lvl).includes('serializable'), json(lvl));
  });
  await check(`${p}.drop-table`, async () => { await db.execute(sql`DROP TABLE ${users}`); });
}

await dataApiClientFlow('mysql', 'maria', env('SECRET_MARIA'));
await dataApiClientFlow('pg', 'pg', env('SECRET_PG'));
await drizzleFlow(env('SECRET_PG'));
process.exit(failed ? 1 : 0);
