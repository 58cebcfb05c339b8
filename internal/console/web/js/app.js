// app.js boots the console: restore or ask for a session, then route
// #/page to the page modules.
import * as api from './api.js';
import { h, set, errorMsg, field } from './dom.js';
import * as query from './pages/query.js';
import * as clusters from './pages/clusters.js';
import * as secrets from './pages/secrets.js';
import * as users from './pages/users.js';
import * as connect from './pages/connect.js';
import * as metrics from './pages/metrics.js';
import * as proxies from './pages/proxies.js';
import * as apikeys from './pages/apikeys.js';

const pages = { query, clusters, proxies, secrets, users, connect, metrics, apikeys };
const main = document.getElementById('main');
let current = null; // the page module shown, for its stop()

function showChrome(on) {
  document.getElementById('nav').hidden = !on;
  document.getElementById('who').hidden = !on;
  document.getElementById('who-arn').textContent = on ? api.session.info.arn : '';
}

function route() {
  if (!api.session.info) return;
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1] || 'query';
  const page = pages[name] || query;
  if (current && current.stop) current.stop();
  current = page;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === name);
  const root = h('section', { class: 'page', id: 'page-' + name });
  set(main, root);
  page.render(root);
}

function loginView(message) {
  showChrome(false);
  if (current && current.stop) current.stop();
  current = null;
  const akid = h('input', { id: 'login-akid', name: 'accessKeyId', autocomplete: 'username', required: true, spellcheck: false });
  const secret = h('input', { id: 'login-secret', name: 'secretAccessKey', type: 'password', autocomplete: 'current-password', required: true });
  const token = h('input', { id: 'login-token', name: 'sessionToken', autocomplete: 'off', spellcheck: false });
  const out = h('div', { class: 'out' }, message ? errorMsg(message) : null);
  const form = h('form', { class: 'card login', id: 'login-form' },
    h('h1', null, 'Sign in to sqlgate'),
    h('p', { class: 'muted' }, 'Use an access key pair: the root key sqlgate printed at first start, or an IAM user\'s key. ' +
      'Everything you do here is checked against that identity\'s IAM policies.'),
    field('Access key ID', akid),
    field('Secret access key', secret),
    h('details', null, h('summary', null, 'Temporary credentials'), field('Session token (STS)', token)),
    h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, 'Sign in'),
    out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    set(out);
    try {
      await api.login(akid.value.trim(), secret.value, token.value.trim());
      secret.value = '';
      start();
    } catch (e) {
      set(out, errorMsg(e));
    }
  });
  set(main, form);
  akid.focus();
}

function start() {
  showChrome(true);
  if (!location.hash) location.hash = '#/query'; // hashchange routes
  else route();
}

api.onSessionEnd((err) => loginView(err));
window.addEventListener('hashchange', route);
document.getElementById('signout').addEventListener('click', async () => {
  try { await api.logout(); } catch { /* gone already */ }
  loginView();
});

(async () => {
  try {
    if (await api.restore()) start(); else loginView();
  } catch (e) {
    set(main, errorMsg(e));
  }
})();
