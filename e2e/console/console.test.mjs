// console.test.mjs drives sqlgate's web console in headless Chromium
// (Debian's /usr/bin/chromium via playwright-core) against a running
// sqlgate with a MariaDB cluster. e2e/console.sh starts everything and
// passes:
//   BASE        http://127.0.0.1:PORT (sqlgate's HTTP listener)
//   ROOT_AKID, ROOT_SECRET   root key pair
//   CLUSTER_ARN the MariaDB cluster; DB_USER, DB_PASS its login, DB_NAME
//               its database
//   OUT_DIR     where screenshots go
// Each check prints "PASS name" or "FAIL name: detail".
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE');
const ROOT_AKID = env('ROOT_AKID');
const ROOT_SECRET = env('ROOT_SECRET');
const CLUSTER_ARN = env('CLUSTER_ARN');
const DB_USER = env('DB_USER');
const DB_PASS = env('DB_PASS');
const DB_NAME = env('DB_NAME');
const OUT = env('OUT_DIR');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SECRET_NAME = 'console-maria-' + Date.now().toString(36);
const XSS = '<img src=x onerror="window.__xss=1">';
const XSS_TABLE = '<img src=x onerror=window.__xss=2>';
mkdirSync(OUT, { recursive: true });

let passed = 0, failed = 0;
function pass(name) { passed++; console.log('PASS ' + name); }
function fail(name, detail) { failed++; console.log(`FAIL ${name}: ${String(detail).replace(/\s+/g, ' ').slice(0, 600)}`); }
async function check(name, fn) {
  try {
    const r = await fn();
    if (r === false) fail(name, 'condition false'); else pass(name);
  } catch (e) {
    fail(name, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' ') : e);
  }
}
function expect(cond, msg) { if (!cond) throw new Error(msg); }

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});

async function newPage(viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => console.error('page error:', e.message));
  return { context, page };
}

async function shot(page, name) {
  await page.screenshot({ path: join(OUT, name + '.png'), fullPage: true });
}

async function signIn(page, akid, secret) {
  await page.goto(BASE + '/console/');
  await page.fill('#login-akid', akid);
  await page.fill('#login-secret', secret);
  await page.click('#login-submit');
}

// runSQL puts sql in the editor, the cursor at its end, presses
// Ctrl+Enter and waits for the run to finish; it returns the status text.
async function runSQL(page, sql, { all = false } = {}) {
  await page.fill('#sql', sql);
  await page.evaluate(() => { const t = document.getElementById('sql'); t.focus(); t.setSelectionRange(t.value.length, t.value.length); });
  if (all) await page.click('#q-run-all'); else await page.press('#sql', 'Control+Enter');
  await page.waitForFunction(() => {
    const s = document.getElementById('q-status');
    return s && s.textContent && !/^Running/.test(s.textContent) && !document.getElementById('q-run').disabled;
  });
  return page.textContent('#q-status');
}

const gridRows = (page) => page.$$eval('#q-results table.results tbody tr', (trs) => trs.map((tr) => [...tr.children].slice(1).map((td) => td.textContent)));

// ---------------------------------------------------------------- root
const { context: rootCtx, page } = await newPage();

await check('page.csp-header', async () => {
  const res = await page.goto(BASE + '/console/');
  const csp = res.headers()['content-security-policy'] || '';
  expect(csp.startsWith("default-src 'self'"), 'CSP: ' + csp);
  await page.waitForSelector('#login-form');
  await shot(page, '01-login');
});

await check('login.wrong-secret-rejected', async () => {
  await signIn(page, ROOT_AKID, 'not-the-secret');
  await page.waitForSelector('#login-form .msg.error');
  const t = await page.textContent('#login-form .msg.error');
  expect(/not valid/.test(t), t);
  expect(!(await page.isVisible('#nav')), 'nav visible after a failed sign-in');
});

