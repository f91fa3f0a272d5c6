// forecast.js: the dashboard's "Breach Forecast" panel (issue 17): what
// will breach in the next hours, alerts and findings, counts by severity
// and the items due soonest, from GET /api/v1/sla/forecast.  The shift
// lead's view of tomorrow's breaches while they can still be avoided.
import * as api from './api.js';
import { h, replace, sevChip, fmtInt, fmtDateTime, fmtRelative, errorState, loadingState } from './ui.js';

const FORECAST_SEVERITIES = ['urgent', 'critical', 'high', 'medium', 'low'];
const SHOWN = 10;                  // items listed; the counts cover the window

export function forecastPanel(tenant, isAlive) {
  let hours = Number(localStorage.getItem('slawatch.forecastHours')) || 24;
  const el = h('div', { id: 'forecast', class: 'panel' });
  const hint = h('span', { class: 'hint', id: 'forecast-count' });
  const sel = h('select', { id: 'forecast-hours', 'aria-label': 'Forecast window' },
    [8, 24, 72, 168].map((n) => h('option', { value: n, text: `Next ${n < 48 ? `${n} hours` : `${n / 24} days`}` })));
  sel.value = String(hours);
  sel.addEventListener('change', () => {
    hours = Number(sel.value);
    localStorage.setItem('slawatch.forecastHours', String(hours));
    load();
  });
  const section = h('section', { class: 'section' },
    h('div', { class: 'section-head' }, h('h2', { text: 'Breach Forecast' }), hint, h('div', { class: 'right' }, sel)),
    el);

  function render(f) {
    const counts = h('div', { class: 'forecast-counts' },
      FORECAST_SEVERITIES.filter((s) => s !== 'urgent' || f.by_severity.urgent.findings > 0).map((s) => {
        const c = f.by_severity[s] || { alerts: 0, findings: 0 };
        return h('div', { class: 'forecast-count', dataset: { severity: s } }, sevChip(s),
          h('span', { class: 'num', text: `${fmtInt(c.alerts)} alerts · ${fmtInt(c.findings)} findings` }));
      }));
    const items = f.items.slice(0, SHOWN);
    const table = h('table', { class: 'data' },
      h('thead', null, h('tr', null, ['Item', 'Kind', 'Severity', 'Clock', 'Due', 'In'].map((t) => h('th', { text: t })))),
      h('tbody', null, items.length
        ? items.map((it) => h('tr', { dataset: { kind: it.kind, id: it.id } },
          h('td', { class: 'mono', text: it.id }),
          h('td', { class: 'muted', text: it.kind === 'alert' ? 'Alert' : 'Finding' }),
          h('td', null, sevChip(it.severity)),
          h('td', { class: 'muted', text: it.clock === 'ack' ? 'Acknowledge' : 'Resolve' }),
          h('td', { class: 'nowrap', text: fmtDateTime(it.due_at) }),
          h('td', null, h('span', { class: 'pill pill-yellow', text: fmtRelative(it.due_at) }))))
        : h('tr', { class: 'empty-row' }, h('td', { colspan: 6, text: `Nothing will breach in the next ${hours} hours` }))));
    const total = f.alerts + f.findings;
    hint.textContent = total ? `${fmtInt(total)} due${f.count < total || f.truncated ? `, ${items.length} soonest shown` : ''}` : '';
    replace(el, h('div', { class: 'panel-pad' }, counts), h('div', { class: 'table-wrap' }, table));
  }

  async function load() {
    if (!el.firstChild) replace(el, loadingState('Loading the forecast…'));
    try {
      const f = await api.get('/api/v1/sla/forecast', { tenant_id: tenant, hours, limit: SHOWN });
      if (!isAlive()) return;
      render(f);
    } catch (e) {
      if (!isAlive()) return;
      hint.textContent = '';
      replace(el, h('div', { class: 'panel-pad' }, errorState('Forecast unavailable', e, load)));
    }
  }

  return { section, load };
}
