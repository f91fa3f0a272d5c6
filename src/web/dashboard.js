// dashboard.js: the SLA dashboard view, the SOC seed's "UI Layout" top to
// bottom: header with refresh, scorecard grid, live metrics, MTTA/MTTR
// trends, active breaches, the vulnerability findings in numbers, the
// collapsible SLA configuration form.  Each section loads on its own and
// shows its own error state; the live feed moves the counters and inserts
// breaches without a reload.  No data reads "no data": a tenant without a
// stopped clock has no compliance, not 100 % and grade A.
import * as api from './api.js';
import { trendChart } from './charts.js';
import { forecastPanel } from './forecast.js';
import { mountNumbers } from './findings_numbers.js';
import {
  h, icon, replace, clear, sevChip, fmtMin, fmtPct, fmtInt, fmtDateTime, fmtDate, isNum,
  complianceLevel, errorState, loadingState, setWidth, asList, debounce, toast, SEVERITIES,
} from './ui.js';

// The SLADefinitionRequest fields, in the definition's own units and ranges.
const DEF_FIELDS = {
  critical: [['critical_mtta_minutes', 'MTTA target', 'min', 1, 120], ['critical_mttr_hours', 'MTTR target', 'h', 1, 48]],
  high: [['high_mtta_minutes', 'MTTA target', 'min', 1, 240], ['high_mttr_hours', 'MTTR target', 'h', 1, 72]],
  medium: [['medium_mtta_hours', 'MTTA target', 'h', 1, 24], ['medium_mttr_hours', 'MTTR target', 'h', 1, 168]],
  low: [['low_mtta_hours', 'MTTA target', 'h', 1, 72], ['low_mttr_hours', 'MTTR target', 'h', 1, 720]],
};
const THRESHOLD = ['notification_threshold_pct', 'Warn at', '%', 50, 99];