await check('security.session-fixation', async () => {
  const host = new URL(BASE).hostname;
  await rootCtx.addCookies([{ name: 'sqlgate_console', value: 'planted-by-attacker-0000000000000000000000', domain: host, path: '/console/' }]);
  await signIn(page, ROOT_AKID, ROOT_SECRET);
  await page.waitForSelector('#nav:not([hidden])');
  const ck = (await rootCtx.cookies()).find((c) => c.name === 'sqlgate_console');
  expect(ck && ck.value !== 'planted-by-attacker-0000000000000000000000', 'planted session id kept');
  expect(ck.httpOnly && ck.sameSite === 'Strict', `cookie flags httpOnly=${ck.httpOnly} sameSite=${ck.sameSite}`);
  const r = await fetch(BASE + '/console/api/session', { headers: { Cookie: 'sqlgate_console=planted-by-attacker-0000000000000000000000' } });
  expect(r.status === 401, 'planted id answered ' + r.status);
  const ok = await fetch(BASE + '/console/api/session', { headers: { Cookie: 'sqlgate_console=' + ck.value } });
  expect(ok.status === 200, 'real session answered ' + ok.status);
});

await check('security.session-cookie-not-readable-by-script', async () => {
  const c = await page.evaluate(() => document.cookie);
  expect(!c.includes('sqlgate_console'), 'document.cookie shows the session: ' + c);
});

await check('security.csrf-token-required', async () => {
  const codes = await page.evaluate(async () => {
    const body = JSON.stringify({ Name: 'csrf-probe', SecretString: 'x' });
    const a = await fetch('api/secretsmanager/CreateSecret', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    const b = await fetch('api/secretsmanager/CreateSecret', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'wrong' }, body });
    return [a.status, b.status];
  });
  expect(codes[0] === 403 && codes[1] === 403, 'statuses ' + codes);
});

await check('security.cross-site-request-forgery', async () => {
  // A page on another origin (localhost vs 127.0.0.1) posts to the
  // console with the victim's browser: the SameSite=Strict cookie stays
  // home and the server refuses the foreign Origin.
  const evil = await rootCtx.newPage();
  const other = BASE.replace('127.0.0.1', 'localhost');
  await evil.goto(other + '/healthz');
  await evil.evaluate(async (target) => {
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded']) {
      try {
        await fetch(target + '/console/api/secretsmanager/CreateSecret', { method: 'POST', mode: 'no-cors', credentials: 'include',
          headers: { 'Content-Type': ct }, body: JSON.stringify({ Name: 'csrf-attack', SecretString: 'pwned' }) });
      } catch { /* opaque */ }
    }
  }, BASE);
  await evil.close();
  const exists = await page.evaluate(async () => {
    const r = await fetch('api/session');
    const { csrfToken } = await r.json();
    const d = await fetch('api/secretsmanager/DescribeSecret', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken }, body: JSON.stringify({ SecretId: 'csrf-attack' }) });
    return d.status;
  });
  expect(exists !== 200, 'the forged request created the secret');
});

await check('query.new-secret-inline', async () => {
  await page.goto(BASE + '/console/#/query');
  await page.waitForSelector('#q-cluster');
  await page.fill('#q-cluster', CLUSTER_ARN);
  await page.click('#q-new-secret');
  await page.fill('#ns-name', SECRET_NAME);
  await page.fill('#ns-user', DB_USER);
  await page.fill('#ns-pass', DB_PASS);
  await page.click('#ns-create');
  await page.waitForFunction(() => document.getElementById('q-secret').value.startsWith('arn:aws:secretsmanager:'));
  await page.fill('#q-database', '');
  await page.dispatchEvent('#q-database', 'change');
});

await check('query.seed001-create-database', async () => {
  let st = await runSQL(page, 'DROP DATABASE IF EXISTS simple_db');
  expect(/affected/.test(st), st);
  st = await runSQL(page, 'CREATE DATABASE simple_db;');
  expect(/affected/.test(st), st);
});

await check('query.seed001-table-and-rows', async () => {
  await page.fill('#q-database', 'simple_db');
  await page.dispatchEvent('#q-database', 'change');
  const st = await runSQL(page, `CREATE TABLE users (
    id INT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(50)
);

INSERT INTO users (name) VALUES ('Alice'), ('Bob'), ('Charlie');`, { all: true });
  expect(/2 statements/.test(st) && /3 row\(s\) affected/.test(st), st);
});

await check('query.seed001-select-grid', async () => {
  const st = await runSQL(page, 'SELECT * FROM users;');
  expect(/3 rows/.test(st) && /ms/.test(st), st);
  const rows = await gridRows(page);
  expect(JSON.stringify(rows) === JSON.stringify([['1', 'Alice'], ['2', 'Bob'], ['3', 'Charlie']]), JSON.stringify(rows));
  const types = await page.$$eval('#q-results th .col-type', (els) => els.map((e) => e.textContent));
  expect(types[0] === 'int' && types[1] === 'varchar', 'column types ' + types);
  await shot(page, '02-query-editor');
});

