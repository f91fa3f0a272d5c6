// policies.js: the findings' SLA policy at its three stored scopes
// (global, company, project), with the waterfall visible: for each
// severity, what this scope says (blank = inherit), what each level above
// says, the effective value and the level that answered (as `explain`
// does).  Partial overrides (some severities only), delete-to-inherit,
// escalation contacts chosen from the tenant's users, and recalculation
// with the count the server reports.
//
// Extension points (kept empty here, filled by the work that brings the
// feature): extensions.columns adds per-severity settings a policy scope
// learns (business-hours calendars: an input per severity, its effective
// value and source, read from and written to the same policy body), and
// extensions.contactDetail renders how a contact's person is reached
// (their contact points).
import * as api from './api.js';
import {
  h, icon, replace, sevChip, isNum, errorState, loadingState, asList, showResult, errorText,
  FINDING_SEVERITIES,
} from './ui.js';

// Built-in hours (DESIGN.md): the last level of every waterfall.
const BUILTIN = { urgent: 24, critical: 72, high: 168, medium: 720, low: 2160 };
const LEVELS = ['project', 'company', 'global', 'builtin'];
const LEVEL_LABEL = { project: 'Project', company: 'Company', global: 'Global', builtin: 'Built-in' };

// columns: [{key: 'calendars', title, cell(sev, own, effective) -> Node,
// read(form) -> the body's value for key}]; contactDetail: (contact) ->
// Node or null.
export const extensions = { columns: [], contactDetail: null };
const EXTRA_COLUMNS = extensions.columns;

function fmtH(v) {
  if (!isNum(v)) return '—';
  return v % 24 === 0 && v >= 48 ? `${v} h (${v / 24} d)` : `${v} h`;
}

