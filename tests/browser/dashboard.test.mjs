// The SLA dashboard in a real browser: Debian's chromium driven by
// playwright-core (no browser download).  Starts `slawatch demo` on a free
// port (realistic data, live alerts), logs in with the printed password and
// checks what the issue asks: four scorecard cards with grades, the metric
// tiles, trend bars with the target line, a breach arriving over the
// WebSocket without a reload, the configuration form saving (and
// persisting) and showing a field error for an out-of-range value, the
// findings, reports and settings views (a person picked for an escalation
// step, the user's own contact points, at 390 px too), and no console errors.
// Screenshots go to build/browser-artifacts/ (docs/dashboard.png too with
// SLAWATCH_DOCS_SCREENSHOT=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, existsSync, copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const BIN = process.env.SLAWATCH_BIN || join(root, 'build', 'slawatch');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = process.env.SLAWATCH_ARTIFACTS || join(root, 'build', 'browser-artifacts');
const ADMIN = 'browser-test-admin-token-0123456789abcdef';

let proc, base, email, password, browser, context, page;
const consoleErrors = [];
// Errors a step causes on purpose (a wrong password, an out-of-range value):
// Chromium logs every failed fetch, so those are expected, by URL and status.
const expectedErrors = [];

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

async function apiCall(method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function shot(name) {
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
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
  context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = `console: ${m.text()} (${m.location().url || ''})`;
    const i = expectedErrors.findIndex((re) => re.test(text));
    if (i >= 0) expectedErrors.splice(i, 1);
    else consoleErrors.push(text);
  });
  page.on('pageerror', (e) => consoleErrors.push(`page: ${e.message}`));
});

after(async () => {
  if (browser) await browser.close();
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
});

