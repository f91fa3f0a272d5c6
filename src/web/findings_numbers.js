// findings_numbers.js: the vulnerability side in numbers, as the dashboard
// and the Findings view show it: per severity open, paused, overdue, due in
// 7 days, closed in 30 days, breach rate and MTTR (GET
// /sla/findings/summary), and the next deadlines (GET /sla/findings/upcoming).
// No data reads "no data", never 0 % or 100 %.
import * as api from './api.js';
import {
  h, replace, sevChip, fmtHours, fmtInt, fmtPct, fmtDateTime, isNum, noData, errorState,
  loadingState, asList,
} from './ui.js';

function rateCell(r) {
  if (!r.closed_30d) return h('td', { class: 'right' }, noData());
  const cls = r.breach_rate_pct > 15 ? 'c-bad' : r.breach_rate_pct > 5 ? 'c-warn' : 'c-good';
  return h('td', { class: `right num ${cls}`, text: fmtPct(r.breach_rate_pct) });
}

function hoursCell(v) {
  return isNum(v) ? h('td', { class: 'right num', text: fmtHours(v) }) : h('td', { class: 'right' }, noData());
}

export function summaryTable(rows) {
  const total = (k) => rows.reduce((s, r) => s + (isNum(r[k]) ? r[k] : 0), 0);
  const any = total('open') + total('paused') + total('closed_30d') > 0;
  const table = h('table', { class: 'data', id: 'findings-summary' },
    h('thead', null, h('tr', null, ['Severity', 'Open', 'Paused', 'Overdue', 'Due ≤ 7 d', 'Closed 30 d', 'Breach rate', 'MTTR avg', 'MTTR p50', 'MTTR p90']
      .map((x, i) => h('th', { scope: 'col', class: i ? 'right' : '', text: x })))),
    h('tbody', null, any ? rows.map((r) => h('tr', { dataset: { severity: r.severity } },
      h('td', null, sevChip(r.severity)),
      h('td', { class: 'right num', text: fmtInt(r.open) }),
      h('td', { class: 'right num', text: fmtInt(r.paused) }),
      h('td', { class: `right num ${r.overdue ? 'over' : ''}`, text: fmtInt(r.overdue) }),
      h('td', { class: `right num ${r.due_7d ? 'c-warn' : ''}`, text: fmtInt(r.due_7d) }),
      h('td', { class: 'right num', text: fmtInt(r.closed_30d) }),
      rateCell(r),
      hoursCell(r.mttr_avg_hours), hoursCell(r.mttr_p50_hours), hoursCell(r.mttr_p90_hours)))
      : h('tr', { class: 'empty-row' }, h('td', { colspan: 10, text: 'No findings yet: no data.' }))));
  return h('div', { class: 'table-wrap' }, table);
}

export function upcomingTable(items, onOpen) {
  if (!items.length) {
    return h('p', { class: 'muted panel-pad', id: 'upcoming-empty', text: 'No running finding is due in the next 7 days.' });
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'findings-upcoming' },
    h('thead', null, h('tr', null, ['Finding', 'Project', 'Severity', 'Deadline', 'Left'].map((x, i) => h('th', { scope: 'col', class: i === 4 ? 'right' : '', text: x })))),
    h('tbody', null, items.map((d) => {
      const id = onOpen
        ? h('a', { class: 'mono', href: `#/findings?id=${encodeURIComponent(d.finding_id)}`, text: d.finding_id, onclick: (e) => { e.preventDefault(); onOpen(d.finding_id); } })
        : h('span', { class: 'mono', text: d.finding_id });
      return h('tr', { dataset: { findingId: d.finding_id } },
        h('td', null, id),
        h('td', { class: 'muted', text: d.project_id || '—' }),
        h('td', null, sevChip(d.severity)),
        h('td', { class: 'nowrap', text: fmtDateTime(d.sla_deadline) }),
        h('td', { class: `right num ${d.hours_left < 24 ? 'c-warn' : ''}`, text: fmtHours(d.hours_left) }));
    }))));
}

// Loads both into el (a panel); returns a function that reloads.
export function mountNumbers(el, tenant, opts = {}) {
  let alive = true;
  async function load() {
    if (!el.children.length) replace(el, loadingState('Loading findings…'));
    const q = { tenant_id: tenant, project_id: opts.project || null };
    const [sum, up] = await Promise.allSettled([
      api.get('/api/v1/sla/findings/summary', q),
      api.get('/api/v1/sla/findings/upcoming', { ...q, hours: 168, limit: opts.limit || 8 }),
    ]);
    if (!alive) return;
    replace(el,
      sum.status === 'fulfilled' ? summaryTable(asList(sum.value))
        : h('div', { class: 'panel-pad' }, errorState('Findings summary unavailable', sum.reason, load)),
      h('div', { class: 'subhead panel-pad-x', text: 'Next deadlines (7 days)' }),
      up.status === 'fulfilled' ? upcomingTable(asList(up.value), opts.onOpen)
        : h('div', { class: 'panel-pad' }, errorState('Upcoming deadlines unavailable', up.reason, load)));
  }
  load();
  return { reload: load, stop() { alive = false; } };
}
