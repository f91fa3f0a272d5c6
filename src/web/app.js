// app.js: the dashboard's entry point.  Session (login view on 401), the
// tenant switcher, the hash router (#/dashboard, #/alerts, #/findings,
// #/policies, #/reports, #/settings), the theme, and the live feed shared
// by the views.
import * as api from './api.js';
import { LiveFeed } from './live.js';
import { h, icon, replace } from './ui.js';
import * as dashboard from './dashboard.js';
import * as alerts from './alerts.js';
import * as findings from './findings.js';
import * as policies from './policies.js';
import * as reports from './reports.js';
import * as settings from './settings.js';

const VIEWS = { dashboard, alerts, findings, policies, reports, settings };
const TITLES = { dashboard: 'SLA Dashboard', alerts: 'Alerts', findings: 'Findings', policies: 'Policies', reports: 'Reports', settings: 'Settings' };
const $ = (id) => document.getElementById(id);

const ctx = {
  session: null,        // GET /api/v1/session
  tenants: [],          // [{id, name, template}]
  tenant: null,         // current tenant id
  live: null,
  tenantInfo() {
    return this.tenants.find((t) => t.id === this.tenant) || { id: this.tenant, name: this.tenant };
  },
  // Roles that may change a tenant's SLA configuration (routes.c PERM_CONFIGURE).
  canConfigure() {
    const roles = (this.session && this.session.roles) || [];
    return roles.some((g) => g.role === 'platform_admin' ||
      ((g.role === 'tenant_admin' || g.role === 'manager') && g.tenant_id === this.tenant));
  },
  canOperate() {
    const roles = (this.session && this.session.roles) || [];
    return this.canConfigure() || roles.some((g) => g.role === 'analyst' && g.tenant_id === this.tenant);
  },
  // Listing the tenant's users (routes.c PERM_ADMIN).
  canAdmin() {
    const roles = (this.session && this.session.roles) || [];
    return roles.some((g) => g.role === 'platform_admin' || (g.role === 'tenant_admin' && g.tenant_id === this.tenant));
  },
  // The global finding policy (routes.c PERM_PLATFORM).
  isPlatformAdmin() {
    const roles = (this.session && this.session.roles) || [];
    return roles.some((g) => g.role === 'platform_admin');
  },
};

let current = { name: null, unmount: null };

// ---- theme -----------------------------------------------------------------------
function applyTheme(t) {
  document.documentElement.dataset.theme = t;
  const b = $('theme-toggle');
  replace(b, icon(t === 'light' ? 'moon' : 'sun'));
}

function initTheme() {
  let t = localStorage.getItem('slawatch.theme');
  if (t !== 'light' && t !== 'dark') t = matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  applyTheme(t);
  $('theme-toggle').addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'light' ? 'dark' : 'light';
    localStorage.setItem('slawatch.theme', next);
    applyTheme(next);
    window.dispatchEvent(new CustomEvent('slawatch:theme'));
  });
}

// ---- login -------------------------------------------------------------------------
function showLogin(message) {
  if (ctx.live) ctx.live.close();
  if (current.unmount) current.unmount();
  current = { name: null, unmount: null };
  ctx.session = null;
  $('boot').hidden = true;
  $('app').hidden = true;
  $('login-view').hidden = false;
  const err = $('login-error');
  err.hidden = !message;
  err.textContent = message || '';
  $('login-email').focus();
}

async function onLogin(ev) {
  ev.preventDefault();
  const email = $('login-email').value.trim();
  const password = $('login-password').value;
  const err = $('login-error');
  const btn = $('login-submit');
  if (!email || !password) {
    err.hidden = false;
    err.textContent = 'Enter your email and password.';
    return;
  }
  btn.disabled = true;
  btn.textContent = 'Signing in…';
  try {
    const out = await api.request('POST', '/api/v1/session', { body: { email, password }, noAuthRedirect: true });
    api.setCsrf(out.csrf_token);
    localStorage.setItem('slawatch.session', '1');
    $('login-password').value = '';
    await start();
  } catch (e) {
    err.hidden = false;
    err.textContent = e.status === 401 ? 'Invalid email or password.' : e.message;
  } finally {
    btn.disabled = false;
    btn.textContent = 'Sign in';
  }
}

async function logout() {
  try {
    await api.request('DELETE', '/api/v1/session', { noAuthRedirect: true });
  } catch (e) {
    /* the session may be gone already */
  }
  api.setCsrf('');
  localStorage.removeItem('slawatch.session');
  showLogin();
}