test('the page is served with its security and caching headers', async () => {
  const r = await fetch(`${base}/sla-dashboard`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(r.headers.get('content-security-policy'), /default-src 'self'/);
  assert.match(r.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  const js = await fetch(`${base}/sla-dashboard/app.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  assert.match(js.headers.get('cache-control'), /max-age=\d+/);
  const etag = js.headers.get('etag');
  assert.ok(etag);
  const again = await fetch(`${base}/sla-dashboard/app.js`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal((await fetch(`${base}/sla-dashboard/nope.js`)).status, 404);
});

test('login shows the dashboard with four graded scorecard cards', async () => {
  await page.goto(`${base}/sla-dashboard`);
  await page.locator('#login-form').waitFor();
  await shot('01-login');
  await page.fill('#login-email', email);
  await page.fill('#login-password', 'wrong-password');
  expectedErrors.push(/status of 401 .*\/api\/v1\/session\)$/);
  await page.click('#login-submit');
  await page.locator('#login-error').filter({ hasText: 'Invalid' }).waitFor();
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.locator('#scorecard .score-card').first().waitFor();
  const cards = page.locator('#scorecard .score-card');
  assert.equal(await cards.count(), 4);
  const sevs = await cards.evaluateAll((els) => els.map((e) => e.dataset.severity));
  assert.deepEqual(sevs, ['critical', 'high', 'medium', 'low']);
  const grades = await page.locator('#scorecard .grade').allTextContents();
  assert.equal(grades.length, 4);
  for (const g of grades) assert.match(g, /^[ABCDF]$/);
  // MTTA and MTTR bars against the target on every card
  assert.equal(await page.locator('#scorecard .meter .bar-fill').count(), 8);
  // a tenant switcher: the demo user is platform_admin over four tenants
  assert.equal(await page.locator('#tenant-select option').count(), 4);
});

test('live metric tiles show numbers', async () => {
  await page.locator('#metrics .tile').first().waitFor();
  const keys = await page.locator('#metrics .tile').evaluateAll((els) => els.map((e) => e.dataset.metric));
  assert.deepEqual(keys, ['open_alerts', 'active_breaches', 'warnings', 'overall_compliance_pct', 'overall_health']);
  const open = await page.locator('#metrics [data-metric="open_alerts"] .tile-value').textContent();
  assert.match(open, /^\d[\d,]*$/);
  const pct = await page.locator('#metrics [data-metric="overall_compliance_pct"] .tile-value').textContent();
  assert.match(pct, /^\d+(\.\d)?%$/);
  const health = await page.locator('#metrics [data-metric="overall_health"] .tile-value').textContent();
  assert.match(health, /^(healthy|degraded|critical)$/);
});

// Counts pixels of the chart canvas near a colour (the bars are green or
// red, the target line the accent orange).
async function canvasColours(trend) {
  return page.locator(`[data-trend="${trend}"] canvas`).evaluate((c) => {
    const css = getComputedStyle(document.documentElement);
    const parse = (v) => {
      const d = document.createElement('canvas').getContext('2d');
      d.fillStyle = v.trim();
      const hex = d.fillStyle;
      return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    };
    const want = { green: parse(css.getPropertyValue('--green')), red: parse(css.getPropertyValue('--red')), target: parse(css.getPropertyValue('--accent')) };
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const n = { green: 0, red: 0, target: 0 };
    for (let i = 0; i < data.length; i += 4) {
      for (const [k, [r, g, b]] of Object.entries(want)) {
        if (Math.abs(data[i] - r) < 12 && Math.abs(data[i + 1] - g) < 12 && Math.abs(data[i + 2] - b) < 12) n[k]++;
      }
    }
    return n;
  });
}

test('MTTA and MTTR trends draw bars and the target line, with a tooltip', async () => {
  for (const t of ['mtta', 'mttr']) {
    await page.locator(`[data-trend="${t}"] canvas`).waitFor();
    await page.waitForTimeout(300);
    const n = await canvasColours(t);
    assert.ok(n.green > 200, `${t}: green bars drawn (${JSON.stringify(n)})`);
    assert.ok(n.target > 100, `${t}: the target line drawn (${JSON.stringify(n)})`);
  }
  // initech, the weaker team, has days over target: red bars
  await page.selectOption('#tenant-select', 'initech');
  await page.locator('[data-trend="mtta"] canvas').waitFor();
  await page.waitForTimeout(400);
  const ini = await canvasColours('mtta');
  assert.ok(ini.red > 50, `initech MTTA has red bars (${JSON.stringify(ini)})`);
  const box = await page.locator('[data-trend="mtta"] .u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
  const tip = page.locator('[data-trend="mtta"] .chart-tip');
  await tip.waitFor({ state: 'visible' });
  assert.match(await tip.textContent(), /Target/);
  await shot('02-trends-initech');
  // one severity: the request names it and the charts redraw with it
  const asked = page.waitForRequest((r) => /\/trends\/mtta\?.*severity=critical/.test(r.url()));
  await page.selectOption('#trend-severity', 'critical');
  await asked;
  await page.locator('[data-trend="mtta"] canvas').waitFor();
  await page.waitForTimeout(300);
  const crit = await canvasColours('mtta');
  assert.ok(crit.target > 100, `critical MTTA: the target line drawn (${JSON.stringify(crit)})`);
  await page.selectOption('#trend-severity', '');
  await page.selectOption('#tenant-select', 'acme-bank');
  await page.locator('#scorecard .score-card').first().waitFor();
});

test('a breach arriving over the WebSocket shows in the table without a reload', async () => {
  await page.locator('#live-status[data-state="live"]').waitFor({ timeout: 15000 });
  await page.locator('#breaches table').waitFor();
  await page.evaluate(() => { window.__noReload = true; });
  const before = Number((await page.locator('#metrics [data-metric="active_breaches"] .tile-value').textContent()).replace(/,/g, ''));
  // a critical alert that arrived six minutes late: acme-bank's enterprise
  // target is 5 minutes, so the scheduler finds it breached at once
  const id = `BROWSER-${Date.now()}`;
  const created = new Date(Date.now() - 6 * 60000).toISOString();
  const r = await apiCall('POST', '/api/v1/alerts', { id, tenant_id: 'acme-bank', severity: 'critical', title: 'Browser test breach', created_at: created });
  assert.equal(r.status, 201);
  const row = page.locator(`#breaches tr[data-alert-id="${id}"]`);
  await row.waitFor({ timeout: 20000 });
  assert.match(await row.textContent(), /Breached/);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
  await page.waitForFunction((b) => {
    const v = document.querySelector('#metrics [data-metric="active_breaches"] .tile-value');
    return v && Number(v.textContent.replace(/,/g, '')) > b;
  }, before, { timeout: 15000 });
  await shot('03-live-breach');
});

test('the configuration form saves, persists, and shows field errors', async () => {
  await page.click('#config-toggle');
  const input = page.locator('#config-form input[name="critical_mtta_minutes"]');
  await input.waitFor();
  const original = await input.inputValue();
  const next = original === '7' ? '8' : '7';
  await input.fill(next);
  await page.click('#config-save');
  await page.locator('#save-msg.ok').waitFor();
  assert.match(await page.locator('#save-msg').textContent(), /Saved/);
  const def = await apiCall('GET', '/api/v1/sla/definition?tenant_id=acme-bank');
  assert.equal(def.json.critical_mtta_minutes, Number(next));
  await page.reload();
  await page.locator('#config-form input[name="critical_mtta_minutes"]').waitFor();
  assert.equal(await page.locator('#config-form input[name="critical_mtta_minutes"]').inputValue(), next);

  await page.locator('#config-form input[name="critical_mtta_minutes"]').fill('500');
  expectedErrors.push(/status of 422 .*\/api\/v1\/sla\/definition\?tenant_id=acme-bank\)$/);
  await page.click('#config-save');
  const fe = page.locator('[data-field-error="critical_mtta_minutes"]');
  await fe.waitFor({ state: 'visible' });
  assert.ok((await fe.textContent()).length > 0);
  assert.equal(await page.locator('#config-form input[name="critical_mtta_minutes"]').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#save-msg').textContent(), /Not saved/);
  await shot('04-config-error');
  // put the template's value back for the screenshot
  await page.locator('#config-form input[name="critical_mtta_minutes"]').fill(original);
  await page.click('#config-save');
  await page.locator('#save-msg.ok').waitFor();
  await page.click('#config-toggle');
});

test('findings, reports and settings views load', async () => {
  await page.click('#nav a[data-view="findings"]');
  await page.locator('#findings-table tbody tr[data-id]').first().waitFor();
  await page.locator('#findings-table tbody tr[data-id]').first().click();
  await page.locator('#finding-detail .waterfall li.answered').waitFor();
  await shot('05-findings');
  await page.click('#nav a[data-view="reports"]');
  await page.locator('#report-monthly .kv').first().waitFor();
  await shot('06-reports');
  await page.click('#nav a[data-view="settings"]');
  await page.locator('#escalations .chain').first().waitFor();
  await page.locator('#notify-form').waitFor();
  await shot('07-settings');
  await page.click('#nav a[data-view="dashboard"]');
  await page.locator('#scorecard .score-card').first().waitFor();
});

test('a calendar is edited in settings and chosen in the SLA configuration', async () => {
  await page.click('#nav a[data-view="settings"]');
  await page.locator('#calendar-new').waitFor();
  await page.click('#calendar-new');
  await page.locator('#calendar-form').waitFor();
  await page.fill('#calendar-form input[name="calendar_id"]', 'office');
  await page.fill('#calendar-form input[name="name"]', 'Office');
  await page.fill('#calendar-form input[name="timezone"]', 'Europe/Berlin');
  await page.fill('#calendar-form input[name="hours.tue"]', '09:00-12:00, 13:00-25:00');
  expectedErrors.push(/status of 422 .*\/calendars\/office\)$/);
  await page.click('#calendar-form button[type="submit"]');
  const fe = page.locator('#calendar-form [data-field-error="hours.tue"]');
  await fe.waitFor({ state: 'visible' });
  await page.fill('#calendar-form input[name="hours.tue"]', '09:00-12:00, 13:00-18:00');
  await page.fill('#calendar-form textarea[name="holidays"]', '12-25, 2026-12-28');
  await page.click('#calendar-form button[type="submit"]');
  await page.locator('#calendars [data-calendar="office"]').waitFor();
  const cal = await apiCall('GET', '/api/v1/tenants/acme-bank/calendars/office');
  assert.equal(cal.status, 200);
  assert.deepEqual(cal.json.hours.tue, [['09:00', '12:00'], ['13:00', '18:00']]);
  assert.deepEqual(cal.json.holidays, ['12-25', '2026-12-28']);
  await shot('09-calendars');
  // the definition form offers it per severity
  await page.click('#nav a[data-view="dashboard"]');
  await page.click('#config-toggle');
  await page.locator('#f-cal-low').waitFor();
  await page.selectOption('#f-cal-low', 'office');
  await page.click('#config-save');
  await page.locator('#save-msg.ok').waitFor();
  const def = await apiCall('GET', '/api/v1/sla/definition?tenant_id=acme-bank');
  assert.equal(def.json.calendars.low, 'office');
  await page.selectOption('#f-cal-low', '');
  await page.click('#config-save');
  await page.locator('#save-msg.ok').waitFor();
  await page.click('#config-toggle');
  assert.equal((await apiCall('DELETE', '/api/v1/tenants/acme-bank/calendars/office')).status, 204);
});

test('escalation settings pick a person with their contact points; a user sets their own, at 390 px too', async () => {
  // two people of acme-bank; alice has a Slack member id and a phone, bob none
  for (const [id, role] of [['alice', 'manager'], ['bob', 'analyst']]) {
    const r = await apiCall('POST', '/api/v1/users', { id, email: `${id}@acme-bank.test`, roles: [{ role, tenant_id: 'acme-bank' }] });
    assert.equal(r.status, 201);
  }
  assert.equal((await apiCall('PUT', '/api/v1/users/alice/contact', { slack_user_id: 'U0ALICE', phone: '+14155550111' })).status, 200);
  await page.click('#nav a[data-view="settings"]');
  const block = page.locator('#escalations .chain-block[data-severity="high"]');
  await block.locator('button', { hasText: 'Edit' }).click();
  const rows = block.locator('.step-row:not(.step-head)');
  await rows.first().waitFor();
  // the picker lists the tenant's people; the row shows what reaches them
  const first = rows.nth(0);
  await first.locator('select[name="person"]').selectOption('alice');
  await first.locator('select[aria-label="Method"]').selectOption('phone');
  assert.match(await first.locator('[data-person-info]').textContent(), /phone \+14155550111/);
  const second = rows.nth(1);
  await second.locator('select[name="person"]').selectOption('bob');
  await second.locator('select[aria-label="Method"]').selectOption('slack');
  assert.match(await second.locator('[data-person-info]').textContent(), /no Slack member id: told by email instead/);
  await shot('09-escalation-person');
  await block.locator('button', { hasText: 'Save chain' }).click();
  await block.locator('.chain').waitFor();
  assert.match(await block.textContent(), /→ alice/);
  const esc = await apiCall('GET', '/api/v1/sla/escalations/acme-bank');
  const high = esc.json.chains.find((c) => c.severity === 'high');
  assert.equal(high.chain[0].user, 'alice');
  assert.equal(high.chain[0].notification_method, 'phone');
  assert.equal(high.chain[1].user, 'bob');

  // the signed-in user's own contact points
  const phone = page.locator('#my-contact-form [name="phone"]');
  await phone.waitFor();
  await phone.fill('+4930123456');
  await page.fill('#my-contact-form [name="slack_user_id"]', 'U0DEMO');
  await page.click('#my-contact-save');
  await page.locator('#my-contact-msg.ok').waitFor();
  const mine = await apiCall('GET', '/api/v1/users/demo/contact');
  assert.equal(mine.json.phone, '+4930123456');
  assert.equal(mine.json.slack_user_id, 'U0DEMO');
  await phone.fill('call me maybe');
  expectedErrors.push(/status of 422 .*\/api\/v1\/users\/demo\/contact\)$/);
  await page.click('#my-contact-save');
  await page.locator('[data-field-error="phone"]').waitFor({ state: 'visible' });
  assert.match(await page.locator('#my-contact-msg').textContent(), /Not saved: phone/);

  // a phone's width: nothing wider than the screen, the picker usable
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.locator('#escalations .chain').first().waitFor();
  await block.locator('button', { hasText: 'Edit' }).click();
  await block.locator('select[name="person"]').first().waitFor();
  assert.equal(await block.locator('select[name="person"]').first().inputValue(), 'alice');
  assert.ok(await block.locator('select[name="person"]').first().isVisible());
  assert.ok(await page.locator('#my-contact-form [name="phone"]').isVisible());
  assert.equal(await page.locator('#my-contact-form [name="phone"]').inputValue(), '+4930123456');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than 390`);
  await shot('10-settings-390');
  await block.locator('button', { hasText: 'Cancel' }).click();
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.click('#nav a[data-view="dashboard"]');
  await page.locator('#scorecard .score-card').first().waitFor();
});

test('dashboard screenshot, and no console errors', async () => {
  await page.locator('#metrics .tile').first().waitFor();
  await page.waitForTimeout(800);
  await page.evaluate(() => { document.getElementById('toasts').replaceChildren(); window.scrollTo(0, 0); });
  const file = await shot('00-dashboard');
  if (process.env.SLAWATCH_DOCS_SCREENSHOT === '1') copyFileSync(file, join(root, 'docs', 'dashboard.png'));
  await page.emulateMedia({ colorScheme: 'light' });
  await page.click('#theme-toggle');
  await page.waitForTimeout(500);
  await shot('08-dashboard-light');
  await page.click('#theme-toggle');
  assert.deepEqual(consoleErrors, []);
});
