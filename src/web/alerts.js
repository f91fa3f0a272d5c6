// alerts.js: the tenant's alerts: search (id or title), filters (state,
// severity, breached), pages by cursor, and the analyst's actions on each:
// acknowledge, resolve, escalate one step, reopen.  Every action answers in
// its own row, the server's words on failure (409 already resolved, 400 a
// chain exhausted or undefined...), and the row takes the server's new
// record on success.
import * as api from './api.js';
import {
  h, icon, replace, sevChip, fmtDateTime, fmtRelative, errorState, loadingState, asList,
  debounce, showResult, errorText, SEVERITIES,
} from './ui.js';

const STATES = [['', 'Open and acknowledged'], ['open', 'Open'], ['acknowledged', 'Acknowledged'],
  ['resolved', 'Resolved'], ['all', 'All states']];
const PAGE = 50;

function statePill(a) {
  const breached = a.ack_breached || a.resolve_breached;
  const cls = a.state === 'resolved' ? 'pill-gray' : breached ? 'pill-red' : a.state === 'acknowledged' ? 'pill-blue' : 'pill-yellow';
  return h('span', { class: `pill ${cls}`, text: a.state === 'resolved' ? 'resolved' : breached ? `${a.state} · breached` : a.state });
}

export function mount(root, ctx) {
  const t = ctx.tenant;
  let alive = true;
  const canOperate = ctx.canOperate();
  const filters = { q: '', state: '', severity: '', breached: '' };
  let cursor = null;

  const search = h('input', { id: 'alert-search', type: 'search', placeholder: 'Search id or title', 'aria-label': 'Search alerts by id or title', autocomplete: 'off' });
  const stateSel = h('select', { id: 'alert-state', 'aria-label': 'State' }, STATES.map(([v, l]) => h('option', { value: v, text: l })));
  const sevSel = h('select', { id: 'alert-severity', 'aria-label': 'Severity' }, h('option', { value: '', text: 'All severities' }),
    SEVERITIES.map((s) => h('option', { value: s, text: s })));
  const brSel = h('select', { id: 'alert-breached', 'aria-label': 'Breached' },
    [['', 'Breached or not'], ['true', 'Breached'], ['false', 'Not breached']].map(([v, l]) => h('option', { value: v, text: l })));
  const tbody = h('tbody');
  const countEl = h('span', { class: 'hint', id: 'alert-count' });
  const more = h('button', { class: 'btn', type: 'button', id: 'alerts-more', hidden: true }, 'Load more');
  const listEl = h('div', { class: 'panel', id: 'alerts' });

  replace(root,
    h('div', { class: 'page-header' },
      h('div', { class: 'page-icon' }, icon('list')),
      h('div', null, h('h1', { text: 'Alerts' }),
        h('div', { class: 'subtitle', text: `${ctx.tenantInfo().name || t} · acknowledge, resolve and escalate` }))),
    h('div', { class: 'toolbar filters', role: 'search' },
      h('div', { class: 'search-box' }, icon('search'), search), stateSel, sevSel, brSel),
    h('div', { class: 'section-head' }, h('h2', { text: 'Alerts' }), countEl),
    listEl,
    h('div', { class: 'load-more' }, more),
    canOperate ? null : h('p', { class: 'muted', text: 'Your role may read alerts but not act on them.' }));

  const reload = () => load(false);
  search.addEventListener('input', debounce(() => { filters.q = search.value.trim(); reload(); }, 300));
  for (const [el, key] of [[stateSel, 'state'], [sevSel, 'severity'], [brSel, 'breached']]) {
    el.addEventListener('change', () => { filters[key] = el.value; reload(); });
  }
  more.addEventListener('click', () => load(true));

  // ---- actions -------------------------------------------------------------------------
  const ACTIONS = {
    acknowledge: { label: 'Acknowledge', when: (a) => a.state === 'open' },
    resolve: { label: 'Resolve', when: (a) => a.state !== 'resolved' },
    escalate: { label: 'Escalate', when: (a) => a.state !== 'resolved' },
    reopen: { label: 'Reopen', when: (a) => a.state === 'resolved' },
  };

  async function act(a, verb, tr, msg) {
    for (const b of tr.querySelectorAll('button')) b.disabled = true;
    try {
      let fresh;
      if (verb === 'escalate') {
        const out = await api.post(`/api/v1/sla/escalate/${api.enc(a.alert_id)}`, {}, { tenant_id: t, severity: a.severity });
        fresh = await api.get(`/api/v1/sla/alerts/${api.enc(a.alert_id)}/tracking`, { tenant_id: t });
        if (!alive) return;
        const nr = row(fresh);
        tr.replaceWith(nr);
        showResult(nr.querySelector('.row-msg'), true, `Escalated to ${out.level || `level ${out.escalation_level}`}${out.step && out.step.role ? ` (${out.step.role})` : ''}`);
        return;
      }
      fresh = await api.post(`/api/v1/alerts/${api.enc(a.alert_id)}/${verb}`, {}, { tenant_id: t });
      if (!alive) return;
      const nr = row(fresh);
      tr.replaceWith(nr);
      showResult(nr.querySelector('.row-msg'), true, { acknowledge: 'Acknowledged', resolve: 'Resolved', reopen: 'Reopened' }[verb]);
    } catch (e) {
      if (!alive) return;
      for (const b of tr.querySelectorAll('button')) b.disabled = false;
      showResult(msg, false, errorText(e));
    }
  }

  function row(a) {
    const msg = h('div', { class: 'row-msg', 'aria-live': 'polite' });
    const tr = h('tr', { dataset: { alertId: a.alert_id, state: a.state } });
    const buttons = Object.entries(ACTIONS).filter(([, x]) => x.when(a)).map(([verb, x]) => {
      const b = h('button', { class: `btn btn-sm ${verb === 'escalate' ? 'btn-warn' : ''}`, type: 'button', dataset: { action: verb }, disabled: !canOperate,
        'aria-label': `${x.label} ${a.alert_id}` }, x.label);
      b.addEventListener('click', () => act(a, verb, tr, msg));
      return b;
    });
    const due = a.state === 'open' ? a.ack_due_at : a.state === 'acknowledged' ? a.resolve_due_at : null;
    replace(tr,
      h('td', null, h('div', { class: 'mono', text: a.alert_id }), h('div', { class: 'muted clip', text: a.title || '' })),
      h('td', null, sevChip(a.severity)),
      h('td', null, statePill(a)),
      h('td', { class: 'nowrap', text: fmtDateTime(a.created_at) }),
      h('td', { class: `nowrap ${a.ack_breached || a.resolve_breached ? 'over' : ''}` },
        due ? `${a.state === 'open' ? 'ack' : 'resolve'} ${fmtRelative(due)}` : a.state === 'resolved' ? `resolved ${fmtRelative(a.resolved_at)}` : '—'),
      h('td', { class: 'num', text: a.escalation_level ? `L${a.escalation_level}` : '—' }),
      h('td', { class: 'actions-cell' }, h('div', { class: 'row-actions' }, buttons), msg));
    return tr;
  }

  async function load(append) {
    if (!append) {
      cursor = null;
      replace(listEl, loadingState('Loading alerts…'));
    }
    more.disabled = true;
    const q = { tenant_id: t, limit: PAGE, q: filters.q, severity: filters.severity, breached: filters.breached, cursor: append ? cursor : null,
      state: filters.state === 'all' ? null : filters.state || 'unresolved' };
    try {
      const out = await api.get('/api/v1/alerts', q);
      if (!alive) return;
      const items = asList(out);
      cursor = out.next_cursor || null;
      if (!append) {
        replace(tbody);
        replace(listEl, h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'alerts-table' },
          h('thead', null, h('tr', null, ['Alert', 'Severity', 'State', 'Created', 'Due', 'Escalation', 'Actions'].map((x) => h('th', { scope: 'col', text: x })))),
          tbody)));
      }
      for (const a of items) tbody.appendChild(row(a));
      if (!tbody.children.length) {
        tbody.appendChild(h('tr', { class: 'empty-row' }, h('td', { colspan: 7, text: filters.q ? `No alert matches “${filters.q}”.` : 'No alerts match these filters.' })));
      }
      more.hidden = !cursor;
      more.disabled = false;
      countEl.textContent = `${tbody.querySelectorAll('tr[data-alert-id]').length} shown${cursor ? ' · more available' : ''}`;
    } catch (e) {
      if (alive) replace(listEl, h('div', { class: 'panel-pad' }, errorState('Alerts unavailable', e, () => load(false))));
    }
  }

  load(false);
  return () => { alive = false; };
}