// Seed 001's script pasted unchanged: Run all runs it in one session, so
// its USE holds for the statements after it.
await check('query.seed001-script-run-all-unchanged', async () => {
  await page.fill('#q-database', '');
  await page.dispatchEvent('#q-database', 'change');
  let st = await runSQL(page, 'DROP DATABASE IF EXISTS simple_db');
  expect(/affected/.test(st), st);
  st = await runSQL(page, `CREATE DATABASE simple_db;
USE simple_db;

CREATE TABLE users (
    id INT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(50)
);

INSERT INTO users (name) VALUES ('Alice'), ('Bob'), ('Charlie');`, { all: true });
  expect(/4 statements/.test(st) && /3 row\(s\) affected/.test(st), st);
  // Run (one statement) starts from a clean session: the USE did not leak.
  st = await runSQL(page, 'SELECT DATABASE() AS db');
  const rows = await gridRows(page);
  expect(rows.length === 1 && rows[0][0] !== 'simple_db', 'USE leaked into a later Run: ' + JSON.stringify(rows));
  await page.fill('#q-database', 'simple_db');
  await page.dispatchEvent('#q-database', 'change');
  st = await runSQL(page, 'SELECT * FROM users;');
  expect(/3 rows/.test(st), st);
});

await check('query.statement-under-cursor', async () => {
  await page.fill('#sql', "SELECT 'first';\nSELECT 'second' AS s;\nSELECT 'third';");
  await page.evaluate(() => { const t = document.getElementById('sql'); const i = t.value.indexOf('second'); t.focus(); t.setSelectionRange(i, i); });
  await page.press('#sql', 'Control+Enter');
  await page.waitForFunction(() => /1 row/.test(document.getElementById('q-status').textContent));
  const rows = await gridRows(page);
  expect(rows.length === 1 && rows[0][0] === 'second', JSON.stringify(rows));
});

await check('query.null-shown-distinctly', async () => {
  await runSQL(page, 'SELECT NULL AS n, 1 AS one');
  const cell = await page.$eval('#q-results tbody td:nth-child(2)', (td) => ({ cls: td.className, text: td.textContent }));
  expect(cell.cls.includes('null') && cell.text === 'NULL', JSON.stringify(cell));
  const plain = await page.$eval('#q-results tbody td:nth-child(3)', (td) => td.className);
  expect(!plain.includes('null'), 'non-null cell marked null');
});

await check('query.sql-error-shows-database-message', async () => {
  const st = await runSQL(page, 'SELECT * FROM no_such_table');
  expect(/no_such_table' doesn't exist/.test(st), st);
  expect(await page.$('#q-results table') === null, 'a grid is shown after an error');
  await shot(page, '03-query-error');
});

