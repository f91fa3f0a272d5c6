// The working screens in a real browser (issue 16): Alerts (search,
// filters, acknowledge, resolve, escalate, reopen, the server's error in
// the row), Findings (pause with a reason, resume, change severity, close
// with a status, reopen, the server's error under the form; the findings
// in numbers), Policies (waterfall per severity, a partial override,
// escalation contacts chosen from the tenant's users, recalculate with its
// count, a refused value named inline, revert to inherited), Reports (the
// findings report, its CSV, alert volume and auto-resolve rate), Settings
// (notifications save with Slack configured, apply-template names the
// edits it would replace), honest empty states, keyboard focus, WCAG AA
// contrast, and no sideways scrolling.
//
// Every screen and action runs twice: at 1440 x 900 and on a 390 x 844
// phone.  The two runs share one `slawatch demo` but work on their own
// alerts, findings and projects, so neither sees the other's changes.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const BIN = process.env.SLAWATCH_BIN || join(root, 'build', 'slawatch');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = process.env.SLAWATCH_ARTIFACTS || join(root, 'build', 'browser-artifacts');
const ADMIN = 'browser-screens-admin-token-0123456789abcdef';
const T = 'acme-bank';
const STAMP = Date.now().toString(36).toUpperCase();
const ROLE_PASSWORD = 'screens-role-password-1234';
const VIEWS = ['dashboard', 'alerts', 'findings', 'policies', 'reports', 'settings'];

let proc, base, email, password, browser;

function startDemo() {
  return new Promise((ok, fail) => {
    proc = spawn(BIN, ['demo', '--listen', '127.0.0.1:0'], {
      env: { ...process.env, SLAWATCH_ADMIN_TOKEN: ADMIN, SLAWATCH_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`slawatch demo did not start in 60 s:\n${out}\n${err}`)), 60000);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const l = out.match(/^listening on (http:\/\/\S+)$/m);
      const c = out.match(/^login: (\S+) \/ (\S+)/m);
      if (l && c) {
        clearTimeout(timer);
        base = l[1];
        [, email, password] = c;
        ok();
      }
    });
    proc.on('exit', (code) => fail(new Error(`slawatch demo exited (${code}):\n${out}\n${err}`)));
  });
}

async function api(method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = text; }
  return { status: r.status, json, headers: r.headers };
}

async function must(method, path, body, ...ok) {
  const r = await api(method, path, body);
  assert.ok((ok.length ? ok : [200, 201, 204]).includes(r.status), `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

before(async () => {
  assert.ok(existsSync(BIN), `no slawatch binary at ${BIN} (build first, or set SLAWATCH_BIN)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  await startDemo();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // a tenant with nothing in it, for the empty states
  await must('POST', '/api/v1/tenants', { id: 'empty-co', name: 'Empty Co' });
  // two people of acme-bank, to be chosen as escalation contacts
  for (const id of ['vm-lead', 'vm-ciso']) {
    await must('POST', '/api/v1/users', { id, email: `${id}@acme.example`, roles: [{ role: 'analyst', tenant_id: T }] });
  }
  // people who sign in with a narrower role
  for (const role of ['viewer', 'analyst', 'manager']) {
    await must('POST', '/api/v1/users', { id: `ui-${role}`, email: `ui-${role}@acme.example`, password: ROLE_PASSWORD, roles: [{ role, tenant_id: T }] });
  }
});

after(async () => {
  if (browser) await browser.close();
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
});

// Text whose colour against its background is below WCAG AA (4.5:1, 3:1 for
// large text), for the visible, enabled elements of the page.  The
// background is the nearest ancestor's opaque colour, translucent layers
// blended over it.
function lowContrast() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
  const bgOf = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) {
        layers.push(c);
        if (c[3] >= 1) break;
      }
    }
    let bg = [255, 255, 255, 1];
    if (layers.length && layers[layers.length - 1][3] >= 1) bg = layers.pop();
    else {
      const rootBg = parse(getComputedStyle(document.body).backgroundColor);
      if (rootBg && rootBg[3] >= 1) bg = rootBg;
    }
    while (layers.length) bg = over(layers.pop(), bg);
    return bg;
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || seen.has(el) || !n.textContent.trim()) continue;
    seen.add(el);
    if (el.closest('[hidden], [disabled], [aria-disabled="true"], option, canvas, .skip-link, .u-legend, .chart-tip')) continue;
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (s.visibility !== 'visible' || Number(s.opacity) < 1 || r.width === 0 || r.height === 0) continue;
    let fadedParent = false;
    for (let e = el; e; e = e.parentElement) if (Number(getComputedStyle(e).opacity) < 1) fadedParent = true;
    if (fadedParent) continue;
    const fg = parse(s.color);
    if (!fg) continue;
    const bg = bgOf(el);
    const fgc = fg[3] < 1 ? over(fg, bg) : fg;
    const L1 = lum(fgc), L2 = lum(bg);
    const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
    const px = parseFloat(s.fontSize);
    const large = px >= 24 || (px >= 18.66 && Number(s.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      bad.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${n.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
    }
  }
  return [...new Set(bad)];
}