export function mount(root, ctx) {
  const t = ctx.tenant;
  const te = api.enc(t);
  let alive = true;
  const admin = ctx.isPlatformAdmin();
  const canWrite = (scope) => (scope.kind === 'global' ? admin : ctx.canConfigure());
  let scopes = [];
  let current = null;
  let users = null;             // [{id, email}] or null when the list is not ours to read

  const pickerEl = h('div', { class: 'scope-picker', id: 'policy-scopes', role: 'tablist', 'aria-label': 'Policy scope' });
  const editorEl = h('div', { class: 'panel panel-pad', id: 'policy-editor', role: 'tabpanel' });
  replace(root,
    h('div', { class: 'page-header' },
      h('div', { class: 'page-icon' }, icon('layers')),
      h('div', null, h('h1', { text: 'Policies' }),
        h('div', { class: 'subtitle', text: `${ctx.tenantInfo().name || t} · finding deadlines per severity: project → company → global → built-in` }))),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Scope' }),
      h('span', { class: 'hint', text: 'each severity is resolved on its own: the most specific level with a value answers' })), pickerEl),
    h('section', { class: 'section' }, editorEl));

  const path = (s) => (s.kind === 'global' ? '/api/v1/sla/policy/global'
    : s.kind === 'company' ? `/api/v1/sla/policy/companies/${te}`
      : `/api/v1/sla/policy/companies/${te}/projects/${api.enc(s.project)}`);

  function renderPicker() {
    replace(pickerEl, scopes.map((s) => {
      const b = h('button', { class: `scope-tab ${current === s ? 'active' : ''}`, type: 'button', role: 'tab', 'aria-selected': String(current === s),
        dataset: { scope: s.kind, project: s.project || '' } }, h('span', { class: 'scope-kind', text: LEVEL_LABEL[s.kind] }), h('span', { text: s.label }));
      b.addEventListener('click', () => { current = s; renderPicker(); loadScope(); });
      return b;
    }));
  }

  async function loadScopes() {
    scopes = [];
    if (admin) scopes.push({ kind: 'global', label: 'all companies' });
    const company = { kind: 'company', label: ctx.tenantInfo().name || t };
    scopes.push(company);
    try {
      const ps = asList(await api.get(`/api/v1/tenants/${te}/projects`));
      for (const p of ps) scopes.push({ kind: 'project', project: p.id, label: p.name || p.id });
    } catch (e) {
      /* the company alone */
    }
    if (!alive) return;
    const want = new URLSearchParams(location.hash.split('?')[1] || '').get('scope');
    current = scopes.find((s) => (s.project || s.kind) === want) || company;
    renderPicker();
    loadScope();
  }

  async function loadUsers() {
    if (users !== null) return users;
    if (!ctx.canAdmin()) {
      users = [];        /* only admins list users: the field takes an id */
      return users;
    }
    try {
      const out = await api.get('/api/v1/users', current && current.kind === 'global' ? {} : { tenant_id: t }, { noAuthRedirect: false });
      users = asList(out).map((u) => ({ id: u.id, email: u.email }));
    } catch (e) {
      users = [];        /* not ours to list after all: the field takes an id */
    }
    return users;
  }

  // ---- the editor ----------------------------------------------------------------------------
  async function loadScope() {
    const s = current;
    replace(editorEl, loadingState('Loading the policy…'));
    const reads = [api.get(path(s))];
    // the levels above, for the waterfall (global only for platform admins)
    reads.push(s.kind === 'project' ? api.get(path(scopes.find((x) => x.kind === 'company'))) : Promise.resolve(null));
    reads.push(admin && s.kind !== 'global' ? api.get('/api/v1/sla/policy/global') : Promise.resolve(null));
    reads.push(loadUsers());
    const [own, company, global] = await Promise.allSettled(reads);
    if (!alive || current !== s) return;
    if (own.status !== 'fulfilled') {
      replace(editorEl, errorState('Policy unavailable', own.reason, loadScope));
      return;
    }
    render(s, own.value, company.status === 'fulfilled' ? company.value : null, global.status === 'fulfilled' ? global.value : null);
  }

  function levelValue(level, sev, ctxp) {
    const k = `${sev}_hours`;
    if (level === 'builtin') return BUILTIN[sev];
    const src = ctxp[level];
    if (src) return isNum(src[k]) && src[k] > 0 ? src[k] : null;
    // not readable (global for a tenant admin): known only when it answered
    const eff = ctxp.own.effective && ctxp.own.effective[k];
    return eff && eff.source === level ? eff.value : undefined;
  }

  function render(s, own, company, global) {
    const writable = canWrite(s);
    const levels = LEVELS.slice(LEVELS.indexOf(s.kind));
    const ctxp = { own, project: s.kind === 'project' ? own : null, company: s.kind === 'company' ? own : company, global: s.kind === 'global' ? own : global };
    const msg = h('div', { class: 'save-msg', id: 'policy-msg', 'aria-live': 'polite' });
    const inputs = {};
    const rows = FINDING_SEVERITIES.map((sev) => {
      const k = `${sev}_hours`;
      const eff = (own.effective && own.effective[k]) || {};
      const input = h('input', { type: 'number', name: k, id: `p-${k}`, min: 0, max: 87600, step: 1, inputmode: 'numeric',
        value: isNum(own[k]) && own[k] > 0 ? own[k] : '', placeholder: 'inherit', disabled: !writable, 'aria-label': `${sev} hours at this scope (blank inherits)` });
      inputs[k] = input;
      const chain = h('ol', { class: 'chain-levels', 'aria-label': `${sev}: the waterfall` }, levels.map((lv) => {
        const v = levelValue(lv, sev, ctxp);
        const answered = eff.source === lv && !(lv === 'builtin' && eff.safety_net);
        return h('li', { class: `lv ${answered ? 'answered' : ''} ${v === null ? 'unset' : ''}`, dataset: { level: lv },
          title: v === undefined ? 'only platform admins read the global policy' : '' },
        h('span', { class: 'lv-name', text: LEVEL_LABEL[lv] }),
        h('span', { class: 'lv-val', text: v === undefined ? '·' : v === null ? 'inherit' : `${v} h` }));
      }));
      return h('tr', { dataset: { severity: sev } },
        h('th', { scope: 'row' }, sevChip(sev)),
        h('td', null, input),
        h('td', null, chain),
        h('td', { class: 'nowrap', dataset: { effective: k } }, h('b', { text: fmtH(eff.value) }),
          h('div', { class: 'muted', text: eff.safety_net ? 'safety net' : `from ${eff.source || '—'}` })),
        EXTRA_COLUMNS.map((c) => h('td', null, c.cell(sev, own, own.effective))));
    });
    const table = h('div', { class: 'table-wrap' }, h('table', { class: 'data policy-table', id: 'policy-table' },
      h('thead', null, h('tr', null, ['Severity', 'This scope (hours)', 'Waterfall', 'Effective', ...EXTRA_COLUMNS.map((c) => c.title)]
        .map((x) => h('th', { scope: 'col', text: x })))),
      h('tbody', null, rows)));

    // ---- escalation contacts ----
    const ownContacts = Array.isArray(own.escalation_contacts) ? own.escalation_contacts : [];
    const effContacts = (own.effective && own.effective.escalation_contacts) || { items: [], source: null };
    const contactRows = [1, 2, 3].map((level) => {
      const c = ownContacts.find((x) => x.level === level) || {};
      let who;
      if (users && users.length) {
        who = h('select', { name: `contact${level}_user`, 'aria-label': `Level ${level} contact`, disabled: !writable },
          h('option', { value: '', text: '— none —' }),
          users.map((u) => h('option', { value: u.id, text: u.email && u.email !== u.id ? `${u.id} (${u.email})` : u.id })));
        if (c.user && !users.some((u) => u.id === c.user)) who.appendChild(h('option', { value: c.user, text: `${c.user} (not a user of this tenant)` }));
        who.value = c.user || '';
      } else {
        who = h('input', { type: 'text', name: `contact${level}_user`, value: c.user || '', placeholder: 'user id', 'aria-label': `Level ${level} contact (user id)`, disabled: !writable });
      }
      const days = h('input', { type: 'number', name: `contact${level}_days`, min: 0, max: 3650, value: isNum(c.days_after_breach) ? c.days_after_breach : (level - 1) * 3,
        'aria-label': `Level ${level}: days after the breach`, disabled: !writable });
      const r = h('div', { class: 'contact-row', dataset: { level } },
        h('span', { class: 'pill pill-gray', text: `Level ${level}` }), who,
        h('label', { class: 'field-inline' }, days, h('span', { class: 'muted', text: 'days after breach' })),
        extensions.contactDetail && c.user ? extensions.contactDetail(c) : null);
      r.read = () => (who.value.trim() ? { level, user: who.value.trim(), days_after_breach: Number(days.value) || 0 } : null);
      return r;
    });
    const effText = effContacts.items && effContacts.items.length
      ? `${effContacts.items.map((c) => `L${c.level} ${c.user} +${c.days_after_breach} d`).join(', ')} (from ${effContacts.source})`
      : 'nobody: no level defines contacts';

    // ---- buttons ----
    const save = h('button', { class: 'btn btn-primary', type: 'submit', id: 'policy-save', disabled: !writable }, 'Save policy');
    const revert = h('button', { class: 'btn', type: 'button', id: 'policy-delete', disabled: !writable || !own.updated_at }, 'Revert to inherited…');
    const recalc = s.kind === 'global' ? null
      : h('button', { class: 'btn', type: 'button', id: 'policy-recalculate', disabled: !writable }, icon('refresh'), 'Recalculate open findings');
    const confirmEl = h('div', { class: 'confirm', id: 'policy-confirm', hidden: true });
    const form = h('form', { id: 'policy-form', novalidate: true },
      h('div', { class: 'section-head' }, h('h2', { text: s.kind === 'global' ? 'Global policy' : s.kind === 'company' ? `Company policy · ${s.label}` : `Project policy · ${s.label}` }),
        h('span', { class: 'hint', text: own.updated_at ? `saved ${new Date(own.updated_at).toLocaleString()} by ${own.updated_by || '—'}` : 'no override: every value is inherited' })),
      table,
      h('div', { class: 'subhead', text: 'Escalation contacts after a breach' }),
      h('p', { class: 'muted small', text: `Up to three people, each engaged a number of days after the breach; none here inherits. Now in effect: ${effText}.` }),
      h('div', { class: 'contacts', id: 'policy-contacts' }, contactRows),
      h('div', { class: 'config-foot' }, save, revert, recalc, msg),
      confirmEl,
      writable ? null : h('p', { class: 'muted', text: s.kind === 'global' ? 'Only platform admins change the global policy.' : 'Your role may read but not change this policy.' }));

    form.addEventListener('input', (ev) => {
      if (ev.target.name) ev.target.removeAttribute('aria-invalid');
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = {};
      for (const [k, el] of Object.entries(inputs)) {
        el.removeAttribute('aria-invalid');
        const raw = el.value.trim();
        body[k] = raw === '' ? null : Number(raw);
      }
      const cs = contactRows.map((r) => r.read()).filter(Boolean);
      body.escalation_contacts = cs.length ? cs : null;
      for (const c of EXTRA_COLUMNS) if (c.read) body[c.key] = c.read(form);
      save.disabled = true;
      try {
        const resp = await api.put(path(s), body);
        const n = resp.headers.get('X-Recalculated-Count');
        const fresh = await resp.json();
        if (!alive || current !== s) return;
        render(s, fresh, company, global);
        showResult(document.getElementById('policy-msg'), true, s.kind === 'global'
          ? 'Saved · companies follow through their own recalculation'
          : `Saved · ${n} open finding${n === '1' ? '' : 's'} recalculated`);
      } catch (e) {
        save.disabled = false;
        const el = e.field && form.querySelector(`[name="${e.field}"]`);
        if (el) {
          el.setAttribute('aria-invalid', 'true');
          el.focus();
        }
        showResult(msg, false, `Not saved: ${errorText(e)}`);
      }
    });
    revert.addEventListener('click', () => {
      replace(confirmEl,
        h('p', { text: `Drop this scope's override? Its findings fall back to ${s.kind === 'project' ? 'the company' : s.kind === 'company' ? 'the global' : 'the built-in'} values, and are recalculated.` }),
        h('button', { class: 'btn btn-danger-solid', type: 'button', id: 'policy-delete-confirm', onclick: doRevert }, 'Revert to inherited'),
        h('button', { class: 'btn btn-ghost', type: 'button', onclick: () => { confirmEl.hidden = true; revert.focus(); } }, 'Cancel'));
      confirmEl.hidden = false;
      confirmEl.querySelector('button').focus();
    });
    async function doRevert() {
      try {
        const resp = await api.request('DELETE', path(s), { raw: true });
        const n = resp.headers.get('X-Recalculated-Count');
        const fresh = await api.get(path(s));
        if (!alive || current !== s) return;
        render(s, fresh, company, global);
        showResult(document.getElementById('policy-msg'), true, `Reverted to inherited${s.kind === 'global' ? '' : ` · ${n} open finding${n === '1' ? '' : 's'} recalculated`}`);
      } catch (e) {
        confirmEl.hidden = true;
        showResult(msg, false, `Not reverted: ${errorText(e)}`);
      }
    }
    if (recalc) {
      recalc.addEventListener('click', async () => {
        recalc.disabled = true;
        try {
          const out = await api.post(`${path(s)}/recalculate`, undefined);
          showResult(msg, true, `${out.updated_count} open finding${out.updated_count === 1 ? '' : 's'} recalculated`);
        } catch (e) {
          showResult(msg, false, `Not recalculated: ${errorText(e)}`);
        } finally {
          recalc.disabled = !writable;
        }
      });
    }
    replace(editorEl, form);
  }

  loadScopes();
  return () => { alive = false; };
}