await check('security.xss-column-value-and-table-name', async () => {
  await runSQL(page, 'CREATE TABLE `' + XSS_TABLE + '` (v VARCHAR(100))');
  await runSQL(page, "INSERT INTO `" + XSS_TABLE + "` VALUES ('" + XSS.replace(/'/g, "''") + "')");
  await runSQL(page, "SELECT v, '" + XSS.replace(/'/g, "''") + "' AS `" + XSS + "` FROM `" + XSS_TABLE + '`');
  const cells = (await gridRows(page))[0];
  expect(cells[0] === XSS && cells[1] === XSS, JSON.stringify(cells));
  const head = await page.$$eval('#q-results th .col-name', (e) => e.map((x) => x.textContent));
  expect(head.includes(XSS), 'column name not rendered as text: ' + head);
  await runSQL(page, 'SHOW TABLES');
  const tables = (await gridRows(page)).map((r) => r[0]);
  expect(tables.includes(XSS_TABLE), 'table name: ' + tables);
  await runSQL(page, 'SELECT * FROM `' + XSS_TABLE + 'x`'); // error message naming it
  const st = await page.textContent('#q-status');
  expect(st.includes(XSS_TABLE), st);
  const imgs = await page.$$eval('main img', (e) => e.length);
  const fired = await page.evaluate(() => window.__xss);
  expect(imgs === 0 && fired === undefined, `imgs=${imgs} xss=${fired}`);
  await runSQL(page, 'DROP TABLE `' + XSS_TABLE + '`');
});

await check('query.history-numbered', async () => {
  const items = await page.$$eval('#q-history li', (li) => li.map((x) => [x.value, x.textContent]));
  expect(items.length >= 8 && items[0][0] > items[1][0], JSON.stringify(items.slice(0, 3)));
  expect(items.some(([, t]) => t.includes('SELECT * FROM users')), 'SELECT not in history');
});

await check('query.export-csv-json', async () => {
  await runSQL(page, 'SELECT * FROM users ORDER BY id');
  const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csv = readFileSync(await csvDl.path(), 'utf8');
  expect(csv === 'id,name\r\n1,Alice\r\n2,Bob\r\n3,Charlie\r\n', JSON.stringify(csv));
  const [jsonDl] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const json = JSON.parse(readFileSync(await jsonDl.path(), 'utf8'));
  expect(json.length === 3 && json[2].name === 'Charlie' && json[2].id === 3, JSON.stringify(json));
});

await check('query.saved-queries', async () => {
  await page.fill('#sql', 'SELECT COUNT(*) AS n FROM users');
  await page.fill('#q-save-name', 'count users');
  await page.click('#q-save');
  await page.fill('#sql', '');
  await page.click('#q-saved button:has-text("count users")');
  expect((await page.inputValue('#sql')) === 'SELECT COUNT(*) AS n FROM users', 'saved query not loaded');
});

await check('query.transaction-rollback', async () => {
  await page.click('#q-begin');
  await page.waitForFunction(() => /In transaction/.test(document.getElementById('q-tx').textContent));
  let st = await runSQL(page, "INSERT INTO users (name) VALUES ('Dave')");
  expect(/1 row\(s\) affected/.test(st), st);
  await page.click('#q-rollback');
  await page.waitForFunction(() => /Auto-commit/.test(document.getElementById('q-tx').textContent));
  st = await runSQL(page, 'SELECT COUNT(*) AS n FROM users');
  const rows = await gridRows(page);
  expect(rows[0][0] === '3', 'count after rollback ' + JSON.stringify(rows));
});

await check('query.transaction-commit', async () => {
  await page.click('#q-begin');
  await page.waitForFunction(() => /In transaction/.test(document.getElementById('q-tx').textContent));
  await runSQL(page, "INSERT INTO users (name) VALUES ('Erin')");
  await page.click('#q-commit');
  await page.waitForFunction(() => /Committed/.test(document.getElementById('q-status').textContent));
  await runSQL(page, 'SELECT COUNT(*) AS n FROM users');
  expect((await gridRows(page))[0][0] === '4', 'count after commit');
  await runSQL(page, "DELETE FROM users WHERE name = 'Erin'");
});

await check('query.cancel-running-statement', async () => {
  await page.fill('#sql', 'SELECT SLEEP(20) AS slept');
  await page.evaluate(() => document.getElementById('sql').focus());
  const t0 = Date.now();
  await page.press('#sql', 'Control+Enter');
  await page.waitForTimeout(800);
  await page.click('#q-cancel');
  await page.waitForFunction(() => /Cancelled/.test(document.getElementById('q-status').textContent));
  expect(Date.now() - t0 < 8000, 'cancel took ' + (Date.now() - t0) + ' ms');
  // The server saw the client go and killed the statement.
  let left = -1;
  for (let i = 0; i < 20 && left !== 0; i++) {
    await page.waitForTimeout(250);
    await runSQL(page, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(20)%'");
    left = Number((await gridRows(page))[0][0]);
  }
  expect(left === 0, 'SLEEP still running on the database: ' + left);
});

await check('query.large-result-paged', async () => {
  const st = await runSQL(page, 'SELECT seq, REPEAT(\'x\', 20) AS pad FROM seq_1_to_5000');
  expect(/5000 rows/.test(st), st);
  const shown = await page.$$eval('#q-results tbody tr', (t) => t.length);
  const pager = await page.textContent('#q-results .page-no');
  expect(shown === 100 && /of 50/.test(pager), `${shown} rows in the DOM, pager "${pager}"`);
});

await check('clusters.page', async () => {
  await page.goto(BASE + '/console/#/clusters');
  await page.waitForSelector('#clusters-table');
  const t = await page.textContent('#clusters-table');
  expect(t.includes('maria') && t.includes('mysql') && t.includes('enabled') && /busy · \d+ idle/.test(t), t);
  await shot(page, '04-clusters');
});

await check('secrets.value-hidden-until-revealed', async () => {
  await page.goto(BASE + '/console/#/secrets');
  await page.click(`[data-secret="${SECRET_NAME}"]`);
  await page.waitForSelector('#s-versions');
  const before = await page.content();
  expect(!before.includes(DB_PASS), 'the secret value is in the page before Reveal');
  const vt = await page.textContent('#s-versions');
  expect(vt.includes('AWSCURRENT'), 'versions/stages: ' + vt);
  await shot(page, '05-secrets');
  await page.click('#s-reveal');
  await page.waitForSelector('#s-value pre');
  expect((await page.textContent('#s-value pre')).includes(DB_PASS), 'revealed value');
  await page.click('#s-reveal');
  expect(!(await page.content()).includes(DB_PASS), 'Hide left the value in the page');
});

await check('secrets.rotate', async () => {
  await page.click('#s-rotate');
  await page.fill('#r-user', DB_USER);
  await page.fill('#r-pass', DB_PASS);
  await page.click('#r-save');
  await page.waitForFunction(() => /AWSPREVIOUS/.test(document.getElementById('s-versions')?.textContent || ''));
});

let denied = null;
await check('proxies.create-from-secret-targets-pool-delete', async () => {
  // Seed 002's console flow: a proxy from a secret, its cluster registered,
  // the target's health, the pool settings, then delete.
  await page.goto(BASE + '/console/#/proxies');
  await page.waitForSelector('#proxies-table');
  await page.click('#p-new');
  await page.fill('#p-name', 'console-proxy');
  await page.selectOption('#p-family', 'MYSQL');
  await page.waitForFunction(() => document.querySelectorAll('#p-secret option').length > 0 && document.querySelectorAll('#p-cluster option').length > 1);
  await page.selectOption('#p-secret', { label: SECRET_NAME });
  await page.selectOption('#p-cluster', 'maria');
  await page.click('#p-create-btn');
  await page.waitForSelector('#p-targets');
  const t = await page.textContent('#p-targets');
  expect(t.includes('AVAILABLE') && t.includes('maria'), 'targets: ' + t);
  const ep = await page.textContent('#p-endpoint');
  expect(/^127\.0\.0\.1:\d+$/.test(ep), 'endpoint ' + ep);
  await shot(page, '06-proxies');
  await page.fill('#p-borrow', '45');
  await page.click('#p-pool-save');
  await page.waitForSelector('#p-detail .msg.ok');
  const borrow = await page.evaluate(async () => {
    const r = await fetch('api/session', { credentials: 'same-origin' });
    const csrf = (await r.json()).csrfToken;
    const res = await fetch('api/rds', { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': csrf },
      body: 'Action=DescribeDBProxyTargetGroups&Version=2014-10-31&DBProxyName=console-proxy' });
    return (await res.text()).match(/<ConnectionBorrowTimeout>(\d+)</)?.[1];
  });
  expect(borrow === '45', 'borrow timeout after save: ' + borrow);
  page.once('dialog', (d) => d.accept());
  await page.click('#p-delete');
  await page.waitForFunction(() => !document.querySelector('#proxies-table').textContent.includes('console-proxy'));
});

// runSnippet runs the wizard's environment and client command with a
// query added, as a user pasting them into a shell with the root key.
function runSnippet(envText, cli, query) {
  return execFileSync('bash', ['-c', `${envText}\n${cli} -N -B -e ${JSON.stringify(query)}`], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: ROOT_AKID, AWS_SECRET_ACCESS_KEY: ROOT_SECRET }, timeout: 60000, encoding: 'utf8',
  }).trim();
}

await check('connect.through-proxy', async () => {
  // A proxy made with the RDS API, then the wizard's "through a proxy":
  // host and port, and commands that really connect with the secret's
  // password and with an IAM token.
  const made = await page.evaluate(async (secret) => {
    const { csrfToken } = await (await fetch('api/session')).json();
    const call = async (body) => (await fetch('api/rds', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': csrfToken },
      body: 'Version=2014-10-31&' + body })).status;
    return [await call('Action=CreateDBProxy&DBProxyName=console-cp&EngineFamily=MYSQL&RoleArn=r&VpcSubnetIds.member.1=s&Auth.member.1.SecretArn=' +
      encodeURIComponent(secret) + '&Auth.member.1.IAMAuth=ENABLED'),
    await call('Action=RegisterDBProxyTargets&DBProxyName=console-cp&DBClusterIdentifiers.member.1=maria')];
  }, SECRET_NAME);
  expect(made.join() === '200,200', 'create/register: ' + made);
  await page.goto(BASE + '/console/#/connect');
  await page.check('#cn-via-proxy');
  expect(await page.isHidden('#cn-dataapi'), 'the Data API form stays visible');
  await page.waitForFunction(() => [...document.querySelectorAll('#cp-proxy option')].some((o) => o.textContent.startsWith('console-cp')));
  await page.selectOption('#cp-proxy', { label: 'console-cp (default endpoint)' });
  await page.fill('#cp-db', DB_NAME);
  await page.waitForFunction(() => /^\d+$/.test(document.getElementById('cp-port')?.textContent || ''));
  expect(await page.textContent('#cp-host') === '127.0.0.1', 'host ' + await page.textContent('#cp-host'));
  let cli = await page.textContent('#cp-cli');
  const envText = await page.textContent('#cp-env');
  expect(cli.includes('mariadb -h 127.0.0.1 -P ' + await page.textContent('#cp-port')) && envText.includes('secretsmanager get-secret-value'), cli + envText);
  expect(!cli.includes(DB_PASS) && !envText.includes(DB_PASS), 'the password is shown');
  await shot(page, '07-connect-proxy');
  // The proxy may still be starting: retry the first connection a little.
  let out = '';
  for (let i = 0; i < 20 && out !== '42'; i++) {
    try { out = runSnippet(envText, cli, 'select 6*7'); } catch (e) { out = String(e.stderr || e); await page.waitForTimeout(250); }
  }
  expect(out === '42', 'secret snippet: ' + out);
  await page.check('#cp-auth-iam');
  await page.fill('#cp-user', DB_USER);
  cli = await page.textContent('#cp-cli');
  expect(cli.includes('generate-db-auth-token') && cli.includes('--username ' + DB_USER) && (await page.textContent('#cp-url')).startsWith('mysql://' + DB_USER + '@127.0.0.1:'), cli);
  out = runSnippet(await page.textContent('#cp-env'), cli, 'select 7*6');
  expect(out === '42', 'IAM token snippet: ' + out);
  await page.evaluate(async () => {
    const { csrfToken } = await (await fetch('api/session')).json();
    await fetch('api/rds', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': csrfToken },
      body: 'Version=2014-10-31&Action=DeleteDBProxy&DBProxyName=console-cp' });
  });
});

