// reports.js: the monthly report (with its CSV download), the month's
// findings report (closed, breach rate, MTTR; CSV), the compliance trend,
// alert volume and auto-resolve rate, penalties (per breach and the
// month's summary), and a comparison of two periods.  Each panel loads on
// its own and shows its own error; no data reads "no data".
import * as api from './api.js';
import { lineChart, trendChart } from './charts.js';
import {
  h, icon, replace, sevChip, fmtMin, fmtPct, fmtInt, fmtDateTime, fmtHours, isNum, humanKey,
  errorState, loadingState, asList, noData,
} from './ui.js';

const cents = (c) => (isNum(c) ? (c / 100).toLocaleString(undefined, { style: 'currency', currency: 'USD' }) : '—');

function kv(label, value, cls = '') {
  return h('div', { class: 'kv' }, h('div', { class: 'k', text: label }), h('div', { class: `v ${cls}`, text: value }));
}

function gradeChip(g) {
  return h('span', { class: `grade grade-${g || 'none'}`, text: g || '—' });
}

// Scalars of an object as tiles, whatever their names (fallback rendering).
function genericKv(obj) {
  return h('div', { class: 'kv-grid' }, Object.entries(obj || {})
    .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => kv(humanKey(k), isNum(v) ? (Number.isInteger(v) ? fmtInt(v) : v.toFixed(2)) : String(v))));
}

function summaryTiles(s) {
  const has = isNum(s.total) && s.total > 0;
  return h('div', { class: 'kv-grid' },
    kv('Compliance', has ? fmtPct(s.compliance_pct) : 'no data'),
    h('div', { class: 'kv' }, h('div', { class: 'k', text: 'Grade' }), h('div', { class: 'v' }, gradeChip(has ? s.grade : null))),
    kv('Clocks measured', fmtInt(s.total)),
    kv('Breached', fmtInt(s.breached), s.breached ? 'c-bad' : ''),
    kv('MTTA avg / p90', `${fmtMin(s.mtta_avg_min)} / ${fmtMin(s.mtta_p90_min)}`),
    kv('MTTR avg / p90', `${fmtMin(s.mttr_avg_min)} / ${fmtMin(s.mttr_p90_min)}`),
    kv('Penalties', cents(s.penalty_cents)),
    kv('Alert volume', fmtInt(s.volume)),
    kv('Auto-resolved', isNum(s.auto_resolve_rate_pct) ? `${fmtInt(s.auto_resolved)} (${fmtPct(s.auto_resolve_rate_pct)})` : 'no data'));
}

function severityTable(rows) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
    h('thead', null, h('tr', null, ['Severity', 'Compliance', 'Grade', 'Clocks', 'Breached', 'MTTA avg', 'MTTA target', 'MTTR avg', 'MTTR target', 'Penalties']
      .map((t, i) => h('th', { class: i > 0 ? 'right' : '', text: t })))),
    h('tbody', null, rows.map((r) => h('tr', null,
      h('td', null, sevChip(r.severity)),
      r.total ? h('td', { class: 'right num', text: fmtPct(r.compliance_pct) }) : h('td', { class: 'right' }, noData()),
      h('td', { class: 'right' }, gradeChip(r.total ? r.grade : null)),
      h('td', { class: 'right num', text: fmtInt(r.total) }),
      h('td', { class: `right num ${r.breached ? 'over' : ''}`, text: fmtInt(r.breached) }),
      h('td', { class: `right num ${isNum(r.mtta_avg_min) && r.mtta_avg_min > r.mtta_target_min ? 'over' : ''}`, text: fmtMin(r.mtta_avg_min) }),
      h('td', { class: 'right num muted', text: fmtMin(r.mtta_target_min) }),
      h('td', { class: `right num ${isNum(r.mttr_avg_min) && r.mttr_avg_min > r.mttr_target_min ? 'over' : ''}`, text: fmtMin(r.mttr_avg_min) }),
      h('td', { class: 'right num muted', text: fmtMin(r.mttr_target_min) }),
      h('td', { class: 'right num', text: cents(r.penalty_cents) }))))));
}