const VIEWPORTS = [
  { name: 'desktop', tag: 'D', viewport: { width: 1440, height: 900 }, project: 'mobile-app' },
  { name: 'phone', tag: 'P', viewport: { width: 390, height: 844 }, project: 'core-banking', mobile: true },
];

for (const vp of VIEWPORTS) {
  describe(`screens at ${vp.viewport.width} px (${vp.name})`, () => {
    let context, page;
    const errors = [];
    // Failures a step causes on purpose: Chromium logs each refused fetch.
    const expected = [];
    const P = `UI${STAMP}${vp.tag}`;     // this run's alert and finding ids
    const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `screens-${vp.name}-${name}.png`), fullPage: true });

    // Full page load of a view (a hash change within a view does not
    // remount it).
    async function open(hash) {
      await page.goto(`${base}/sla-dashboard${hash}`);
      await page.reload();
      await page.locator('#view > *').first().waitFor();
    }

    async function noSidewaysScroll(what) {
      const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(sw <= cw, `${what}: the page scrolls sideways (${sw} > ${cw})`);
    }

    before(async () => {
      context = await browser.newContext({ viewport: vp.viewport, colorScheme: 'dark', isMobile: !!vp.mobile, hasTouch: !!vp.mobile, acceptDownloads: true });
      page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() !== 'error') return;
        const text = `console: ${m.text()} (${m.location().url || ''})`;
        const i = expected.findIndex((re) => re.test(text));
        if (i >= 0) expected.splice(i, 1);
        else errors.push(text);
      });
      page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
      await page.goto(`${base}/sla-dashboard`);
      await page.fill('#login-email', email);
      await page.fill('#login-password', password);
      await page.click('#login-submit');
      await page.locator('#scorecard .score-card').first().waitFor();
      // this run's own alerts: to acknowledge, resolve, escalate (critical has
      // a chain), escalate without a chain (low: refused), and one resolved
      // behind the page's back (acknowledge refused)
      const now = Date.now();
      const alerts = [['ACK', 'high'], ['RES', 'medium'], ['ESC', 'critical'], ['LOW', 'low'], ['GONE', 'high']];
      for (const [k, sev] of alerts) {
        await must('POST', '/api/v1/alerts', { id: `${P}-${k}`, tenant_id: T, severity: sev, title: `screen test ${k.toLowerCase()} ${P}`,
          created_at: new Date(now - 60000).toISOString() });
      }
      await must('POST', '/api/v1/findings', { id: `${P}-F1`, tenant_id: T, project_id: vp.project, severity: 'high', title: `screen test finding ${P}` });
      await must('POST', '/api/v1/findings', { id: `${P}-F2`, tenant_id: T, project_id: vp.project, severity: 'medium', title: `screen test finding 2 ${P}` });
      await must('POST', '/api/v1/findings', { id: `${P}-F3`, tenant_id: T, project_id: vp.project, severity: 'high', title: `screen test finding 3 ${P}` });
    });

    after(async () => {
      if (context) await context.close();
    });

    test('the top bar fits: every view, the tenant, Settings and Sign out on screen; no sideways scrolling', async () => {
      for (const v of VIEWS) {
        await open(`#/${v}`);
        await page.waitForTimeout(600);
        await noSidewaysScroll(v);
      }
      for (const sel of ['#tenant-select', '#logout', '#nav a[data-view="settings"]', '#nav a[data-view="policies"]', '#nav a[data-view="alerts"]']) {
        const b = await page.locator(sel).boundingBox();
        assert.ok(b && b.x >= 0 && b.x + b.width <= vp.viewport.width + 0.5, `${sel} on screen (${JSON.stringify(b)})`);
      }
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(ARTIFACTS, `screens-${vp.name}-topbar.png`) });
    });

    test('keyboard: a skip link first, visible focus, the nav reachable by Tab', async () => {
      await open('#/dashboard');
      await page.locator('#scorecard .score-card').first().waitFor();
      await page.keyboard.press('Tab');
      const first = await page.evaluate(() => document.activeElement.className);
      assert.match(first, /skip-link/);
      const shown = await page.locator('.skip-link').boundingBox();
      assert.ok(shown && shown.y >= 0, 'the skip link shows when focused');
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'view');
      // Tab from the top reaches a nav link, drawn with a focus outline
      await open('#/dashboard');
      let found = null;
      for (let i = 0; i < 12 && !found; i++) {
        await page.keyboard.press('Tab');
        found = await page.evaluate(() => {
          const a = document.activeElement;
          if (!a.closest('#nav')) return null;
          const s = getComputedStyle(a);
          return { view: a.dataset.view, outline: s.outlineStyle, width: parseFloat(s.outlineWidth) };
        });
      }
      assert.ok(found, 'a nav link takes the focus');
      assert.notEqual(found.outline, 'none');
      assert.ok(found.width >= 2, `focus outline ${found.width}px`);
      await page.keyboard.press('Enter');
      await page.waitForFunction((v) => location.hash === `#/${v}`, found.view);
    });

    test('alerts: search, filters, acknowledge, resolve, escalate, reopen; refusals shown in the row', async () => {
      await open('#/alerts');
      await page.locator('#alerts-table').waitFor();
      await page.fill('#alert-search', P);
      const rows = page.locator('#alerts-table tbody tr[data-alert-id]');
      await page.waitForFunction((n) => document.querySelectorAll('#alerts-table tbody tr[data-alert-id]').length === n, 5);
      for (const id of await rows.evaluateAll((els) => els.map((e) => e.dataset.alertId))) assert.ok(id.startsWith(P), id);
      // a severity filter narrows the search
      await page.selectOption('#alert-severity', 'critical');
      await page.waitForFunction(() => document.querySelectorAll('#alerts-table tbody tr[data-alert-id]').length === 1);
      assert.equal(await rows.first().getAttribute('data-alert-id'), `${P}-ESC`);
      await page.selectOption('#alert-severity', '');
      await page.waitForFunction((n) => document.querySelectorAll('#alerts-table tbody tr[data-alert-id]').length === n, 5);
      const row = (k) => page.locator(`#alerts-table tr[data-alert-id="${P}-${k}"]`);

      await row('ACK').locator('button[data-action="acknowledge"]').click();
      await row('ACK').locator('.row-msg.ok', { hasText: 'Acknowledged' }).waitFor();
      assert.equal(await row('ACK').getAttribute('data-state'), 'acknowledged');
      assert.equal((await must('GET', `/api/v1/sla/alerts/${P}-ACK/tracking?tenant_id=${T}`)).state, 'acknowledged');

      await row('RES').locator('button[data-action="resolve"]').click();
      await row('RES').locator('.row-msg.ok', { hasText: 'Resolved' }).waitFor();
      assert.equal(await row('RES').getAttribute('data-state'), 'resolved');
      await row('RES').locator('button[data-action="reopen"]').click();
      await row('RES').locator('.row-msg.ok', { hasText: 'Reopened' }).waitFor();
      assert.equal(await row('RES').getAttribute('data-state'), 'open');

      await row('ESC').locator('button[data-action="escalate"]').click();
      await row('ESC').locator('.row-msg.ok', { hasText: 'Escalated' }).waitFor();
      assert.match(await row('ESC').locator('.row-msg').textContent(), /Escalated to L1/);
      assert.match(await row('ESC').textContent(), /L1/);
      assert.equal((await must('GET', `/api/v1/sla/alerts/${P}-ESC/tracking?tenant_id=${T}`)).escalation_level, 1);

      // low has no escalation chain: the server's 400, in the row
      expected.push(/status of 400 .*\/api\/v1\/sla\/escalate\//);
      await row('LOW').locator('button[data-action="escalate"]').click();
      await row('LOW').locator('.row-msg.err').waitFor();
      assert.match(await row('LOW').locator('.row-msg').textContent(), /chain/i);

      // resolved elsewhere meanwhile: acknowledging answers 409, in the row
      await must('POST', `/api/v1/alerts/${P}-GONE/resolve?tenant_id=${T}`, {});
      expected.push(/status of 409 .*\/api\/v1\/alerts\/.*GONE\/acknowledge/);
      await row('GONE').locator('button[data-action="acknowledge"]').click();
      await row('GONE').locator('.row-msg.err').waitFor();
      assert.match(await row('GONE').locator('.row-msg').textContent(), /resolved/i);
      await shot('alerts');
      await noSidewaysScroll('alerts after the actions');

      // state filter: resolved ones only
      await page.selectOption('#alert-state', 'resolved');
      await page.waitForFunction((id) => {
        const r = [...document.querySelectorAll('#alerts-table tbody tr[data-alert-id]')];
        return r.length === 1 && r[0].dataset.alertId === id && r[0].dataset.state === 'resolved';
      }, `${P}-GONE`);
      // nothing found: an empty row that says so
      await page.fill('#alert-search', `${P}-nothing`);
      await page.locator('#alerts-table tr.empty-row').waitFor();
    });

    test('findings: pause with a reason, resume, change severity, close with a status, reopen; a refusal shown', async () => {
      const id = `${P}-F1`;
      await open(`#/findings?id=${id}`);
      const detail = page.locator('#finding-detail');
      const actions = detail.locator('#finding-actions');
      await actions.waitFor();
      const state = async () => (await must('GET', `/api/v1/findings/${id}?tenant_id=${T}`)).state;
      // the answer of this action (the previous one's may still show)
      const done = (re) => detail.locator('#finding-action-msg.ok').filter({ hasText: re }).waitFor();

      await actions.locator('button[data-action="pause"]').click();
      await actions.locator('form[data-form="pause"] input[name="reason"]').fill('waiting for the vendor patch');
      await actions.locator('form[data-form="pause"] button[type="submit"]').click();
      await done(/Paused/);
      assert.equal(await state(), 'paused');
      await detail.locator('.timeline li, ol li', { hasText: 'waiting for the vendor patch' }).first().waitFor();

      await actions.locator('button[data-action="resume"]').click();
      await done(/Resumed/);
      assert.equal(await state(), 'open');

      await actions.locator('button[data-action="severity"]').click();
      await actions.locator('form[data-form="severity"] select').selectOption('critical');
      await actions.locator('form[data-form="severity"] button[type="submit"]').click();
      await done(/critical/);
      assert.equal((await must('GET', `/api/v1/findings/${id}?tenant_id=${T}`)).severity, 'critical');

      await actions.locator('button[data-action="close"]').click();
      await actions.locator('form[data-form="close"] select').selectOption('accepted_risk');
      await actions.locator('form[data-form="close"] button[type="submit"]').click();
      await done(/accepted risk/);
      assert.equal(await state(), 'accepted_risk');

      await actions.locator('button[data-action="reopen"]').click();
      await done(/Reopened/);
      assert.equal(await state(), 'open');
      await shot('finding-actions');

      // paused elsewhere meanwhile: the page still offers Pause; the 409
      // shows under the form
      await must('POST', `/api/v1/findings/${id}/pause?tenant_id=${T}`, { reason: 'elsewhere' });
      expected.push(/status of 409 .*\/api\/v1\/findings\/.*\/pause/);
      await actions.locator('button[data-action="pause"]').click();
      await actions.locator('form[data-form="pause"] button[type="submit"]').click();
      await detail.locator('#finding-action-msg.err').waitFor();
      assert.match(await detail.locator('#finding-action-msg').textContent(), /Not done: .+/);
      await noSidewaysScroll('findings after the actions');

      // the list opens a finding from the keyboard too
      await page.selectOption('#f-project', vp.project);
      const open2 = page.locator(`#findings-table tr[data-id="${P}-F2"] button.link-button`);
      await open2.waitFor();
      await open2.focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction((f) => (document.querySelector('#finding-detail')?.textContent || '').includes(f), `${P}-F2`);
    });

    test('findings in numbers: summary per severity and the next deadlines, on the Findings view and the dashboard', async () => {
      await open('#/findings');
      await page.locator('#findings-numbers #findings-summary tbody tr[data-severity]').first().waitFor();
      const sevs = await page.locator('#findings-numbers #findings-summary tbody tr').evaluateAll((els) => els.map((e) => e.dataset.severity));
      assert.deepEqual(sevs, ['urgent', 'critical', 'high', 'medium', 'low']);
      const sum = await must('GET', `/api/v1/sla/findings/summary?tenant_id=${T}`);
      const items = Array.isArray(sum) ? sum : sum.items;
      const high = items.find((r) => r.severity === 'high');
      const cells = await page.locator('#findings-numbers #findings-summary tr[data-severity="high"] td').allTextContents();
      assert.equal(cells[1], String(high.open), `open highs on screen (${cells}) as the API says (${high.open})`);
      // a finding due within 7 days shows in the upcoming list
      const soon = `${P}-SOON`;
      await must('PUT', `/api/v1/sla/policy/companies/${T}/projects/${vp.project}`, { low_hours: 30 });
      await must('POST', '/api/v1/findings', { id: soon, tenant_id: T, project_id: vp.project, severity: 'low', title: 'due soon' });
      await open('#/findings');
      await page.locator(`#findings-upcoming tr[data-finding-id="${soon}"]`).waitFor();
      assert.match(await page.locator(`#findings-upcoming tr[data-finding-id="${soon}"]`).textContent(), /(29|30)h|1\.\dd/);
      await must('DELETE', `/api/v1/sla/policy/companies/${T}/projects/${vp.project}`, undefined, 204);
      await must('POST', `/api/v1/findings/${soon}/close?tenant_id=${T}`, { status: 'closed' });
      await open('#/dashboard');
      await page.locator('#dashboard-findings #findings-summary tbody tr[data-severity]').first().waitFor();
      await noSidewaysScroll('dashboard with findings');
    });

    test('breach forecast: counts by severity as the API says, for the window chosen, kept across loads', async () => {
      await open('#/dashboard');
      const panel = page.locator('#forecast');
      await panel.locator('.forecast-count').first().waitFor();
      const shown = async () => Object.fromEntries(await panel.locator('.forecast-count').evaluateAll((els) =>
        els.map((e) => [e.dataset.severity, e.querySelector('.num').textContent.trim()])));
      const wanted = async (hours) => {
        const f = await must('GET', `/api/v1/sla/forecast?tenant_id=${T}&hours=${hours}&limit=10`);
        return Object.fromEntries(['critical', 'high', 'medium', 'low']
          .map((s) => [s, `${f.by_severity[s].alerts.toLocaleString('en-US')} alerts · ${f.by_severity[s].findings.toLocaleString('en-US')} findings`]));
      };
      // the demo's live alerts move the numbers: read both until they agree
      const agree = async (hours) => {
        let ui, want;
        for (let i = 0; i < 5; i++) {
          want = await wanted(hours);
          ui = await shown();
          delete ui.urgent;
          if (JSON.stringify(ui) === JSON.stringify(want)) return;
          await page.selectOption('#forecast-hours', String(hours));
          await page.waitForTimeout(300);
        }
        assert.deepEqual(ui, want, `forecast for ${hours} h`);
      };
      await agree(Number(await page.locator('#forecast-hours').inputValue()));
      await page.selectOption('#forecast-hours', '168');
      await agree(168);
      const rows = await panel.locator('tbody tr').count();
      assert.ok(rows >= 1 && rows <= 10, `${rows} rows`);
      // kept: the next load shows the same window
      await open('#/dashboard');
      await panel.locator('.forecast-count').first().waitFor();
      assert.equal(await page.locator('#forecast-hours').inputValue(), '168');
      await page.selectOption('#forecast-hours', '24');
      await noSidewaysScroll('dashboard with the forecast');
    });

    test('policies: the waterfall, a partial project override, contacts from the users, recalculate, a refusal, revert', async () => {
      await open(`#/policies?scope=${vp.project}`);
      const tab = page.locator(`#policy-scopes button[data-project="${vp.project}"]`);
      await tab.waitFor();
      assert.equal(await tab.getAttribute('aria-selected'), 'true');
      await page.locator('#policy-table').waitFor();
      // every severity shows its chain project → company → global → built-in
      for (const sev of ['urgent', 'critical', 'high', 'medium', 'low']) {
        const levels = await page.locator(`#policy-table tr[data-severity="${sev}"] .chain-levels li`).evaluateAll((els) => els.map((e) => e.dataset.level));
        assert.deepEqual(levels, ['project', 'company', 'global', 'builtin']);
        assert.equal(await page.locator(`#policy-table tr[data-severity="${sev}"] .chain-levels li.answered`).count() <= 1, true);
      }
      // a partial override: high only
      await page.fill('#p-high_hours', '100');
      await page.selectOption('select[name="contact1_user"]', 'vm-lead');
      await page.fill('input[name="contact1_days"]', '0');
      await page.selectOption('select[name="contact2_user"]', 'vm-ciso');
      await page.fill('input[name="contact2_days"]', '5');
      await page.click('#policy-save');
      await page.locator('#policy-msg.ok').waitFor();
      assert.match(await page.locator('#policy-msg').textContent(), /Saved · \d+ open findings? recalculated/);
      const high = page.locator('#policy-table tr[data-severity="high"]');
      assert.match(await high.locator('[data-effective]').textContent(), /100 h.*from project/);
      assert.equal(await high.locator('.chain-levels li.answered').getAttribute('data-level'), 'project');
      assert.notEqual(await page.locator('#policy-table tr[data-severity="urgent"] .chain-levels li.answered').getAttribute('data-level'), 'project');
      const stored = await must('GET', `/api/v1/sla/policy/companies/${T}/projects/${vp.project}`);
      assert.equal(stored.high_hours, 100);
      assert.equal(stored.urgent_hours, null);
      assert.deepEqual(stored.escalation_contacts.map((c) => [c.level, c.user, c.days_after_breach]), [[1, 'vm-lead', 0], [2, 'vm-ciso', 5]]);
      // the finding in that project follows
      // the project's findings follow: the high one from the project, the medium one not
      const f3 = await must('GET', `/api/v1/findings/${P}-F3?tenant_id=${T}`);
      assert.deepEqual([f3.sla_source, f3.sla_hours], ['project', 100]);
      assert.notEqual((await must('GET', `/api/v1/findings/${P}-F2?tenant_id=${T}`)).sla_source, 'project');
      await shot('policies');

      // recalculate: the count the server reports
      await page.click('#policy-recalculate');
      await page.locator('#policy-msg.ok').filter({ hasText: /^\d+ open findings? recalculated$/ }).waitFor();

      // a value the server refuses: its message, the field marked
      await page.fill('#p-critical_hours', '100000');
      expected.push(/status of 422 .*\/api\/v1\/sla\/policy\/companies\//);
      await page.click('#policy-save');
      await page.locator('#policy-msg.err').waitFor();
      assert.match(await page.locator('#policy-msg').textContent(), /Not saved: critical_hours/);
      assert.equal(await page.locator('#p-critical_hours').getAttribute('aria-invalid'), 'true');
      assert.equal((await must('GET', `/api/v1/sla/policy/companies/${T}/projects/${vp.project}`)).critical_hours, null);
      await noSidewaysScroll('policies');

      // revert to inherited, after a confirmation
      await page.click('#policy-delete');
      await page.click('#policy-delete-confirm');
      await page.locator('#policy-msg.ok').filter({ hasText: 'Reverted' }).waitFor();
      const after = await must('GET', `/api/v1/sla/policy/companies/${T}/projects/${vp.project}`);
      assert.equal(after.high_hours, null);
      assert.notEqual(after.effective.high_hours.source, 'project');
      assert.equal(await page.locator('#p-high_hours').inputValue(), '');

      // the company scope and the global scope (the demo user is platform admin)
      await page.click('#policy-scopes button[data-scope="company"]');
      await page.locator('#policy-form h2', { hasText: 'Company policy' }).waitFor();
      await page.click('#policy-scopes button[data-scope="global"]');
      await page.locator('#policy-form h2', { hasText: 'Global policy' }).waitFor();
      assert.equal(await page.locator('#policy-recalculate').count(), 0);
    });

    test('reports: the findings report and its CSV, alert volume and auto-resolve rate', async () => {
      await open('#/reports');
      await page.locator('#findings-report tbody tr').first().waitFor();
      const href = await page.locator('#findings-csv').getAttribute('href');
      assert.match(href, /\/findings\?month=\d{4}-\d{2}&format=csv$/);
      const csv = await page.evaluate(async (u) => { const r = await fetch(u); return [r.status, r.headers.get('content-type'), await r.text()]; }, href);
      assert.equal(csv[0], 200);
      assert.match(csv[1], /text\/csv/);
      assert.match(csv[2].split('\n')[0], /severity/);
      await page.locator('#report-volume [data-trend="volume"], #report-volume .chart-panel').first().waitFor();
      assert.match(await page.locator('#report-volume').textContent(), /Alert volume · [\d,]+ in 30 days/);
      assert.match(await page.locator('#report-volume').textContent(), /[Aa]uto-resolve/);
      await noSidewaysScroll('reports');
      await shot('reports');
    });

    test('settings: notifications save with Slack configured; a template names the edits it would replace', async () => {
      // a Slack URL on file: the form shows it masked and saves unchanged
      const slack = `https://hooks.slack.com/services/T000/B000/${vp.tag}secret`;
      await must('POST', `/api/v1/sla/notifications/${T}/configure`, { channels: ['websocket', 'slack'], recipients: { slack: [slack] }, thresholds: [80, 90, 100] });
      await open('#/settings');
      await page.locator('#notify-form').waitFor();
      assert.ok(!(await page.locator('#n-slack').inputValue()).includes('secret'), 'the Slack URL shows masked');
      await page.click('#notify-form button[type="submit"]');
      await page.locator('#notify-msg.ok').waitFor();
      const stored = await must('GET', `/api/v1/sla/notifications/${T}/config`);
      assert.ok(stored.channels.includes('slack'));
      assert.equal(stored.recipients.slack.length, 1);

      // one edit of the definition: applying a template names it and keeps it on request
      await must('PUT', `/api/v1/sla/definition?tenant_id=${T}`, { critical_mtta_minutes: 9 });
      await open('#/settings');
      const apply = page.locator('button[data-template]:not([disabled])').first();
      await apply.waitFor();
      const name = await apply.getAttribute('data-template');
      await apply.click();
      await page.locator('#template-confirm:not([hidden])').waitFor();
      assert.match(await page.locator('#template-confirm').textContent(), /critical MTTA: 9 min/);
      await page.click('#template-keep');
      await page.locator('#template-msg.ok').waitFor();
      assert.match(await page.locator('#template-msg').textContent(), new RegExp(`Applied ${name}.*kept: critical MTTA`));
      assert.equal((await must('GET', `/api/v1/sla/definition?tenant_id=${T}`)).critical_mtta_minutes, 9);
      await must('PUT', `/api/v1/sla/definition?tenant_id=${T}`, { critical_mtta_minutes: null });
      await must('POST', `/api/v1/sla/configs/${T}/apply-template`, { template_name: 'enterprise' });
      await noSidewaysScroll('settings');
      await shot('settings');
    });

    test('an empty tenant says "no data", not 100 % and grade A', async () => {
      await page.evaluate(() => localStorage.setItem('slawatch.tenant', 'empty-co'));
      await open('#/dashboard');
      await page.locator('#scorecard .score-card').first().waitFor();
      assert.equal(await page.locator('#tenant-select').inputValue(), 'empty-co');
      for (const c of await page.locator('#scorecard .score-card').all()) {
        assert.equal(await c.getAttribute('data-empty'), 'true');
        assert.equal((await c.locator('.score-pct').textContent()).trim(), 'no data');
        assert.equal((await c.locator('.grade').textContent()).trim(), '—');
        assert.doesNotMatch(await c.textContent(), /100%|avg 0s/);
      }
      await page.locator('#metrics .tile').first().waitFor();
      assert.equal((await page.locator('#metrics [data-metric="overall_compliance_pct"] .tile-value').textContent()).trim(), 'no data');
      await page.locator('#dashboard-findings #findings-summary').waitFor();
      assert.match(await page.locator('#dashboard-findings').textContent(), /no data/);
      await page.locator('[data-trend="mtta"]').waitFor();
      assert.match(await page.locator('[data-trend="mtta"] .chart-head').textContent(), /no data/);
      await shot('empty-tenant');
      await open('#/reports');
      await page.locator('#findings-report, #report-findings .no-data, #report-findings p').first().waitFor();
      assert.doesNotMatch(await page.locator('#report-monthly').textContent(), /100%/);
      await page.evaluate(() => localStorage.setItem('slawatch.tenant', 'acme-bank'));
    });

    test('the Overall Compliance number is coloured by its threshold; "All severities" explains its target line', async () => {
      await open('#/dashboard');
      const v = page.locator('#metrics [data-metric="overall_compliance_pct"] .tile-value');
      await v.waitFor();
      const pct = parseFloat(await v.textContent());
      const cls = await v.getAttribute('class');
      const want = pct >= 95 ? 'c-good' : pct >= 85 ? 'c-warn' : 'c-bad';
      assert.match(cls, new RegExp(want), `${pct}% coloured ${cls}`);
      await page.waitForFunction(() => /blends/.test(document.getElementById('trend-note')?.textContent || ''));
    });

    test('text contrast meets WCAG AA on every view, dark and light', async () => {
      const bad = {};
      for (const theme of ['dark', 'light']) {
        await page.evaluate((t) => localStorage.setItem('slawatch.theme', t), theme);
        for (const v of VIEWS) {
          await open(`#/${v}`);
          await page.waitForTimeout(1200);
          const b = await page.evaluate(lowContrast);
          if (b.length) bad[`${theme} ${v}`] = b;
        }
      }
      await page.evaluate(() => localStorage.setItem('slawatch.theme', 'dark'));
      assert.deepEqual(bad, {});
    });

    test('no console errors', () => {
      assert.deepEqual(errors, []);
    });
  });
}