// ---- tenants ---------------------------------------------------------------------------
async function loadTenants() {
  let list = [];
  try {
    const out = await api.get('/api/v1/tenants');
    list = (out && out.items) || [];
  } catch (e) {
    if (e.status === 401) throw e;
    // fall back to the ids the session's roles name
    const ids = new Set((ctx.session.roles || []).map((g) => g.tenant_id).filter(Boolean));
    list = [...ids].map((id) => ({ id, name: id }));
  }
  list.sort((a, b) => String(a.name || a.id).localeCompare(String(b.name || b.id)));
  ctx.tenants = list;
  const fromHash = new URLSearchParams(location.hash.split('?')[1] || '').get('tenant');
  const saved = localStorage.getItem('slawatch.tenant');
  const pick = [fromHash, saved].find((id) => id && list.some((t) => t.id === id));
  ctx.tenant = pick || (list[0] && list[0].id) || null;
  renderTenantSwitcher();
}

function renderTenantSwitcher() {
  const sel = $('tenant-select');
  const many = ctx.tenants.length > 1;
  $('tenant-switcher').hidden = !many;
  $('tenant-single').hidden = many || !ctx.tenant;
  if (!many) {
    $('tenant-single').textContent = ctx.tenantInfo().name || ctx.tenant || '';
    return;
  }
  replace(sel, ctx.tenants.map((t) => h('option', { value: t.id, text: t.name && t.name !== t.id ? `${t.name} (${t.id})` : t.id })));
  sel.value = ctx.tenant;
}

function switchTenant(id) {
  if (!id || id === ctx.tenant) return;
  ctx.tenant = id;
  localStorage.setItem('slawatch.tenant', id);
  ctx.live.connect(id);
  route(true);
}

// ---- router ----------------------------------------------------------------------------------
function viewName() {
  const m = location.hash.match(/^#\/([a-z]+)/);
  return m && VIEWS[m[1]] ? m[1] : 'dashboard';
}

function route(force) {
  if (!ctx.session) return;
  const name = viewName();
  if (!force && name === current.name) return;
  if (current.unmount) current.unmount();
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.view === name);
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const el = $('view');
  replace(el);
  window.scrollTo(0, 0);
  if (!ctx.tenant) {
    replace(el, h('div', { class: 'panel panel-pad' }, h('h2', { text: 'No tenant' }),
      h('p', { class: 'muted', text: 'Your account has no tenant yet. Ask a platform admin to create one or to grant you a role in one.' })));
    current = { name, unmount: null };
    return;
  }
  const unmount = VIEWS[name].mount(el, ctx);
  current = { name, unmount };
  document.title = `${TITLES[name]} · ${ctx.tenantInfo().name || ctx.tenant} · slawatch`;
}

// ---- start --------------------------------------------------------------------------------------
async function start() {
  // Not signed in on this browser: the login view, without a 401 first
  // (the session cookie is HttpOnly, so this flag says whether to ask).
  if (localStorage.getItem('slawatch.session') !== '1') {
    showLogin();
    return;
  }
  let s;
  try {
    s = await api.get('/api/v1/session', null, { noAuthRedirect: true });
  } catch (e) {
    if (e.status === 401) {
      localStorage.removeItem('slawatch.session');
      showLogin();
      return;
    }
    $('boot').hidden = true;
    replace($('boot'), h('div', { class: 'error-state' }, icon('xcircle'), h('div', { class: 'msg' }, h('b', { text: 'slawatch cannot be reached' }), h('span', { text: e.message }))));
    $('boot').hidden = false;
    return;
  }
  ctx.session = s;
  api.setCsrf(s.csrf_token);
  $('user-name').textContent = s.user_id ? s.user_id : s.actor;
  $('user-name').title = s.actor || '';
  $('logout').hidden = s.via !== 'session';
  await loadTenants();
  $('boot').hidden = true;
  $('login-view').hidden = true;
  $('app').hidden = false;
  if (ctx.tenant) ctx.live.connect(ctx.tenant);
  route(true);
}

function init() {
  initTheme();
  ctx.live = new LiveFeed($('live-status'));
  api.onUnauthorized(() => {
    localStorage.removeItem('slawatch.session');
    showLogin('Your session has ended. Sign in again.');
  });
  $('login-form').addEventListener('submit', onLogin);
  // the skip link moves the focus, not the route (#view is no view)
  document.querySelector('.skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    $('view').focus();
  });
  $('logout').addEventListener('click', logout);
  $('tenant-select').addEventListener('change', (e) => switchTenant(e.target.value));
  window.addEventListener('hashchange', () => route(false));
  start();
}

init();