await check('users.create-user-key-and-policy', async () => {
  const name = 'console-denied-' + Date.now().toString(36);
  await page.goto(BASE + '/console/#/users');
  await page.fill('#u-new-name', name);
  await page.click('#u-create');
  await page.waitForSelector('#u-create-key');
  await page.click('#u-create-key');
  await page.waitForSelector('#u-new-secret');
  denied = { name, akid: await page.textContent('#u-new-akid'), secret: await page.textContent('#u-new-secret') };
  expect(denied.secret.length === 40, 'secret shown once: ' + denied.secret.length);
  await page.fill('#u-pol-name', 'deny-maria');
  await page.fill('#u-pol-doc', '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}');
  await page.click('#u-pol-save');
  await page.waitForSelector('#u-pol-check .msg.error');
  const doc = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['rds-data:*', 'secretsmanager:GetSecretValue', 'secretsmanager:ListSecrets'], Resource: '*' },
      { Effect: 'Deny', Action: 'rds-data:*', Resource: CLUSTER_ARN },
    ],
  };
  await page.fill('#u-pol-doc', JSON.stringify(doc, null, 2));
  await page.click('#u-pol-save');
  // The saved policy appears in the user's inline list (the page re-renders
  // after the save, which may clear the transient "Saved" message first).
  await page.waitForSelector('[data-policy="deny-maria"]');
});