// The month's findings report by severity (JSON of /reports/{t}/findings).
function findingsTable(r) {
  const rows = [...(r.by_severity || []), { ...(r.summary || {}), severity: 'all' }];
  const hrs = (v) => (isNum(v) ? h('td', { class: 'right num', text: fmtHours(v) }) : h('td', { class: 'right' }, noData()));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'findings-report' },
    h('thead', null, h('tr', null, ['Severity', 'Closed', 'Met', 'Breached', 'Breach rate', 'MTTR avg', 'MTTR p50', 'MTTR p90', 'Remediated', 'False positive', 'Accepted risk', 'Not accessible']
      .map((t, i) => h('th', { scope: 'col', class: i ? 'right' : '', text: t })))),
    h('tbody', null, rows.map((x) => {
      const st = x.by_status || {};
      return h('tr', { class: x.severity === 'all' ? 'total-row' : '', dataset: { severity: x.severity } },
        h('td', null, x.severity === 'all' ? h('b', { text: 'All' }) : sevChip(x.severity)),
        h('td', { class: 'right num', text: fmtInt(x.closed) }),
        h('td', { class: 'right num', text: fmtInt(x.met) }),
        h('td', { class: `right num ${x.breached ? 'over' : ''}`, text: fmtInt(x.breached) }),
        isNum(x.breach_rate_pct) ? h('td', { class: 'right num', text: fmtPct(x.breach_rate_pct) }) : h('td', { class: 'right' }, noData()),
        hrs(x.mttr_avg_hours), hrs(x.mttr_p50_hours), hrs(x.mttr_p90_hours),
        h('td', { class: 'right num', text: fmtInt(st.closed) }),
        h('td', { class: 'right num', text: fmtInt(st.false_positive) }),
        h('td', { class: 'right num', text: fmtInt(st.accepted_risk) }),
        h('td', { class: 'right num', text: fmtInt(st.not_accessible) }));
    }))));
}