export function mount(root, ctx) {
  const tenant = ctx.tenant;
  const T = { tenant_id: tenant };
  let alive = true;
  let charts = [];
  let trendDays = Number(localStorage.getItem('slawatch.trendDays')) || 30;
  let trendSev = localStorage.getItem('slawatch.trendSeverity') || '';
  const st = {
    current: null,
    breaches: null,          // server rows, or null when the call failed
    breachesErr: null,
    breachesFetchStart: 0,
    live: new Map(),         // key alert_id|clock -> {row, seenAt}
    definition: null,
  };

  // ---- skeleton -----------------------------------------------------------------
  const refreshBtn = h('button', { id: 'refresh', class: 'btn', type: 'button', onclick: () => loadAll() }, icon('refresh'), 'Refresh');
  const updatedAt = h('span', { class: 'updated-at', id: 'updated-at' });
  const info = ctx.tenantInfo();
  const header = h('div', { class: 'page-header' },
    h('div', { class: 'page-icon' }, icon('timer')),
    h('div', null,
      h('h1', { text: 'SLA Dashboard' }),
      h('div', { class: 'subtitle', text: `${info.name || tenant}${info.template ? ` · ${info.template} tier` : ''} · response (MTTA) and resolution (MTTR) against contractual targets` })),
    h('div', { class: 'actions' }, updatedAt, refreshBtn));

  const scoreEl = h('div', { id: 'scorecard', class: 'grid-4' });
  const metricsEl = h('div', { id: 'metrics', class: 'grid-5' });
  const daysSel = h('select', { id: 'trend-days', 'aria-label': 'Trend period' },
    [7, 30, 90].map((d) => h('option', { value: d, text: `Last ${d} days` })));
  daysSel.value = String(trendDays);
  daysSel.addEventListener('change', () => {
    trendDays = Number(daysSel.value);
    localStorage.setItem('slawatch.trendDays', String(trendDays));
    loadTrends();
  });
  // one severity at a time gives a flat target line; "all" weighs the
  // severities' targets by each day's counts
  const sevSel = h('select', { id: 'trend-severity', 'aria-label': 'Trend severity' },
    [['', 'All severities'], ['critical', 'Critical'], ['high', 'High'], ['medium', 'Medium'], ['low', 'Low']]
      .map(([v, t]) => h('option', { value: v, text: t })));
  sevSel.value = trendSev;
  sevSel.addEventListener('change', () => {
    trendSev = sevSel.value;
    localStorage.setItem('slawatch.trendSeverity', trendSev);
    loadTrends();
  });
  const trendsEl = h('div', { id: 'trends', class: 'grid-2' });
  const trendNote = h('p', { class: 'muted small trend-note', id: 'trend-note' });
  const breachesEl = h('div', { id: 'breaches', class: 'panel' });
  const findingsEl = h('div', { id: 'dashboard-findings', class: 'panel' });
  const configEl = h('div', { id: 'config', class: 'panel' });
  const forecast = forecastPanel(tenant, () => alive);

  replace(root,
    header,
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'SLA Scorecard' }), h('span', { class: 'hint', text: 'last 30 days, by severity' })), scoreEl),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Live Metrics' }), h('span', { class: 'hint', text: 'updated live' })), metricsEl),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Trends' }), h('span', { class: 'hint', text: 'daily average time to acknowledge and to resolve' }), h('div', { class: 'right' }, sevSel, daysSel)), trendsEl, trendNote),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Active Breaches' }), h('span', { class: 'hint', id: 'breach-count' })), breachesEl),
    forecast.section,
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Findings' }),
      h('span', { class: 'hint', text: 'vulnerability remediation: now, and closed over the last 30 days' }),
      h('div', { class: 'right' }, h('a', { href: '#/findings', class: 'btn btn-sm', text: 'All findings' }))), findingsEl),
    h('section', { class: 'section' }, configEl));

  // ---- scorecard ------------------------------------------------------------------
  function meter(label, avg, p90, target) {
    const fill = h('div', { class: 'bar-fill' });
    const over = isNum(avg) && isNum(target) && avg > target;
    if (over) fill.classList.add('over');
    if (isNum(avg) && isNum(target) && target > 0) setWidth(fill, (avg / target) * 100);
    return h('div', { class: 'meter', dataset: { metric: label.toLowerCase() } },
      h('div', { class: 'meter-head' },
        h('span', { class: 'label', text: label }),
        h('span', { class: 'value' }, h('span', { class: over ? 'over' : '', text: isNum(avg) ? `avg ${fmtMin(avg)}` : 'no data' }), h('span', { class: 'muted', text: ` / ${fmtMin(target)} target` }))),
      h('div', { class: 'bar', role: 'progressbar', 'aria-label': `${label} average against target`, 'aria-valuenow': isNum(avg) ? Math.round(avg * 10) / 10 : null, 'aria-valuemax': target }, fill),
      h('div', { class: 'meter-foot', text: isNum(p90) ? `p90 ${fmtMin(p90)}` : '\u00a0' }));
  }

  function scoreCard(sev, c) {
    // nothing measured: no compliance and no grade, not 100 % and A
    const has = !!(c && isNum(c.total) && c.total > 0);
    const lvl = has ? complianceLevel(c.compliance_pct) : 'none';
    const grade = has ? c.grade : null;
    return h('div', { class: `score-card level-${lvl}`, dataset: { severity: sev, empty: has ? null : 'true' } },
      h('div', { class: 'score-top' }, sevChip(sev),
        h('span', { class: `grade grade-${grade || 'none'}`, title: has ? 'Grade: A ≥ 95%, B ≥ 90%, C ≥ 85%, D ≥ 75%, else F' : 'No grade without data', text: grade || '—' })),
      h('div', { class: `score-pct c-${lvl}`, text: has ? fmtPct(c.compliance_pct) : 'no data' }),
      h('div', { class: 'score-sub', text: has ? `compliance · ${fmtInt(c.total)} SLA clocks · ${fmtInt(c.breached)} breached` : 'no SLA clock stopped in the last 30 days' }),
      meter('MTTA', c && c.mtta_avg_min, c && c.mtta_p90_min, c && c.mtta_target_min),
      meter('MTTR', c && c.mttr_avg_min, c && c.mttr_p90_min, c && c.mttr_target_min));
  }

  async function loadScorecard() {
    if (!scoreEl.querySelector('.score-card')) replace(scoreEl, SEVERITIES.map(() => h('div', { class: 'skeleton' })));
    try {
      const rows = asList(await api.get('/api/v1/sla/scorecard', T));
      if (!alive) return;
      const by = Object.fromEntries(rows.map((r) => [r.severity, r]));
      targets = by;
      if (!trendSev) trendNote.textContent = `All severities: the target line blends the severities' targets, weighted by each day's stopped clocks${targetsText()}; pick a severity for its own flat line.`;
      scoreEl.className = 'grid-4';
      replace(scoreEl, SEVERITIES.map((s) => scoreCard(s, by[s])));
    } catch (e) {
      if (!alive) return;
      scoreEl.className = '';
      replace(scoreEl, errorState('Scorecard unavailable', e, loadScorecard));
    }
  }

  // ---- live metrics -------------------------------------------------------------------
  const HEALTH = { healthy: ['check', 't-green'], degraded: ['alert', 't-yellow'], critical: ['xcircle', 't-red'] };

  function tile(key, label, iconName, tone, value, valueClass = '') {
    return h('div', { class: 'panel tile', dataset: { metric: key } },
      h('div', { class: `tile-icon ${tone}` }, icon(iconName)),
      h('div', null, h('div', { class: 'tile-label', text: label }), h('div', { class: `tile-value ${valueClass}`, text: value })));
  }

  function renderMetrics(prev) {
    const c = st.current;
    // decided = clocks judged in the window: without any, no compliance
    const has = !(isNum(c.decided) && c.decided === 0);
    const lvl = has ? complianceLevel(c.overall_compliance_pct) : 'none';
    const tone = { good: 't-green', warn: 't-yellow', bad: 't-red', none: '' }[lvl];
    const health = HEALTH[c.overall_health] || ['activity', ''];
    replace(metricsEl,
      tile('open_alerts', 'Open Alerts', 'activity', '', fmtInt(c.open_alerts)),
      tile('active_breaches', 'Active Breaches', 'xcircle', 't-red', fmtInt(c.active_breaches), c.active_breaches > 0 ? 'c-bad' : ''),
      tile('warnings', 'Warnings', 'alert', 't-yellow', fmtInt(c.warnings), c.warnings > 0 ? 'c-warn' : ''),
      tile('overall_compliance_pct', 'Overall Compliance', 'gauge', tone, has ? fmtPct(c.overall_compliance_pct) : 'no data', `c-${lvl}`),
      tile('overall_health', 'Overall Health', health[0], health[1], c.overall_health || '—', { 't-green': 'c-good', 't-yellow': 'c-warn', 't-red': 'c-bad' }[health[1]] || ''));
    if (prev) {
      for (const k of ['open_alerts', 'active_breaches', 'warnings', 'overall_compliance_pct']) {
        if (prev[k] !== c[k]) metricsEl.querySelector(`[data-metric="${k}"]`)?.classList.add('bump');
      }
    }
  }

  async function loadCurrent() {
    try {
      const c = await api.get('/api/v1/sla/current', T);
      if (!alive) return;
      const prev = st.current;
      st.current = c;
      metricsEl.className = 'grid-5';
      renderMetrics(prev);
    } catch (e) {
      if (!alive) return;
      if (st.current) return;   // keep the last good numbers; the next tick retries
      metricsEl.className = '';
      replace(metricsEl, errorState('Live metrics unavailable', e, loadCurrent));
    }
  }

  // ---- trends ----------------------------------------------------------------------------
  function trendPanel(kind, points) {
    const label = kind.toUpperCase();
    // a day without a stopped clock has no value (the API says 0)
    points = points.map((p) => (isNum(p.count) && p.count === 0 ? { ...p, value_min: null } : p));
    const vals = points.filter((p) => isNum(p.value_min));
    const over = vals.filter((p) => isNum(p.target_min) && p.value_min > p.target_min).length;
    const total = points.reduce((s, p) => s + (isNum(p.count) ? p.count : 0), 0);
    const wavg = total > 0
      ? points.reduce((s, p) => s + (isNum(p.value_min) && isNum(p.count) ? p.value_min * p.count : 0), 0) / total
      : (vals.length ? vals.reduce((s, p) => s + p.value_min, 0) / vals.length : null);
    const chart = trendChart(points, { name: kind, label, height: 210 });
    charts.push(chart);
    const first = points[0] && points[0].date, last = points.length && points[points.length - 1].date;
    return h('div', { class: 'panel chart-panel', dataset: { trend: kind } },
      h('div', { class: 'chart-head' },
        h('h3', { text: kind === 'mtta' ? 'MTTA: time to acknowledge' : 'MTTR: time to resolve' }),
        isNum(wavg)
          ? h('span', { class: 'stat' }, 'avg ', h('b', { text: fmtMin(wavg) }), ` · ${over} of ${vals.length} days over target`)
          : h('span', { class: 'stat' }, h('b', { text: 'no data' }), ' in this period')),
      points.length ? chart.el : h('div', { class: 'loading-state', text: 'No data for this period.' }),
      h('div', { class: 'chart-range' }, h('span', { text: fmtDate(first) }), h('span', { text: fmtDate(last) })),
      h('div', { class: 'chart-legend' },
        h('span', null, h('i', { class: 'sw sw-green' }), 'Under SLA'),
        h('span', null, h('i', { class: 'sw sw-red' }), 'Over SLA'),
        h('span', null, h('i', { class: 'sw sw-target' }), 'Target')));
  }

  async function loadTrends() {
    for (const c of charts) c.destroy();
    charts = [];
    if (!trendsEl.children.length) replace(trendsEl, h('div', { class: 'skeleton' }), h('div', { class: 'skeleton' }));
    const out = await Promise.allSettled(['mtta', 'mttr'].map((k) => api.get(`/api/v1/sla/trends/${k}`, { ...T, days: trendDays, severity: trendSev })));
    if (!alive) return;
    trendNote.textContent = trendSev
      ? `Target: the ${trendSev} severity's own target.`
      : `All severities: the target line blends the severities' targets, weighted by each day's stopped clocks${targetsText()}; pick a severity for its own flat line.`;
    trendsEl.className = 'grid-2';
    replace(trendsEl, ['mtta', 'mttr'].map((k, i) => (out[i].status === 'fulfilled'
      ? trendPanel(k, asList(out[i].value))
      : h('div', { class: 'panel chart-panel', dataset: { trend: k } }, h('h3', { text: `${k.toUpperCase()} trend` }), h('br'), errorState(`${k.toUpperCase()} trend unavailable`, out[i].reason, loadTrends)))));
  }

  // "(MTTA critical 15m, high 30m, …)" from the scorecard's targets
  let targets = null;
  function targetsText() {
    if (!targets) return '';
    const part = (k) => SEVERITIES.filter((s) => targets[s]).map((s) => `${s} ${fmtMin(targets[s][k])}`).join(', ');
    return ` (MTTA ${part('mtta_target_min')}; MTTR ${part('mttr_target_min')})`;
  }

  // ---- breaches ------------------------------------------------------------------------------
  const key = (r) => `${r.alert_id}|${r.clock || ''}`;

  function breachRow(r, fresh) {
    const overTarget = isNum(r.elapsed_min) && isNum(r.target_min) && r.elapsed_min > r.target_min;
    const breached = r.status !== 'warning';
    return h('tr', { class: fresh ? 'flash' : '', dataset: { alertId: r.alert_id, status: r.status || 'breached' } },
      h('td', { class: 'mono', text: r.alert_id }),
      h('td', null, sevChip(r.severity)),
      h('td', { class: 'muted', text: r.clock === 'ack' ? 'Acknowledge' : r.clock === 'resolve' ? 'Resolve' : '—' }),
      h('td', { class: 'nowrap', text: fmtDateTime(r.created_at) }),
      h('td', { class: `num ${overTarget ? 'over' : ''}`, text: fmtMin(r.elapsed_min) }),
      h('td', { class: 'num', text: fmtMin(r.target_min) }),
      h('td', null, h('span', { class: `pill ${breached ? 'pill-red' : 'pill-yellow'}`, text: breached ? 'Breached' : 'Warning' })));
  }

  function renderBreaches(freshKey) {
    const server = st.breaches || [];
    const inServer = new Set(server.map(key));
    const liveRows = [...st.live.values()].filter((l) => !inServer.has(key(l.row))).map((l) => l.row);
    const rows = [...liveRows, ...server];
    const table = h('table', { class: 'data' },
      h('thead', null, h('tr', null, ['Alert ID', 'Severity', 'Clock', 'Created At', 'Elapsed Time', 'SLA Target', 'Status'].map((t) => h('th', { text: t })))),
      h('tbody', null, rows.length
        ? rows.map((r) => breachRow(r, freshKey && key(r) === freshKey))
        : h('tr', { class: 'empty-row' }, h('td', { colspan: 7 }, h('span', { class: 'ok' }, icon('check'), 'No active breaches — all SLAs within targets')))));
    const nb = rows.filter((r) => r.status !== 'warning').length;
    document.getElementById('breach-count').textContent = rows.length ? `${nb} breached · ${rows.length - nb} warning` : '';
    replace(breachesEl,
      st.breachesErr ? h('div', { class: 'panel-pad' }, errorState('Breaches unavailable', st.breachesErr, loadBreaches)) : null,
      st.breachesErr && !rows.length ? null : h('div', { class: 'table-wrap' }, table));
  }

  async function loadBreaches() {
    const started = Date.now();
    if (!st.breaches && !st.breachesErr) replace(breachesEl, loadingState('Loading breaches…'));
    try {
      const rows = asList(await api.get('/api/v1/sla/breaches', T));
      if (!alive) return;
      st.breaches = rows;
      st.breachesErr = null;
      st.breachesFetchStart = started;
      // the server is the truth for anything it had a chance to see
      for (const [k, l] of st.live) if (l.seenAt < started - 1000) st.live.delete(k);
    } catch (e) {
      if (!alive) return;
      st.breachesErr = e;
    }
    renderBreaches();
  }

  // A breach or warning from the live feed: in the table at once, completed
  // from the alert's tracking record.
  async function liveBreach(msg) {
    if (msg.item_kind && msg.item_kind !== 'alert') return;
    const row = {
      alert_id: msg.item_id, severity: msg.severity, clock: msg.clock,
      status: msg.type === 'sla.breach' ? 'breached' : 'warning',
      created_at: null, elapsed_min: null, target_min: null,
    };
    const k = key(row);
    const isNew = !st.live.has(k) && !(st.breaches || []).some((r) => key(r) === k && r.status === row.status);
    st.live.set(k, { row, seenAt: Date.now() });
    renderBreaches(k);
    if (isNew && st.current) {
      const prev = { ...st.current };
      if (row.status === 'breached') st.current.active_breaches = (st.current.active_breaches || 0) + 1;
      else st.current.warnings = (st.current.warnings || 0) + 1;
      renderMetrics(prev);
    }
    try {
      const t = await api.get(`/api/v1/sla/alerts/${api.enc(row.alert_id)}/tracking`, T);
      if (!alive) return;
      row.created_at = t.created_at;
      row.target_min = row.clock === 'ack' ? t.ack_target_minutes : t.resolve_target_minutes;
      if (row.clock === 'ack' ? t.ack_calendar : t.resolve_calendar) {
        // business time is the server's to count: take its figures
        loadBreaches();
        return;
      }
      const stop = row.clock === 'ack' ? t.acknowledged_at : t.resolved_at;
      const end = stop ? Date.parse(stop) : Date.now();
      row.elapsed_min = Math.max(0, (end - Date.parse(t.created_at)) / 60000 - (t.paused_seconds || 0) / 60);
      renderBreaches();
    } catch (e) {
      /* a test notice names no real alert: the row keeps what the event said */
    }
  }

  // ---- configuration form -------------------------------------------------------------------
  let configOpen = localStorage.getItem('slawatch.configOpen') === '1';
  function renderConfig() {
    const toggle = h('button', { id: 'config-toggle', class: 'collapse-head', type: 'button', 'aria-expanded': String(configOpen), 'aria-controls': 'config-body' },
      icon('sliders'), 'SLA Configuration', h('span', { class: 'hint', text: 'per-severity targets for this tenant' }),
      h('span', { class: 'chev' }, icon(configOpen ? 'chevronUp' : 'chevronDown')));
    toggle.addEventListener('click', () => {
      configOpen = !configOpen;
      localStorage.setItem('slawatch.configOpen', configOpen ? '1' : '0');
      renderConfig();
      if (configOpen && !st.definition) loadDefinition();
    });
    const body = h('div', { id: 'config-body', class: 'config-body', hidden: !configOpen });
    replace(configEl, toggle, body);
    if (!configOpen) return;
    if (st.defErr) {
      replace(body, h('br'), errorState('SLA definition unavailable', st.defErr, loadDefinition));
      return;
    }
    if (!st.definition) {
      replace(body, loadingState('Loading the SLA definition…'));
      return;
    }
    const d = st.definition;
    const canSave = ctx.canConfigure();
    const input = ([name, label, unit, lo, hi]) => {
      const src = d.sources && d.sources[name];
      return h('div', { class: 'field' },
        h('label', { for: `f-${name}` }, h('span', { text: `${label} (${unit})` }), src ? h('span', { class: 'src', text: src }) : null),
        h('input', { id: `f-${name}`, name, type: 'number', inputmode: 'numeric', min: lo, max: hi, step: 1, value: d[name] ?? '', disabled: !canSave, 'aria-describedby': `err-${name}` }),
        h('div', { class: 'field-error', id: `err-${name}`, dataset: { fieldError: name }, hidden: true }));
    };
    // the calendar both clocks of a severity count on ('' = around the clock)
    const calSelect = (s) => {
      const cur = (d.calendars && d.calendars[s]) || '';
      const name = `calendars.${s}`;
      const sel = h('select', { id: `f-cal-${s}`, name, dataset: { cal: s }, disabled: !canSave },
        h('option', { value: '', text: 'Around the clock' }),
        (st.calendars || []).map((c) => h('option', { value: c.id, text: `${c.name || c.id} (business hours)` })));
      if (cur && !(st.calendars || []).some((c) => c.id === cur)) sel.appendChild(h('option', { value: cur, text: cur }));
      sel.value = cur;
      const src = d.calendar_sources && d.calendar_sources[s];
      return h('div', { class: 'field' },
        h('label', { for: `f-cal-${s}` }, h('span', { text: 'Calendar' }), src && src !== 'builtin' ? h('span', { class: 'src', text: src }) : null),
        sel, h('div', { class: 'field-error', dataset: { fieldError: name }, hidden: true }));
    };
    const msg = h('span', { class: 'save-msg', id: 'save-msg', role: 'status' });
    const saveBtn = h('button', { class: 'btn btn-primary', type: 'submit', id: 'config-save', disabled: !canSave }, 'Save Configuration');
    const form = h('form', { id: 'config-form', novalidate: true },
      h('div', { class: 'config-grid' }, SEVERITIES.map((s) => h('div', { class: 'config-col' }, sevChip(s), DEF_FIELDS[s].map(input), calSelect(s)))),
      h('div', { class: 'config-foot' },
        input(THRESHOLD),
        saveBtn, msg,
        canSave ? null : h('span', { class: 'muted', text: 'Your role may read but not change this tenant\'s SLA.' })));
    form.addEventListener('submit', (ev) => { ev.preventDefault(); saveDefinition(form, msg, saveBtn); });
    form.addEventListener('input', (ev) => {
      if (ev.target.name) {
        ev.target.removeAttribute('aria-invalid');
        const fe = form.querySelector(`[data-field-error="${ev.target.name}"]`);
        if (fe) fe.hidden = true;
      }
    });
    replace(body, form);
  }

  async function loadDefinition() {
    st.defErr = null;
    try {
      const [def, cals] = await Promise.all([
        api.get('/api/v1/sla/definition', T),
        api.get(`/api/v1/tenants/${api.enc(tenant)}/calendars`).catch(() => null)]);
      st.definition = def;
      st.calendars = cals ? asList(cals) : [];
    } catch (e) {
      st.defErr = e;
    }
    if (alive) renderConfig();
  }

  function showSave(msg, ok, text) {
    replace(msg, icon(ok ? 'check' : 'xcircle'), text);
    msg.className = `save-msg ${ok ? 'ok' : 'err'}`;
  }

  async function saveDefinition(form, msg, btn) {
    const d = st.definition;
    const body = {};
    for (const el of form.querySelectorAll('input[name]')) {
      el.removeAttribute('aria-invalid');
      form.querySelector(`[data-field-error="${el.name}"]`).hidden = true;
      const raw = el.value.trim();
      const v = raw === '' ? NaN : Number(raw);
      if (raw === '' || v !== d[el.name]) body[el.name] = raw === '' || !Number.isFinite(v) ? raw : v;
    }
    for (const el of form.querySelectorAll('select[data-cal]')) {
      const s = el.dataset.cal;
      const was = (d.calendars && d.calendars[s]) || '';
      if (el.value !== was) (body.calendars ||= {})[s] = el.value || null;
    }
    clear(msg);
    if (!Object.keys(body).length) {
      showSave(msg, true, 'No changes to save');
      return;
    }
    btn.disabled = true;
    try {
      const resp = await api.put('/api/v1/sla/definition', body, T);
      const n = resp.headers.get('X-Recalculated-Count');
      st.definition = await resp.json();
      renderConfig();
      const m = document.getElementById('save-msg');
      showSave(m, true, `Saved${n !== null ? ` · ${n} open alert${n === '1' ? '' : 's'} recalculated` : ''}`);
      loadScorecard();
      loadTrends();
      loadBreaches();
    } catch (e) {
      btn.disabled = false;
      if (e.field && form.querySelector(`[name="${e.field}"]`)) {
        const el = form.querySelector(`[name="${e.field}"]`);
        el.setAttribute('aria-invalid', 'true');
        const fe = form.querySelector(`[data-field-error="${e.field}"]`);
        fe.textContent = e.message;
        fe.hidden = false;
        el.focus();
        showSave(msg, false, 'Not saved: fix the highlighted field');
      } else {
        showSave(msg, false, `Not saved: ${e.message}`);
      }
    }
  }

  // ---- loading + live --------------------------------------------------------------------------
  const numbers = mountNumbers(findingsEl, tenant, { limit: 6, onOpen: (id) => { location.hash = `#/findings?id=${encodeURIComponent(id)}`; } });

  async function loadAll() {
    refreshBtn.classList.add('spinning');
    refreshBtn.disabled = true;
    await Promise.allSettled([loadScorecard(), loadCurrent(), loadTrends(), loadBreaches(), forecast.load(), configOpen ? loadDefinition() : null]);
    if (!alive) return;
    refreshBtn.classList.remove('spinning');
    refreshBtn.disabled = false;
    updatedAt.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  }

  const refreshLive = debounce(() => { loadCurrent(); loadBreaches(); }, 1500);
  const refreshSlow = debounce(() => { loadScorecard(); }, 10000);
  let lastCurrent = 0;
  const COUNTERS = ['open_alerts', 'active_breaches', 'warnings', 'overall_compliance_pct', 'overall_health', 'met', 'decided'];

  function onLive(msg) {
    if (!alive || !msg) return;
    switch (msg.type) {
    case 'metrics':
      if (COUNTERS.some((k) => k in msg)) {
        const prev = st.current;
        st.current = { ...(st.current || {}), ...Object.fromEntries(COUNTERS.filter((k) => k in msg).map((k) => [k, msg[k]])) };
        renderMetrics(prev);
      } else if (Date.now() - lastCurrent > 4000) {
        lastCurrent = Date.now();
        loadCurrent();
      }
      break;
    case 'sla.breach':
    case 'sla.warning':
      liveBreach(msg);
      notice(msg);
      refreshLive();
      refreshSlow();
      break;
    case 'sla.escalation':
      toast('Escalation', `${msg.item_id || ''} escalated to level ${msg.escalation_level || '?'}${msg.escalation_target ? ` (${msg.escalation_target})` : ''}`);
      break;
    case 'alert.updated':
    case 'alert.created':
      refreshLive();
      refreshSlow();
      break;
    case 'live.open':
      // anything missed while disconnected
      refreshLive();
      break;
    default:
      break;
    }
  }

  // Toasts for SLA events, coalesced: a scheduler round may report many.
  let pending = [];
  const flushNotices = debounce(() => {
    const evs = pending;
    pending = [];
    if (evs.length === 1) {
      const m = evs[0];
      toast(m.type === 'sla.breach' ? 'SLA breach' : `SLA warning${m.threshold_pct ? ` (${m.threshold_pct}%)` : ''}`,
        `${m.severity || ''} ${m.item_kind || 'alert'} ${m.item_id || ''} · ${m.clock === 'ack' ? 'acknowledge' : 'resolve'} clock`,
        m.type === 'sla.breach' ? 'red' : 'yellow');
    } else if (evs.length > 1) {
      const b = evs.filter((m) => m.type === 'sla.breach').length;
      toast(`${evs.length} SLA events`, `${b} breach${b === 1 ? '' : 'es'}, ${evs.length - b} warning${evs.length - b === 1 ? '' : 's'}: ${evs.slice(0, 3).map((m) => m.item_id).join(', ')}${evs.length > 3 ? ', …' : ''}`, b ? 'red' : 'yellow');
    }
  }, 700);
  function notice(m) {
    pending.push(m);
    flushNotices();
  }

  const off = ctx.live.on(onLive);
  const onTheme = () => loadTrends();     // the charts take their colours from the theme
  window.addEventListener('slawatch:theme', onTheme);
  const tick = setInterval(() => { if (document.visibilityState === 'visible') { loadAll(); numbers.reload(); } }, 60000);
  refreshBtn.addEventListener('click', () => numbers.reload());
  renderConfig();
  loadAll();

  return () => {
    alive = false;
    off();
    window.removeEventListener('slawatch:theme', onTheme);
    clearInterval(tick);
    numbers.stop();
    for (const c of charts) c.destroy();
  };
}