await check('users.simulate', async () => {
  await page.fill('#sim-action', 'rds-data:ExecuteStatement');
  await page.fill('#sim-resource', CLUSTER_ARN);
  await page.click('#sim-run');
  await page.waitForSelector('#sim-out .msg');
  const t = await page.textContent('#sim-out');
  expect(/explicitDeny/.test(t) && /deny-maria/.test(t), t);
  await shot(page, '06-users');
});

await check('connect.wizard', async () => {
  // The default: a role for the function and a workload; no access key.
  const fnName = 'orders' + Date.now().toString(36);
  await page.goto(BASE + '/console/#/connect');
  await page.fill('#cn-function', fnName);
  await page.fill('#cn-cluster', CLUSTER_ARN);
  await page.fill('#cn-secret', SECRET_NAME);
  expect(await page.isHidden('#cn-key-warning'), 'the access-key warning shows before the weaker mode is chosen');
  await page.click('#cn-go');
  await page.waitForSelector('#cn-env');
  const envText = await page.textContent('#cn-env');
  const uri = (envText.match(/AWS_CONTAINER_CREDENTIALS_FULL_URI=(\S+)/) || [])[1];
  const token = (envText.match(/AWS_CONTAINER_AUTHORIZATION_TOKEN=(\S+)/) || [])[1];
  expect(envText.includes('CLUSTER_ARN=' + CLUSTER_ARN) && uri && uri.endsWith('/v1/credentials/' + fnName) && /^sgwt_/.test(token || '') &&
    !/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/.test(envText), envText);
  // The role trusts only the function's service and carries the plan's policy.
  const role = await page.evaluate(async (name) => {
    const { csrfToken } = await (await fetch('api/session')).json();
    const res = await fetch('api/iam', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': csrfToken },
      body: 'Action=GetRole&Version=2010-05-08&RoleName=fn-' + name });
    return res.text();
  }, fnName);
  expect(decodeURIComponent(role).includes('"lambda.amazonaws.com"'), role);
  // The variables work: the bootstrap token fetches role credentials, as an SDK would.
  const res = await fetch(uri, { headers: { Authorization: token } });
  const creds = await res.json();
  expect(res.ok && /^ASIA/.test(creds.AccessKeyId) && creds.Token && creds.Expiration, JSON.stringify(creds));
  const wrong = await fetch(uri, { headers: { Authorization: token + 'x' } });
  expect(wrong.status >= 400, 'a wrong bootstrap token got ' + wrong.status);
  await shot(page, '07-connect');
});