// What each role is offered: a viewer reads and acts on nothing; an analyst
// acts on alerts and findings but changes no policy; a manager changes the
// company's and projects' policies, not the global one, and names contacts
// by id (listing users is an admin's).  At phone width.
describe('roles', () => {
  const errors = [];
  async function signIn(role) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true, hasTouch: true });
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`${role}: ${m.text()} (${m.location().url || ''})`); });
    page.on('pageerror', (e) => errors.push(`${role} page: ${e.message}`));
    await page.goto(`${base}/sla-dashboard`);
    await page.fill('#login-email', `ui-${role}@acme.example`);
    await page.fill('#login-password', ROLE_PASSWORD);
    await page.click('#login-submit');
    await page.locator('#scorecard .score-card').first().waitFor();
    const open = async (hash) => {
      await page.goto(`${base}/sla-dashboard${hash}`);
      await page.reload();
    };
    return { context, page, open };
  }

  test('a viewer reads alerts, findings and policies, with every action disabled', async () => {
    const { context, page, open } = await signIn('viewer');
    await open('#/alerts');
    await page.locator('#alerts-table tbody tr[data-alert-id]').first().waitFor();
    assert.ok(await page.locator('#alerts-table button[data-action]').count() > 0);
    assert.equal(await page.locator('#alerts-table button[data-action]:not([disabled])').count(), 0);
    await page.locator('text=Your role may read alerts but not act on them.').waitFor();
    const f = (await must('GET', `/api/v1/findings?tenant_id=${T}&state=open&limit=1`)).items[0];
    await open(`#/findings?id=${encodeURIComponent(f.id)}`);
    await page.locator('#finding-actions button[data-action]').first().waitFor();
    assert.equal(await page.locator('#finding-actions button[data-action]:not([disabled])').count(), 0);
    await open('#/policies');
    await page.locator('#policy-table').waitFor();
    assert.equal(await page.locator('#policy-scopes button[data-scope="global"]').count(), 0);
    assert.ok(await page.locator('#policy-save').isDisabled());
    assert.ok(await page.locator('#p-high_hours').isDisabled());
    await page.locator('text=Your role may read but not change this policy.').waitFor();
    await context.close();
  });

  test('an analyst acknowledges alerts but changes no policy', async () => {
    const { context, page, open } = await signIn('analyst');
    const id = `UI${STAMP}R-ACK`;
    await must('POST', '/api/v1/alerts', { id, tenant_id: T, severity: 'high', title: 'role test' });
    await open('#/alerts');
    await page.locator('#alerts-table').waitFor();
    await page.fill('#alert-search', id);
    await page.waitForFunction(() => document.querySelectorAll('#alerts-table tbody tr[data-alert-id]').length === 1);
    const row = page.locator(`#alerts-table tr[data-alert-id="${id}"]`);
    await row.locator('button[data-action="acknowledge"]:not([disabled])').click();
    await row.locator('.row-msg.ok', { hasText: 'Acknowledged' }).waitFor();
    await open('#/policies');
    await page.locator('#policy-table').waitFor();
    assert.ok(await page.locator('#policy-save').isDisabled());
    await context.close();
  });

  test('a manager changes the company policy (contacts by id), not the global one', async () => {
    const { context, page, open } = await signIn('manager');
    await open('#/policies');
    await page.locator('#policy-table').waitFor();
    assert.equal(await page.locator('#policy-scopes button[data-scope="global"]').count(), 0);
    assert.equal(await page.locator('#policy-scopes button[data-scope="company"]').getAttribute('aria-selected'), 'true');
    await page.fill('#p-low_hours', '1000');
    await page.fill('input[name="contact1_user"]', 'vm-lead');
    await page.click('#policy-save');
    await page.locator('#policy-msg.ok').waitFor();
    const p = await must('GET', `/api/v1/sla/policy/companies/${T}`);
    assert.equal(p.low_hours, 1000);
    assert.equal(p.escalation_contacts[0].user, 'vm-lead');
    await must('DELETE', `/api/v1/sla/policy/companies/${T}`, undefined, 204);
    await context.close();
  });

  test('no console errors for any role', () => {
    assert.deepEqual(errors, []);
  });
});
