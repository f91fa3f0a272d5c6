// findings.js: vulnerability findings: the numbers (open, overdue, breach
// rate, MTTR, next deadlines), the list with its filters, and one finding's
// deadline, the policy waterfall level by level, its history, and what can
// be done with it: pause with a reason, resume, close with a status,
// reopen, change severity.  Each action shows the server's answer in place
// (its error message on failure) and reloads the finding and the list.
import * as api from './api.js';
import {
  h, icon, replace, sevChip, fmtDateTime, fmtRelative, isNum, errorState, loadingState, asList,
  setWidth, showResult, errorText, FINDING_SEVERITIES,
} from './ui.js';
import { mountNumbers } from './findings_numbers.js';

const STATES = [['', 'Open and paused'], ['open', 'Open'], ['paused', 'Paused'], ['closed', 'Closed'],
  ['false_positive', 'False positive'], ['accepted_risk', 'Accepted risk'], ['not_accessible', 'Not accessible'], ['all', 'All']];
const CLOSE_STATUSES = [['closed', 'Closed (remediated)'], ['false_positive', 'False positive'],
  ['accepted_risk', 'Accepted risk'], ['not_accessible', 'Not accessible']];
const SOURCE_PILL = { project: 'pill-orange', company: 'pill-blue', global: 'pill-gray', builtin: 'pill-gray' };

function statePill(f) {
  const cls = f.state === 'open' ? (f.breached ? 'pill-red' : 'pill-green') : f.state === 'paused' ? 'pill-yellow' : 'pill-gray';
  const text = f.state === 'open' && f.breached ? 'overdue' : f.state.replace('_', ' ');
  return h('span', { class: `pill ${cls}`, text });
}

function hours(hs) {
  if (!isNum(hs)) return '—';
  if (hs < 48) return `${Math.round(hs * 10) / 10}h`;
  return `${Math.round((hs / 24) * 10) / 10}d`;
}