function monthStr(d) {
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

function dayStr(d) {
  return d.toISOString().slice(0, 10);
}

export function mount(root, ctx) {
  const t = ctx.tenant;
  const base = `/api/v1/sla/reports/${api.enc(t)}`;
  let alive = true;
  const charts = [];
  const volCharts = [];
  const now = new Date();
  let month = monthStr(now);

  const monthIn = h('input', { type: 'month', id: 'report-month', value: month, max: month, 'aria-label': 'Month' });
  const csv = h('a', { class: 'btn', id: 'report-csv', download: `slawatch-${t}-${month}.csv` }, icon('download'), 'Download CSV');
  const monthlyEl = h('div', { id: 'report-monthly', class: 'panel panel-pad' });
  const findingsCsv = h('a', { class: 'btn btn-sm', id: 'findings-csv' }, icon('download'), 'Findings CSV');
  const findingsEl = h('div', { id: 'report-findings', class: 'panel panel-pad' });
  const trendEl = h('div', { id: 'report-trend', class: 'panel panel-pad' });
  const volumeEl = h('div', { id: 'report-volume', class: 'grid-2' });
  const penaltiesEl = h('div', { id: 'penalties', class: 'panel panel-pad' });
  const compareEl = h('div', { id: 'compare', class: 'panel panel-pad' });

  const setCsv = () => {
    csv.setAttribute('href', `${base}/monthly?month=${month}&format=csv&tenant_id=${api.enc(t)}`);
    csv.setAttribute('download', `slawatch-${t}-${month}.csv`);
    findingsCsv.setAttribute('href', `${base}/findings?month=${month}&format=csv`);
    findingsCsv.setAttribute('download', `slawatch-${t}-findings-${month}.csv`);
  };
  monthIn.addEventListener('change', () => {
    if (!/^\d{4}-\d{2}$/.test(monthIn.value)) return;
    month = monthIn.value;
    setCsv();
    loadMonthly();
    loadFindings();
    loadPenalties();
  });
  setCsv();

  replace(root,
    h('div', { class: 'page-header' },
      h('div', { class: 'page-icon' }, icon('file')),
      h('div', null, h('h1', { text: 'Reports' }), h('div', { class: 'subtitle', text: `${ctx.tenantInfo().name || t} · monthly compliance, penalties and period comparison` })),
      h('div', { class: 'actions' }, monthIn, csv)),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Monthly report' }), h('span', { class: 'hint', id: 'report-range' })), monthlyEl),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Findings this month' }),
      h('span', { class: 'hint', text: 'closed (any terminal status) by the day they closed; MTTR excludes pauses' }), h('div', { class: 'right' }, findingsCsv)), findingsEl),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Compliance, last 90 days' }), h('span', { class: 'hint', text: 'daily, against the 95 % grade-A line' })), trendEl),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Alert volume and auto-resolve rate, last 30 days' }),
      h('span', { class: 'hint', text: 'alerts created per day; share of the day’s resolutions never acknowledged' })), volumeEl),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Penalties' }), h('span', { class: 'hint', text: 'rate × started hours over the resolution target, per breach' })), penaltiesEl),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Period comparison' })), compareEl));

  async function loadMonthly() {
    replace(monthlyEl, loadingState());
    try {
      const r = await api.get(`${base}/monthly`, { month });
      if (!alive) return;
      document.getElementById('report-range').textContent = r.start_date ? `${r.start_date} to ${r.end_date} (${r.timezone || 'UTC'})` : '';
      replace(monthlyEl,
        r.summary ? summaryTiles(r.summary) : genericKv(r),
        Array.isArray(r.by_severity) ? [h('div', { class: 'subhead', text: 'By severity' }), severityTable(r.by_severity)] : null);
    } catch (e) {
      if (alive) replace(monthlyEl, errorState('Monthly report unavailable', e, loadMonthly));
    }
  }

  async function loadFindings() {
    replace(findingsEl, loadingState());
    try {
      const r = await api.get(`${base}/findings`, { month });
      if (!alive) return;
      replace(findingsEl, findingsTable(r));
    } catch (e) {
      if (alive) replace(findingsEl, errorState('Findings report unavailable', e, loadFindings));
    }
  }

  async function loadVolume() {
    for (const c of volCharts.splice(0)) c.destroy();
    replace(volumeEl, h('div', { class: 'skeleton' }), h('div', { class: 'skeleton' }));
    const [vol, au] = await Promise.allSettled([
      api.get(`${base}/trends`, { metric: 'volume', days: 30 }),
      api.get(`${base}/trends`, { metric: 'auto_resolve_rate', days: 30 }),
    ]);
    if (!alive) return;
    const panel = (id, title, body) => h('div', { class: 'panel chart-panel', id }, h('div', { class: 'chart-head' }, h('h3', { text: title })), body);
    const parts = [];
    if (vol.status === 'fulfilled') {
      const pts = asList(vol.value.points || vol.value).map((p) => ({ date: p.date, value_min: p.value, target_min: null, count: p.value }));
      const total = pts.reduce((a, p) => a + (p.count || 0), 0);
      const c = trendChart(pts, { name: 'volume', label: 'Alerts', height: 180, format: (v) => `${Math.round(v)}` });
      volCharts.push(c);
      parts.push(panel('volume-chart', `Alert volume · ${fmtInt(total)} in 30 days`, total ? c.el : h('p', { class: 'muted', text: 'No alerts: no data.' })));
    } else {
      parts.push(panel('volume-chart', 'Alert volume', errorState('Volume unavailable', vol.reason, loadVolume)));
    }
    if (au.status === 'fulfilled') {
      const pts = asList(au.value.points || au.value);
      const res = pts.reduce((a, p) => a + (p.resolved || 0), 0), n = pts.reduce((a, p) => a + (p.auto_resolved || 0), 0);
      const c = lineChart(pts, { height: 180, range: [0, 100], format: (v) => `${Math.round(v)}%` });
      volCharts.push(c);
      parts.push(panel('auto-resolve-chart', res ? `Auto-resolve rate · ${fmtPct((100 * n) / res)} of ${fmtInt(res)} resolutions` : 'Auto-resolve rate',
        res ? c.el : h('p', { class: 'muted', text: 'No resolutions: no data.' })));
    } else {
      parts.push(panel('auto-resolve-chart', 'Auto-resolve rate', errorState('Auto-resolve rate unavailable', au.reason, loadVolume)));
    }
    replace(volumeEl, parts);
  }

  async function loadTrend() {
    for (const c of charts.splice(0)) c.destroy();
    replace(trendEl, loadingState());
    try {
      const r = await api.get(`${base}/trends`, { metric: 'compliance', days: 90 });
      if (!alive) return;
      // a day without a judged clock has no compliance (the API says 100)
      const pts = asList(r.points || r).map((p) => (p.count === 0 ? { ...p, value: null } : p));
      const c = lineChart(pts, { height: 200, target: isNum(pts[0] && pts[0].target) ? pts[0].target : 95, range: [Math.min(80, ...pts.map((p) => p.value).filter(isNum)) - 2, 100], format: (v) => `${Math.round(v)}%` });
      charts.push(c);
      replace(trendEl, pts.some((p) => isNum(p.value)) ? c.el : h('p', { class: 'muted', text: 'No clock judged in 90 days: no data.' }));
    } catch (e) {
      if (alive) replace(trendEl, errorState('Compliance trend unavailable', e, loadTrend));
    }
  }

  async function loadPenalties() {
    replace(penaltiesEl, loadingState());
    const [sum, list] = await Promise.allSettled([
      api.get(`/api/v1/sla/penalties/${api.enc(t)}/summary`, { month }),
      api.get(`/api/v1/sla/penalties/${api.enc(t)}`, { month }),
    ]);
    if (!alive) return;
    const parts = [];
    if (sum.status === 'fulfilled') {
      const s = sum.value;
      parts.push(h('div', { class: 'kv-grid' },
        kv('Breaches billed', fmtInt(s.breaches)),
        kv('Total', cents(s.total_cents), s.total_cents ? 'c-bad' : ''),
        kv('Monthly cap', s.cap_cents === null || s.cap_cents === undefined ? 'none' : cents(s.cap_cents)),
        kv('Credited', cents(s.credited_cents))));
      if (Array.isArray(s.by_severity)) {
        parts.push(h('div', { class: 'subhead', text: 'By severity' }), h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
          h('thead', null, h('tr', null, ['Severity', 'Breaches', 'Rate per hour', 'Amount'].map((x, i) => h('th', { class: i ? 'right' : '', text: x })))),
          h('tbody', null, s.by_severity.map((r) => h('tr', null, h('td', null, sevChip(r.severity)),
            h('td', { class: 'right num', text: fmtInt(r.breaches) }), h('td', { class: 'right num', text: cents(r.rate_cents_per_hour) }),
            h('td', { class: 'right num', text: cents(r.amount_cents) })))))));
      }
    } else {
      parts.push(errorState('Penalty summary unavailable', sum.reason, loadPenalties));
    }
    if (list.status === 'fulfilled') {
      const items = asList(list.value).slice().sort((a, b) => (b.amount_cents || 0) - (a.amount_cents || 0)).slice(0, 15);
      parts.push(h('div', { class: 'subhead', text: `Largest penalties (${fmtInt(list.value.count ?? items.length)} in the month)` }),
        items.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'penalty-items' },
          h('thead', null, h('tr', null, ['Alert', 'Severity', 'Created', 'Resolved', 'Over target', 'Hours billed', 'Amount'].map((x, i) => h('th', { class: i > 3 ? 'right' : '', text: x })))),
          h('tbody', null, items.map((r) => h('tr', null,
            h('td', { class: 'mono', text: r.alert_id }), h('td', null, sevChip(r.severity)),
            h('td', { class: 'nowrap', text: fmtDateTime(r.created_at) }), h('td', { class: 'nowrap', text: fmtDateTime(r.resolved_at) }),
            h('td', { class: 'right num over', text: fmtMin(r.overage_min) }), h('td', { class: 'right num', text: fmtInt(r.hours_billed) }),
            h('td', { class: 'right num', text: cents(r.amount_cents) }))))))
          : h('p', { class: 'muted', text: 'No penalties this month.' }));
    } else {
      parts.push(errorState('Penalty list unavailable', list.reason, loadPenalties));
    }
    replace(penaltiesEl, parts);
  }

  // ---- comparison --------------------------------------------------------------------
  const firstThis = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const lastPrev = new Date(firstThis.getTime() - 86400000);
  const firstPrev = new Date(Date.UTC(lastPrev.getUTCFullYear(), lastPrev.getUTCMonth(), 1));
  const inputs = {
    period1_start: h('input', { type: 'date', name: 'period1_start', value: dayStr(firstPrev), 'aria-label': 'Period 1 start' }),
    period1_end: h('input', { type: 'date', name: 'period1_end', value: dayStr(lastPrev), 'aria-label': 'Period 1 end' }),
    period2_start: h('input', { type: 'date', name: 'period2_start', value: dayStr(firstThis), 'aria-label': 'Period 2 start' }),
    period2_end: h('input', { type: 'date', name: 'period2_end', value: dayStr(now), 'aria-label': 'Period 2 end' }),
  };
  const result = h('div', { id: 'compare-result' });
  const form = h('form', { class: 'toolbar', id: 'compare-form', novalidate: true },
    h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Period 1' }), h('div', { class: 'chain' }, inputs.period1_start, '→', inputs.period1_end)),
    h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Period 2' }), h('div', { class: 'chain' }, inputs.period2_start, '→', inputs.period2_end)),
    h('button', { class: 'btn btn-primary', type: 'submit' }, 'Compare'));
  form.addEventListener('submit', (e) => { e.preventDefault(); compare(); });
  replace(compareEl, form, result);

  const ROWS = [
    ['compliance_pct', 'Compliance', fmtPct, true],
    ['mtta_avg_min', 'MTTA average', fmtMin, false],
    ['mtta_p90_min', 'MTTA p90', fmtMin, false],
    ['mttr_avg_min', 'MTTR average', fmtMin, false],
    ['mttr_p90_min', 'MTTR p90', fmtMin, false],
    ['total', 'Clocks measured', fmtInt, null],
    ['breached', 'Breached', fmtInt, false],
    ['penalty_cents', 'Penalties', cents, false],
  ];

  async function compare() {
    replace(result, loadingState());
    const body = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value]));
    try {
      const r = await api.post(`${base}/compare`, body);
      if (!alive) return;
      if (!r.period1 || !r.period2) {
        replace(result, genericKv(r));
        return;
      }
      const d = r.delta || {}, pc = r.percent_change || {};
      replace(result, h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
        h('thead', null, h('tr', null, ['Metric', `${body.period1_start} → ${body.period1_end}`, `${body.period2_start} → ${body.period2_end}`, 'Change'].map((x, i) => h('th', { class: i ? 'right' : '', text: x })))),
        h('tbody', null, ROWS.map(([k, label, f, higherIsBetter]) => {
          const dv = d[k];
          const better = !isNum(dv) || dv === 0 || higherIsBetter === null ? '' : (dv > 0) === higherIsBetter ? 'delta-up' : 'delta-down';
          const sign = isNum(dv) && dv > 0 ? '+' : '';
          const change = !isNum(dv) ? '—' : k === 'compliance_pct' ? `${sign}${dv.toFixed(1)} pts`
            : `${sign}${k === 'penalty_cents' ? cents(dv) : k.endsWith('_min') ? (dv < 0 ? '−' : '') + fmtMin(Math.abs(dv)) : fmtInt(dv)}${isNum(pc[k]) ? ` (${sign}${pc[k].toFixed(1)}%)` : ''}`;
          return h('tr', null, h('td', { text: label }), h('td', { class: 'right num', text: f(r.period1[k]) }), h('td', { class: 'right num', text: f(r.period2[k]) }),
            h('td', { class: `right num ${better}`, text: change.replace('+−', '−') }));
        })))));
    } catch (e) {
      if (alive) replace(result, errorState('Comparison failed', e));
    }
  }

  const onTheme = () => { loadTrend(); loadVolume(); };
  window.addEventListener('slawatch:theme', onTheme);
  loadMonthly();
  loadFindings();
  loadTrend();
  loadVolume();
  loadPenalties();
  compare();
  return () => {
    alive = false;
    window.removeEventListener('slawatch:theme', onTheme);
    for (const c of charts) c.destroy();
    for (const c of volCharts) c.destroy();
  };
}
