// proxy_crosstalk_pg.mjs: the cross-talk churn through sqlgate's PostgreSQL
// proxy with node-postgres (pg). Four setters each connect, run SET
// lock_timeout / SET statement_timeout and disconnect at once; four
// probers each connect and run SELECT <random k> and read the two
// timeouts. Every prober must get its own k back and the server defaults,
// with no error, for CHURN_SECONDS (at least 8).
// Environment: PROXY_PORT, PGUSER, PGPASSWORD, DB_NAME, CHURN_SECONDS, LABEL
// (the check's name).
import pg from 'pg';

const config = {
  host: '127.0.0.1', port: Number(process.env.PROXY_PORT), user: process.env.PGUSER || 'sqlgate',
  password: process.env.PGPASSWORD, database: process.env.DB_NAME, ssl: false, connectionTimeoutMillis: 30000,
};
const duration = Math.max(8, Number(process.env.CHURN_SECONDS || 8));
const label = process.env.LABEL || 'h.pg.crosstalk.node-postgres';
const stop = Date.now() + duration * 1000;
const stats = { probes: 0, sets: 0, wrong: 0, errors: 0, first: null };
const note = (key, detail) => {
  stats[key]++;
  if (detail && stats.first === null) stats.first = detail;
};

// client returns a Client whose asynchronous errors (a reply it did not
// expect) are counted instead of crashing the process.
function client() {
  const c = new pg.Client(config);
  c.on('error', (e) => note('errors', `client: ${e.message}`));
  return c;
}

async function setter(i) {
  const sql = i % 2 === 0 ? 'SET lock_timeout = 4321' : 'SET statement_timeout = 98765';
  while (Date.now() < stop) {
    const c = client();
    try {
      await c.connect();
      await c.query(sql);
      note('sets');
    } catch (e) {
      note('errors', `setter: ${e.message}`);
    }
    await c.end().catch(() => {}); // Terminate right after the reply
  }
}

async function prober() {
  while (Date.now() < stop) {
    const c = client();
    try {
      await c.connect();
      for (let j = 0; j < 3; j++) {
        const k = Math.floor(Math.random() * 2 ** 30);
        // j == 1: extended protocol (parameterised), else simple.
        const r = j === 1 ? await c.query('SELECT $1::int AS k', [k]) : await c.query(`SELECT ${k} AS k`);
        note('probes');
        if (Number(r.rows[0].k) !== k) note('wrong', `asked ${k}, got ${JSON.stringify(r.rows[0])}`);
        const s = await c.query("SELECT current_setting('lock_timeout') AS lt, current_setting('statement_timeout') AS st");
        if (s.rows[0].lt !== '0' || s.rows[0].st !== '0') note('wrong', `prober sees ${JSON.stringify(s.rows[0])}`);
      }
    } catch (e) {
      note('errors', `prober: ${e.message}`);
    }
    await c.end().catch(() => {});
  }
}

await Promise.all([0, 1, 2, 3].map(setter).concat([0, 1, 2, 3].map(() => prober())));
const summary = `${stats.probes} probes, ${stats.sets} sets, ${stats.wrong} wrong, ${stats.errors} errors`;
if (stats.wrong || stats.errors || stats.probes < 100) {
  console.log(`FAIL ${label}: ${summary}; first: ${stats.first}`);
  process.exit(1);
}
console.log(`PASS ${label} (${summary} in ${duration} s)`);