export function mount(root, ctx) {
  const t = ctx.tenant;
  let alive = true;
  let selected = null;
  const canOperate = ctx.canOperate();
  const filters = { state: '', severity: '', project_id: '' };

  const stateSel = h('select', { id: 'f-state', 'aria-label': 'State' }, STATES.map(([v, l]) => h('option', { value: v, text: l })));
  const sevSel = h('select', { id: 'f-severity', 'aria-label': 'Severity' }, h('option', { value: '', text: 'All severities' }), FINDING_SEVERITIES.map((s) => h('option', { value: s, text: s })));
  const projSel = h('select', { id: 'f-project', 'aria-label': 'Project' }, h('option', { value: '', text: 'All projects' }));
  const numbersEl = h('div', { id: 'findings-numbers', class: 'panel' });
  const listEl = h('div', { class: 'panel' });
  const detailEl = h('div', { id: 'finding-detail', class: 'panel panel-pad detail', tabindex: '-1' },
    h('p', { class: 'muted', text: 'Select a finding to see its deadline, the policy waterfall, its history and its actions.' }));
  const countEl = h('span', { class: 'hint' });

  for (const [el, key] of [[stateSel, 'state'], [sevSel, 'severity'], [projSel, 'project_id']]) {
    el.addEventListener('change', () => {
      filters[key] = el.value;
      loadList();
      if (key === 'project_id') {
        numbers.stop();
        numbers = mountNumbers(numbersEl, t, { project: el.value || null, onOpen: select });
      }
    });
  }

  replace(root,
    h('div', { class: 'page-header' },
      h('div', { class: 'page-icon' }, icon('bug')),
      h('div', null, h('h1', { text: 'Findings' }), h('div', { class: 'subtitle', text: `${ctx.tenantInfo().name || t} · vulnerability remediation deadlines` })),
      h('div', { class: 'actions' }, projSel, stateSel, sevSel)),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'In numbers' }), h('span', { class: 'hint', text: 'now, and closed over the last 30 days' })), numbersEl),
    h('div', { class: 'section-head' }, h('h2', { text: 'Findings' }), countEl),
    h('div', { class: 'split' }, listEl, detailEl));

  let numbers = mountNumbers(numbersEl, t, { onOpen: (id) => select(id) });

  async function loadProjects() {
    try {
      const r = await api.get(`/api/v1/tenants/${api.enc(t)}/projects`);
      if (!alive) return;
      for (const p of asList(r)) projSel.appendChild(h('option', { value: p.id, text: p.name || p.id }));
    } catch (e) {
      /* the filter stays at "all projects" */
    }
  }

  function row(f) {
    const dl = f.sla_deadline ? Date.parse(f.sla_deadline) : NaN;
    const overdue = f.breached || (isNum(dl) && dl < Date.now() && f.state === 'open');
    const bar = h('div', { class: 'bar-fill' });
    if (overdue) bar.classList.add('over');
    setWidth(bar, isNum(f.elapsed_pct) ? f.elapsed_pct : 0);
    // the id is a button: the row opens from the keyboard too
    const open = h('button', { class: 'link-button mono', type: 'button', text: f.id, 'aria-label': `Open finding ${f.id}` });
    open.addEventListener('click', (e) => { e.stopPropagation(); select(f.id); });
    const tr = h('tr', { class: `clickable ${selected === f.id ? 'selected' : ''}`, dataset: { id: f.id } },
      h('td', null, open, h('div', { class: 'muted clip', text: f.title || '' })),
      h('td', { class: 'muted', text: f.project_id || '—' }),
      h('td', null, sevChip(f.severity)),
      h('td', null, statePill(f)),
      h('td', { class: 'nowrap' },
        h('div', { class: overdue ? 'over' : '', text: f.state === 'paused' ? 'paused' : ['open'].includes(f.state) ? fmtRelative(f.sla_deadline) : '—' },
          f.calendar ? h('span', { class: 'pill pill-gray business-hours', title: `counted on the calendar ${f.calendar}`, text: 'business hours' }) : null),
        ['open', 'paused'].includes(f.state) ? h('div', { class: 'bar deadline-bar' }, bar) : null),
      h('td', null, h('span', { class: `pill ${SOURCE_PILL[f.sla_source] || 'pill-gray'}`, text: f.sla_source || '—' }), h('span', { class: 'muted', text: ` ${hours(f.sla_hours)}` })),
      h('td', { class: 'right num', text: f.paused_hours ? hours(f.paused_hours) : '—' }));
    tr.addEventListener('click', () => select(f.id));
    return tr;
  }

  async function loadList() {
    if (!listEl.querySelector('table')) replace(listEl, loadingState('Loading findings…'));
    const q = { tenant_id: t, limit: 500, severity: filters.severity, project_id: filters.project_id };
    if (filters.state && filters.state !== 'all') q.state = filters.state;
    try {
      let items = asList(await api.get('/api/v1/findings', q));
      if (!alive) return;
      if (!filters.state) items = items.filter((f) => f.state === 'open' || f.state === 'paused');
      // the most urgent first: overdue, then by deadline
      items.sort((a, b) => (Date.parse(a.sla_deadline) || Infinity) - (Date.parse(b.sla_deadline) || Infinity));
      const overdue = items.filter((f) => f.breached && f.state === 'open').length;
      countEl.textContent = `${items.length} shown · ${overdue} overdue · ${items.filter((f) => f.state === 'paused').length} paused`;
      replace(listEl, h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'findings-table' },
        h('thead', null, h('tr', null, ['Finding', 'Project', 'Severity', 'State', 'Deadline', 'Policy level', 'Paused'].map((x, i) => h('th', { scope: 'col', class: i === 6 ? 'right' : '', text: x })))),
        h('tbody', null, items.length ? items.map(row)
          : h('tr', { class: 'empty-row' }, h('td', { colspan: 7, text: 'No findings match these filters.' }))))));
    } catch (e) {
      if (alive) replace(listEl, h('div', { class: 'panel-pad' }, errorState('Findings unavailable', e, loadList)));
    }
  }

  // ---- actions -----------------------------------------------------------------------------
  // One form per action, opened in place; the answer (or the server's
  // error) right under it.
  function actionsPanel(x) {
    const msg = h('div', { class: 'save-msg', id: 'finding-action-msg', 'aria-live': 'polite' });
    const box = h('div', { class: 'finding-actions', id: 'finding-actions' });
    const live = x.state === 'open' || x.state === 'paused';
    const forms = h('div', { class: 'action-forms' });

    async function run(verb, body, okText) {
      for (const b of box.querySelectorAll('button, select, input')) b.disabled = true;
      try {
        await api.post(`/api/v1/findings/${api.enc(x.id)}/${verb}`, body, { tenant_id: t });
        if (!alive) return;
        await select(x.id, okText);
        loadList();
        numbers.reload();
      } catch (e) {
        if (!alive) return;
        for (const b of box.querySelectorAll('button, select, input')) b.disabled = !canOperate;
        showResult(msg, false, `Not done: ${errorText(e)}`);
      }
    }

    function openForm(name, ...content) {
      replace(forms, h('form', { class: 'action-form', dataset: { form: name }, novalidate: true }, ...content));
      const first = forms.querySelector('input, select');
      if (first) first.focus();
      return forms.firstChild;
    }

    const button = (name, label, onclick) => {
      const b = h('button', { class: 'btn btn-sm', type: 'button', dataset: { action: name }, disabled: !canOperate }, label);
      b.addEventListener('click', onclick);
      return b;
    };
    const cancel = () => h('button', { class: 'btn btn-ghost btn-sm', type: 'button', onclick: () => replace(forms) }, 'Cancel');

    const buttons = [];
    if (x.state === 'open') {
      buttons.push(button('pause', 'Pause…', () => {
        const reason = h('input', { type: 'text', name: 'reason', maxlength: 1000, placeholder: 'Waiting for the vendor’s patch', 'aria-label': 'Reason for the pause' });
        const f = openForm('pause', h('label', { class: 'field-inline' }, h('span', { text: 'Reason' }), reason),
          h('button', { class: 'btn btn-primary btn-sm', type: 'submit' }, 'Pause the clock'), cancel());
        f.addEventListener('submit', (e) => { e.preventDefault(); run('pause', reason.value.trim() ? { reason: reason.value.trim() } : {}, 'Paused: the clock stopped'); });
      }));
    }
    if (x.state === 'paused') buttons.push(button('resume', 'Resume', () => run('resume', {}, 'Resumed: the clock runs again')));
    if (live) {
      buttons.push(button('close', 'Close…', () => {
        const st = h('select', { name: 'status', 'aria-label': 'Closing status' }, CLOSE_STATUSES.map(([v, l]) => h('option', { value: v, text: l })));
        const f = openForm('close', h('label', { class: 'field-inline' }, h('span', { text: 'Status' }), st),
          h('button', { class: 'btn btn-primary btn-sm', type: 'submit' }, 'Close the finding'), cancel());
        f.addEventListener('submit', (e) => { e.preventDefault(); run('close', { status: st.value }, `Closed as ${st.value.replace('_', ' ')}`); });
      }));
      buttons.push(button('severity', 'Change severity…', () => {
        const sv = h('select', { name: 'severity', 'aria-label': 'New severity' }, FINDING_SEVERITIES.map((s) => h('option', { value: s, text: s })));
        sv.value = x.severity;
        const f = openForm('severity', h('label', { class: 'field-inline' }, h('span', { text: 'Severity' }), sv),
          h('button', { class: 'btn btn-primary btn-sm', type: 'submit' }, 'Change'), cancel());
        f.addEventListener('submit', (e) => { e.preventDefault(); run('severity', { severity: sv.value }, `Severity is now ${sv.value}`); });
      }));
    }
    if (!live) buttons.push(button('reopen', 'Reopen', () => run('reopen', {}, 'Reopened: the clock continues')));
    replace(box, h('div', { class: 'row-actions' }, buttons), forms, msg,
      canOperate ? null : h('p', { class: 'muted', text: 'Your role may read findings but not change them.' }));
    return box;
  }

  async function select(id, okText) {
    selected = id;
    for (const tr of listEl.querySelectorAll('tr[data-id]')) tr.classList.toggle('selected', tr.dataset.id === id);
    if (!okText) replace(detailEl, loadingState());
    const q = { tenant_id: t };
    const p = encodeURIComponent(id);
    const [f, ex, ev] = await Promise.allSettled([
      api.get(`/api/v1/findings/${p}`, q),
      api.get(`/api/v1/findings/${p}/sla/explain`, q),
      api.get(`/api/v1/findings/${p}/events`, q),
    ]);
    if (!alive || selected !== id) return;
    if (f.status !== 'fulfilled') {
      replace(detailEl, errorState('Finding unavailable', f.reason, () => select(id)));
      return;
    }
    const x = f.value;
    const parts = [
      h('h2', { text: x.title || x.id }),
      h('div', { class: 'muted mono', text: `${x.id}${x.project_id ? ` · project ${x.project_id}` : ''}` }),
      h('div', { class: 'kv-grid' },
        h('div', { class: 'kv' }, h('div', { class: 'k', text: 'Deadline' }), h('div', { class: `v small ${x.breached ? 'over' : ''}`, text: fmtDateTime(x.sla_deadline) }),
          h('div', { class: 'muted', text: x.state === 'paused' ? `paused since ${fmtDateTime(x.paused_since)}` : fmtRelative(x.sla_deadline) }),
          x.calendar ? h('div', { class: 'muted business-hours', text: `business hours · calendar ${x.calendar}${ex.status === 'fulfilled' && ex.value.calendar ? ` (chosen by ${ex.value.calendar.answered})` : ''}` }) : null),
        h('div', { class: 'kv' }, h('div', { class: 'k', text: 'SLA' }), h('div', { class: 'v small', text: `${hours(x.sla_hours)} (${x.severity})` }),
          h('div', { class: 'muted', text: `from ${x.sla_source}${x.safety_net ? ' (safety net)' : ''}` })),
        h('div', { class: 'kv' }, h('div', { class: 'k', text: 'Paused in total' }), h('div', { class: 'v small', text: hours(x.paused_hours || 0) })),
        h('div', { class: 'kv' }, h('div', { class: 'k', text: 'State' }), h('div', { class: 'v small' }, statePill(x)))),
      h('div', { class: 'subhead', text: 'Actions' }),
      actionsPanel(x),
    ];
    parts.push(h('div', { class: 'subhead', text: 'Policy waterfall' }));
    if (ex.status === 'fulfilled' && Array.isArray(ex.value.levels)) {
      parts.push(h('ul', { class: 'waterfall' }, ex.value.levels.map((l) => h('li', { class: l.answered ? 'answered' : '' },
        h('span', { class: 'lvl', text: l.level }),
        h('span', { class: 'muted', text: l.answered ? 'answered' : l.configured ? 'configured, not used' : 'not set: inherits' }),
        h('span', { class: 'val num', text: isNum(l.value) ? `${l.value} h` : '—' })))));
    } else {
      parts.push(errorState('Waterfall unavailable', ex.reason));
    }
    parts.push(h('div', { class: 'subhead', text: 'History' }));
    if (ev.status === 'fulfilled') {
      const items = asList(ev.value);
      parts.push(items.length ? h('ul', { class: 'timeline', id: 'finding-history' }, items.map((e) => {
        const d = e.data || {};
        const what = e.type === 'paused' ? `Paused${d.reason ? `: ${d.reason}` : ''}`
          : e.type === 'resumed' ? `Resumed after ${hours((d.paused_seconds || 0) / 3600)}`
            : e.type === 'created' ? `Discovered (${d.severity || x.severity}, ${d.sla_hours ? `${d.sla_hours} h SLA` : 'SLA set'})`
              : e.type === 'closed' ? `Closed as ${String(d.to || d.status || 'closed').replace('_', ' ')}`
                : e.type === 'reopened' ? 'Reopened'
                  : e.type === 'severity_changed' ? `Severity ${d.from || ''} → ${d.to || ''}`
                    : e.type === 'sla.breach' ? 'Deadline breached'
                      : e.type === 'sla.warning' ? `SLA warning${d.threshold_pct ? ` at ${d.threshold_pct}%` : ''}`
                        : e.type.replace(/[._]/g, ' ');
        const cls = e.type.includes('breach') ? 'breach' : e.type.includes('warning') ? 'paused' : e.type.replace(/[^a-z]/g, '');
        return h('li', { class: `ev-${cls}` }, h('div', { text: what }), h('div', { class: 'when', text: `${fmtDateTime(e.at)} · ${String(e.actor || '').replace(/^token:/, '')}` }));
      })) : h('p', { class: 'muted', text: 'No events.' }));
    } else {
      parts.push(errorState('History unavailable', ev.reason));
    }
    replace(detailEl, parts);
    if (okText) showResult(detailEl.querySelector('#finding-action-msg'), true, okText);
    // on a phone the detail is below the list: bring it into view
    if (!okText && window.matchMedia('(max-width: 1100px)').matches) detailEl.scrollIntoView({ block: 'start' });
  }

  const fromHash = new URLSearchParams(location.hash.split('?')[1] || '').get('id');
  loadProjects();
  loadList();
  if (fromHash) select(fromHash);
  return () => { alive = false; numbers.stop(); };
}
