// The console's entry: session, language, and hash routes (#/signin, #/dashboard,
// #/operator, #/auditor; a query after the route, e.g. #/dashboard?month=2026-11).
import {session, setCsrfToken, setUnauthenticatedHandler} from './api.mjs';
import {renderAuditor} from './auditor.mjs';
import {renderDashboard} from './dashboard.mjs';
import {clear, errorText, field, h} from './dom.mjs';
import {applyStaticTexts, currentLanguage, setLanguage, t} from './i18n.mjs';
import {renderOperator} from './operator.mjs';

const staffRoles = ['operator', 'auditor', 'admin'];
const pageRoles = {
  dashboard: staffRoles,
  operator: ['operator', 'admin'],
  auditor: staffRoles,
};

let current = null;  // the signed-in session: {role, subject, csrf_token, expires_at}
let cleanup = () => {};

function parseHash() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [route, query = ''] = hash.split('?');
  return {route: route || '', params: new URLSearchParams(query)};
}

function homeFor(role) {
  return role === 'operator' ? 'operator' : 'dashboard';
}

function renderSignIn(main, {error = ''} = {}) {
  const token = h('input', {type: 'password', id: 'token', name: 'token', autocomplete: 'current-password',
                            required: true, spellcheck: 'false'});
  const message = h('p', {class: 'error', role: 'alert', id: 'signin-error'}, error);
  const submit = h('button', {type: 'submit', id: 'signin-submit'}, t('sign_in'));
  const form = h('form', {'aria-describedby': 'signin-help'},
                 field(t('api_token'), token),
                 h('p', {class: 'muted', id: 'signin-help'}, t('token_help')), message, submit);
  form.addEventListener('submit', async event => {
    event.preventDefault();
    submit.disabled = true;
    message.textContent = '';
    try {
      current = await session.signIn(token.value.trim());
      setCsrfToken(current.csrf_token);
      updateHeader();
      location.hash = `#/${homeFor(current.role)}`;
      route();
    } catch (failure) {
      message.textContent = failure.status === 401 ? t('token_wrong') : `${t('signin_failed')}: ${errorText(failure)}`;
      submit.disabled = false;
      token.select();
    }
  });
  clear(main).append(h('section', {class: 'card signin'}, h('h1', {}, t('signin_title')), form));
  token.focus();
  return () => {};
}

function updateHeader() {
  const signedIn = Boolean(current);
  document.querySelector('.nav').hidden = !signedIn;
  document.getElementById('sign-out').hidden = !signedIn;
  document.getElementById('who').textContent = signedIn ? `${current.subject} (${current.role})` : '';
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.hidden = signedIn && !pageRoles[link.dataset.nav].includes(current.role);
  }
  document.body.dataset.role = signedIn ? current.role : '';
  // A replay of the ledger as it stood (audit replay --serve) says so on every page.
  const readOnly = document.getElementById('read-only');
  readOnly.hidden = !(signedIn && current.read_only);
  readOnly.textContent = readOnly.hidden ? '' : t('read_only', {text: current.read_only});
  document.body.dataset.readOnly = readOnly.hidden ? '' : 'true';
}

function updateLiveStatus() {
  const live = document.body.dataset.live;
  document.getElementById('live-status').textContent =
      live === 'connected' ? t('live_connected') : live === 'reconnecting' ? t('live_reconnecting') : '';
}

function route() {
  cleanup();
  cleanup = () => {};
  document.body.dataset.position = '';
  document.body.dataset.applied = '';
  const main = document.getElementById('main');
  const {route: name, params} = parseHash();
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.body.dataset.page = current ? name : 'signin';
  if (!current) { cleanup = renderSignIn(main); return; }
  if (!pageRoles[name]) { location.replace(`#/${homeFor(current.role)}`); return; }
  if (!pageRoles[name].includes(current.role)) {
    clear(main).append(h('h1', {}, t('not_allowed_title')), h('p', {}, t('not_allowed', {role: current.role})));
    return;
  }
  const render = {dashboard: renderDashboard, operator: renderOperator, auditor: renderAuditor}[name];
  cleanup = render(main, params, {role: current.role});
  document.title = `${t(`nav_${name}`)} — Malpro`;
}

async function signOut() {
  cleanup();
  cleanup = () => {};
  await session.signOut().catch(() => {});
  current = null;
  setCsrfToken('');
  updateHeader();
  location.hash = '#/signin';
  route();
}

async function start() {
  applyStaticTexts();
  const switchButton = document.getElementById('lang-switch');
  const showSwitch = () => {
    const english = currentLanguage() === 'en';
    switchButton.textContent = english ? 'Bahasa Indonesia' : 'English';
    switchButton.lang = english ? 'id' : 'en';
  };
  showSwitch();
  switchButton.addEventListener('click', () => {
    setLanguage(currentLanguage() === 'en' ? 'id' : 'en');
    applyStaticTexts();
    showSwitch();
    updateLiveStatus();
    updateHeader();
    route();
  });
  document.getElementById('sign-out').addEventListener('click', signOut);
  document.addEventListener('malpro:live', updateLiveStatus);
  setUnauthenticatedHandler(() => {
    if (!current) return;
    current = null;
    updateHeader();
    cleanup();
    cleanup = () => {};
    renderSignIn(document.getElementById('main'), {error: t('session_ended')});
  });
  try {
    current = await session.current();
  } catch {
    current = null;
  }
  if (current) setCsrfToken(current.csrf_token);
  updateHeader();
  window.addEventListener('hashchange', route);
  route();
}

start();