await check('connect.wizard-access-key-is-explicit', async () => {
  await page.goto(BASE + '/console/#/connect');
  await page.fill('#cn-function', 'keyed' + Date.now().toString(36));
  await page.fill('#cn-cluster', CLUSTER_ARN);
  await page.fill('#cn-secret', SECRET_NAME);
  await page.check('#cn-mode-key');
  expect(/weaker/i.test(await page.textContent('#cn-key-warning')) && await page.isVisible('#cn-key-warning'), 'no warning for the key mode');
  await page.click('#cn-go');
  await page.waitForSelector('#cn-env');
  const envText = await page.textContent('#cn-env');
  expect(/AWS_SECRET_ACCESS_KEY=\S{40}/.test(envText) && !/AWS_CONTAINER_AUTHORIZATION_TOKEN/.test(envText), envText);
});

await check('metrics.live-charts', async () => {
  await page.goto(BASE + '/console/#/metrics');
  await page.waitForFunction(() => document.querySelectorAll('#m-charts canvas').length >= 3, null, { timeout: 15000 });
  // Some Data API traffic (and one error) for the charts to show.
  await page.evaluate(async ({ cluster, secret }) => {
    const { csrfToken } = await (await fetch('api/session')).json();
    const run = (sql) => fetch('api/rds-data/Execute', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken },
      body: JSON.stringify({ resourceArn: cluster, secretArn: secret, database: 'simple_db', sql }) });
    const end = Date.now() + 7000;
    for (let i = 0; Date.now() < end; i++) {
      await run(i % 10 === 9 ? 'SELECT * FROM nope' : 'SELECT SLEEP(' + (i % 5) / 100 + ')');
    }
  }, { cluster: CLUSTER_ARN, secret: SECRET_NAME });
  await page.waitForTimeout(2200);
  const titles = await page.$$eval('#m-charts h3', (e) => e.map((x) => x.textContent));
  expect(titles.some((t) => /Data API requests/.test(t)) && titles.some((t) => /percentiles/.test(t)), titles.join(' | '));
  const latest = await page.$$eval('#m-charts .latest', (e) => e.map((x) => x.textContent).join(' | '));
  expect(/p50: [0-9.]+ ms/.test(latest) && /all: [1-9]/.test(latest), latest);
  await shot(page, '08-metrics');
});

// ------------------------------------------------------------- API keys
await check('apikeys.create-use-usage-disable', async () => {
  const ping = async (key) => (await fetch(BASE + '/v1/ping', { headers: { 'x-api-key': key } })).status;
  await page.evaluate(async ([user, pass]) => {
    const s = await (await fetch('api/session')).json();
    const r = await fetch('api/secretsmanager/CreateSecret', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrfToken },
      body: JSON.stringify({ Name: 'console-ping-secret', SecretString: JSON.stringify({ username: user, password: pass }) }) });
    if (!r.ok) throw new Error('CreateSecret: ' + r.status);
  }, [DB_USER, DB_PASS]);
  await page.goto(BASE + '/console/#/apikeys');
  await page.waitForSelector('#keys-table');
  await page.click('#k-new-plan');
  await page.fill('#p-name', 'console-plan');
  await page.fill('#p-rate', '100');
  await page.fill('#p-quota', '1000');
  await page.click('#p-create');
  await page.waitForFunction(() => (document.getElementById('plans-table') || {}).textContent?.includes('console-plan'));
  await page.click('#k-new-key');
  await page.fill('#k-name', 'console-key');
  await page.selectOption('#k-plan', { label: 'console-plan' });
  await page.click('#k-create');
  await page.waitForSelector('#k-created .code');
  const value = await page.textContent('#k-created .code');
  expect(value.length === 40, 'key value ' + value);
  expect(await ping(value) === 200, 'the new key is refused by the endpoint');
  await page.waitForFunction(() => /^1 \(999 left\)/.test(document.querySelector('.k-usage[data-key="console-key"]')?.textContent || ''), null, { timeout: 15000 });
  await shot(page, '08b-apikeys');
  await page.click('[data-toggle="console-key"]');
  await page.waitForFunction(() => document.getElementById('keys-table')?.textContent.includes('disabled'));
  expect(await ping(value) === 403, 'a disabled key still works');
});

await check('logout.invalidates-session', async () => {
  const ck = (await rootCtx.cookies()).find((c) => c.name === 'sqlgate_console');
  await page.click('#signout');
  await page.waitForSelector('#login-form');
  const r = await fetch(BASE + '/console/api/session', { headers: { Cookie: 'sqlgate_console=' + ck.value } });
  expect(r.status === 401, 'old session after sign-out: ' + r.status);
});
await rootCtx.close();

// ------------------------------------------------------- denied user
await check('iam.denied-user-sees-access-denied-and-no-data', async () => {
  expect(denied, 'no denied user was created');
  const { context, page: p } = await newPage();
  await signIn(p, denied.akid, denied.secret);
  await p.waitForSelector('#q-cluster');
  await p.fill('#q-cluster', CLUSTER_ARN);
  await p.fill('#q-secret', SECRET_NAME);
  await p.fill('#q-database', 'simple_db');
  const st = await runSQL(p, 'SELECT * FROM users');
  expect(/AccessDeniedException/.test(st) && /not authorized to perform: rds-data:ExecuteStatement/.test(st), st);
  expect(await p.$('#q-results table') === null, 'grid shown');
  const html = await p.content();
  expect(!html.includes('Charlie'), 'row data in the page');
  await shot(p, '09-denied');
  await p.goto(BASE + '/console/#/clusters');
  await p.waitForSelector('#c-body .msg.error');
  expect(/AccessDenied/.test(await p.textContent('#c-body')), 'clusters page not denied');
  await context.close();
});

// ------------------------------------------------------------- phone
await check('layout.phone-viewport', async () => {
  const { context, page: p } = await newPage({ width: 390, height: 844 });
  await signIn(p, ROOT_AKID, ROOT_SECRET);
  await p.waitForSelector('#q-cluster');
  await p.waitForTimeout(300);
  await shot(p, '10-phone-query');
  const over = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(over <= 1, `page is ${over}px wider than the phone`);
  for (const [name, sel] of [['clusters', '#clusters-table'], ['secrets', '#secrets-table'], ['users', '#users-table']]) {
    await p.goto(BASE + '/console/#/' + name);
    await p.waitForSelector(sel);
    await shot(p, '11-phone-' + name);
    const o = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(o <= 1, `${name} page is ${o}px wider than the phone`);
  }
  await context.close();
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
