// settings.js: escalation chains (per severity, edited in place; a step may
// name a person of the tenant, picked with their contact points in view),
// the escalation audit trail, notification channels and their history, the
// SLA templates (apply one to the tenant), and the signed-in user's own
// contact points (where escalations naming them reach them), and the
// business-hours calendars (calendars.js).
//
// Applying a template replaces the tenant's own edits of the SLA
// definition (the API's apply-template semantics).  Before it does, the
// page lists those edits and asks: keep them on top of the new tier
// (keep_overrides) or let the tier's values replace them; a tenant with no
// edits is asked once, plainly.
import * as api from './api.js';
import { mountCalendars } from './calendars.js';
import {
  h, icon, replace, sevChip, fmtDateTime, fmtMin, errorState, loadingState, asList, toast, showResult,
  errorText, SEVERITIES,
} from './ui.js';

// The SLA definition's fields as people read them.
const DEF_LABELS = {
  critical_mtta_minutes: ['critical MTTA', 'min'], critical_mttr_hours: ['critical MTTR', 'h'],
  high_mtta_minutes: ['high MTTA', 'min'], high_mttr_hours: ['high MTTR', 'h'],
  medium_mtta_hours: ['medium MTTA', 'h'], medium_mttr_hours: ['medium MTTR', 'h'],
  low_mtta_hours: ['low MTTA', 'h'], low_mttr_hours: ['low MTTR', 'h'],
  notification_threshold_pct: ['warning threshold', '%'],
};

const LEVELS = ['L1', 'L2', 'L3', 'Manager', 'CISO'];
const METHODS = ['email', 'slack', 'pager', 'phone'];
const CHANNELS = ['websocket', 'email', 'slack', 'webhook'];

export function mount(root, ctx) {
  const t = ctx.tenant;
  const te = api.enc(t);
  let alive = true;
  const canConfigure = ctx.canConfigure();

  const escEl = h('div', { id: 'escalations', class: 'panel panel-pad' });
  const meEl = h('div', { id: 'my-contact', class: 'panel panel-pad' });
  const me = ctx.session && ctx.session.user_id;
  const escEventsEl = h('div', { id: 'escalation-events', class: 'panel' });
  const notifyEl = h('div', { id: 'notifications', class: 'panel panel-pad' });
  const historyEl = h('div', { id: 'notification-history', class: 'panel' });
  const templatesEl = h('div', { id: 'templates', class: 'panel panel-pad' });
  const calendarsEl = h('div', { id: 'calendars', class: 'panel panel-pad' });

  replace(root,
    h('div', { class: 'page-header' },
      h('div', { class: 'page-icon' }, icon('bell')),
      h('div', null, h('h1', { text: 'Settings' }), h('div', { class: 'subtitle', text: `${ctx.tenantInfo().name || t} · escalation, notifications and SLA template` }))),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'SLA template' }), h('span', { class: 'hint', text: 'the tier this tenant bought; its targets feed the waterfall' })), templatesEl),
    h('div', { class: 'settings-grid' },
      h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Escalation chains' }), h('span', { class: 'hint', text: 'each step fires when the previous one timed out unacknowledged' })), escEl),
      h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Notifications' })), notifyEl)),
    h('div', { class: 'settings-grid' },
      h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Recent escalations' })), escEventsEl),
      h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Notification history' })), historyEl)),
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Business-hours calendars' }), h('span', { class: 'hint', text: 'clocks on a calendar count business time only' })), calendarsEl),
    me ? h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'My contact points' }), h('span', { class: 'hint', text: 'where escalations that name you reach you' })), meEl) : null);

  // ---- templates -------------------------------------------------------------------------
  async function loadTemplates() {
    replace(templatesEl, loadingState());
    try {
      const [tpl, tenant] = await Promise.all([api.get('/api/v1/sla/templates'), api.get(`/api/v1/tenants/${te}`)]);
      if (!alive) return;
      const current = tenant.template;
      replace(templatesEl, h('div', { class: 'confirm', id: 'template-confirm', hidden: true }), h('div', { class: 'template-cards' }, asList(tpl).map((x) => {
        const s = x.severities || {};
        const btn = h('button', { class: 'btn btn-sm', type: 'button', dataset: { template: x.name }, disabled: !canConfigure || x.name === current }, x.name === current ? 'Current' : 'Apply');
        btn.addEventListener('click', () => confirmApply(x.name, btn));
        return h('div', { class: `template-card ${x.name === current ? 'current' : ''}` },
          h('div', { class: 'name', text: x.name }),
          h('div', { class: 'line', text: x.notes || '' }),
          h('div', { class: 'line', text: `critical: ack ${fmtMin(s.critical?.mtta_minutes)}, resolve ${fmtMin(s.critical?.mttr_minutes)}` }),
          h('div', { class: 'line', text: `penalty $${x.penalty_per_hour ?? '—'}/h (critical)` }),
          x.flags && x.flags.fedramp ? h('div', { class: 'line' }, h('span', { class: 'pill pill-blue', text: 'FedRAMP · sovereignty · audit' })) : null,
          btn);
      })));
    } catch (e) {
      if (alive) replace(templatesEl, errorState('Templates unavailable', e, loadTemplates));
    }
  }

  // Asks before a template replaces the tenant's edits (see the top).
  async function confirmApply(name, btn) {
    const box = document.getElementById('template-confirm');
    btn.disabled = true;
    let edits = [];
    try {
      const d = await api.get('/api/v1/sla/definition', { tenant_id: t });
      edits = Object.entries(d.sources || {}).filter(([, src]) => src === 'tenant').map(([k]) => [k, d[k]]);
    } catch (e) {
      /* unknown: asked as if there were none, the answer lists what went */
    }
    if (!alive) return;
    btn.disabled = false;
    const msg = h('div', { class: 'save-msg', id: 'template-msg', 'aria-live': 'polite' });
    const apply = async (keep) => {
      for (const b of box.querySelectorAll('button')) b.disabled = true;
      try {
        const out = await api.post(`/api/v1/sla/configs/${te}/apply-template`, { template_name: name, keep_overrides: keep });
        const info = ctx.tenants.find((k) => k.id === t);
        if (info) info.template = name;
        const kept = Object.keys(out.kept_overrides || {}).length, gone = Object.keys(out.replaced_overrides || {}).length;
        toast('Template applied', `${t} is now on ${name}${kept ? `, ${kept} edit${kept === 1 ? '' : 's'} kept` : ''}${gone ? `, ${gone} edit${gone === 1 ? '' : 's'} replaced` : ''} · ${out.recalculated_count} open alert${out.recalculated_count === 1 ? '' : 's'} recalculated`);
        await loadTemplates();
        const m = document.getElementById('template-confirm');
        if (m) {
          m.hidden = false;
          replace(m, h('div', { class: 'save-msg ok', id: 'template-msg', role: 'status' }, icon('check'),
            h('span', { text: `Applied ${name}${kept ? ` · kept: ${Object.keys(out.kept_overrides).map((k) => (DEF_LABELS[k] || [k])[0]).join(', ')}` : ''}${gone ? ` · replaced: ${Object.keys(out.replaced_overrides).map((k) => (DEF_LABELS[k] || [k])[0]).join(', ')}` : ''}` })));
        }
      } catch (e) {
        for (const b of box.querySelectorAll('button')) b.disabled = false;
        showResult(msg, false, `Not applied: ${errorText(e)}`);
      }
    };
    const cancel = h('button', { class: 'btn btn-ghost', type: 'button', onclick: () => { box.hidden = true; btn.focus(); } }, 'Cancel');
    if (edits.length) {
      replace(box,
        h('p', null, h('b', { text: `Apply ${name}? ` }), `This tenant has ${edits.length} edit${edits.length === 1 ? '' : 's'} of its own that the template would replace:`),
        h('ul', { class: 'edit-list' }, edits.map(([k, v]) => h('li', { text: `${(DEF_LABELS[k] || [k])[0]}: ${v} ${(DEF_LABELS[k] || ['', ''])[1]}` }))),
        h('div', { class: 'config-foot' },
          h('button', { class: 'btn btn-primary', type: 'button', id: 'template-keep', onclick: () => apply(true) }, `Apply, keep my edit${edits.length === 1 ? '' : 's'}`),
          h('button', { class: 'btn', type: 'button', id: 'template-replace', onclick: () => apply(false) }, `Apply, replace ${edits.length === 1 ? 'it' : 'them'}`),
          cancel, msg));
    } else {
      replace(box,
        h('p', null, h('b', { text: `Apply ${name}? ` }), 'Open alerts are recalculated against its targets.'),
        h('div', { class: 'config-foot' },
          h('button', { class: 'btn btn-primary', type: 'button', id: 'template-apply', onclick: () => apply(false) }, `Apply ${name}`),
          cancel, msg));
    }
    box.hidden = false;
    box.querySelector('button').focus();
  }

  // ---- escalation chains -----------------------------------------------------------------
  let chains = {};
  function chainView(sev) {
    const steps = chains[sev] || [];
    const edit = h('button', { class: 'btn btn-sm', type: 'button', disabled: !canConfigure }, steps.length ? 'Edit' : 'Define');
    const box = h('div', { class: 'chain-block', dataset: { severity: sev } },
      h('div', { class: 'section-head' }, sevChip(sev), h('div', { class: 'right' }, edit)),
      steps.length
        ? h('div', { class: 'chain' }, steps.map((s, i) => [i ? h('span', { class: 'arrow', text: '→' }) : null,
          h('span', { class: 'step' }, h('b', { text: s.level }), ` ${s.role}${s.user ? ` → ${s.user}` : ''} · ${s.timeout_minutes}m · ${s.notification_method}`)]))
        : h('p', { class: 'muted', text: 'No chain: alerts of this severity are not escalated.' }));
    edit.addEventListener('click', () => box.replaceWith(chainEditor(sev)));
    return box;
  }

  // The tenant's people (GET /tenants/{id}/people), for the person picker.
  let people = [];
  async function loadPeople() {
    if (!canConfigure) return;
    try {
      people = asList(await api.get(`/api/v1/tenants/${te}/people`));
    } catch (e) {
      people = [];
    }
  }

  // What reaches a person by a method: their contact point, or email instead.
  function reach(p, method) {
    const c = (p && p.contact) || {};
    const pts = [`email ${c.effective_email || p.email}`];
    if (c.slack_user_id) pts.push(`Slack ${c.slack_user_id}`);
    if (c.phone) pts.push(`phone ${c.phone}`);
    if (c.pagerduty_routing_key_set) pts.push('PagerDuty key');
    const missing = { slack: !c.slack_user_id && 'no Slack member id', phone: !c.phone && 'no phone', pager: false }[method];
    return { text: pts.join(' · '), warn: missing ? `${missing}: told by email instead` : '' };
  }

  function stepRow(s = {}) {
    const lvl = h('select', { 'aria-label': 'Level' }, LEVELS.map((l) => h('option', { value: l, text: l })));
    lvl.value = s.level || 'L1';
    const role = h('input', { type: 'text', value: s.role || '', placeholder: 'Role or team', 'aria-label': 'Role' });
    const who = h('select', { 'aria-label': 'Person', name: 'person' },
      h('option', { value: '', text: '— tenant channels —' }),
      people.map((p) => h('option', { value: p.id, text: `${p.id} (${(p.contact && p.contact.effective_email) || p.email})` })));
    if (s.user && !people.some((p) => p.id === s.user)) who.appendChild(h('option', { value: s.user, text: s.user }));
    who.value = s.user || '';
    const to = h('input', { type: 'number', min: 1, max: 1440, value: s.timeout_minutes || 30, 'aria-label': 'Timeout (minutes)' });
    const m = h('select', { 'aria-label': 'Method' }, METHODS.map((x) => h('option', { value: x, text: x })));
    m.value = s.notification_method || 'email';
    const del = h('button', { class: 'btn btn-ghost btn-icon btn-danger', type: 'button', title: 'Remove step', 'aria-label': 'Remove step' }, icon('trash'));
    const info = h('div', { class: 'step-person muted', 'data-person-info': '' });
    const showInfo = () => {
      const p = people.find((x) => x.id === who.value);
      if (!p) {
        replace(info, who.value ? `${who.value}` : 'the tenant\'s channels (notification settings)');
        return;
      }
      const r = reach(p, m.value);
      replace(info, h('span', { text: r.text }), r.warn ? h('span', { class: 'warn', text: ` · ${r.warn}` }) : null);
    };
    who.addEventListener('change', showInfo);
    m.addEventListener('change', showInfo);
    showInfo();
    const row = h('div', { class: 'step-row' }, lvl, role, who, to, m, del, info);
    del.addEventListener('click', () => row.remove());
    row.read = () => {
      const out = { level: lvl.value, role: role.value.trim(), timeout_minutes: Number(to.value), notification_method: m.value };
      if (who.value) out.user = who.value;
      return out;
    };
    return row;
  }

  function chainEditor(sev) {
    const rows = h('div', { class: 'steps-edit' }, (chains[sev] || [{}]).map(stepRow));
    const msg = h('span', { class: 'save-msg' });
    const add = h('button', { class: 'btn btn-sm', type: 'button' }, icon('plus'), 'Add step');
    const save = h('button', { class: 'btn btn-primary btn-sm', type: 'button' }, 'Save chain');
    const cancel = h('button', { class: 'btn btn-ghost btn-sm', type: 'button' }, 'Cancel');
    const box = h('div', { class: 'chain-block', dataset: { severity: sev } },
      h('div', { class: 'section-head' }, sevChip(sev)),
      h('div', { class: 'step-row step-head muted' }, ['Level', 'Role', 'Person', 'Timeout (min)', 'Method', ''].map((x) => h('span', { text: x }))),
      rows, h('div', { class: 'config-foot' }, add, save, cancel, msg));
    add.addEventListener('click', () => rows.appendChild(stepRow({ level: LEVELS[Math.min(rows.children.length, 4)] })));
    cancel.addEventListener('click', () => box.replaceWith(chainView(sev)));
    save.addEventListener('click', async () => {
      const chain = [...rows.children].map((r) => r.read());
      save.disabled = true;
      try {
        await api.post(`/api/v1/sla/escalations/${te}`, { severity: sev, chain });
        chains[sev] = chain;
        box.replaceWith(chainView(sev));
        toast('Escalation chain saved', `${sev}: ${chain.length} step${chain.length === 1 ? '' : 's'}`);
      } catch (e) {
        save.disabled = false;
        replace(msg, icon('xcircle'), `Not saved: ${e.message}`);
        msg.className = 'save-msg err';
      }
    });
    return box;
  }

  async function loadEscalations() {
    replace(escEl, loadingState());
    try {
      const [r] = await Promise.all([api.get(`/api/v1/sla/escalations/${te}`), loadPeople()]);
      if (!alive) return;
      chains = {};
      for (const c of asList(r.chains || r)) chains[c.severity] = c.chain || c.steps || [];
      replace(escEl, SEVERITIES.map(chainView));
    } catch (e) {
      if (alive) replace(escEl, errorState('Escalation chains unavailable', e, loadEscalations));
    }
  }

  async function loadEscEvents() {
    replace(escEventsEl, loadingState());
    try {
      const items = asList(await api.get(`/api/v1/sla/escalation-events/${te}`, { limit: 15 }));
      if (!alive) return;
      replace(escEventsEl, h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
        h('thead', null, h('tr', null, ['When', 'Alert', 'Severity', 'Step', 'Via', 'Trigger'].map((x) => h('th', { text: x })))),
        h('tbody', null, items.length ? items.map((e) => h('tr', null,
          h('td', { class: 'nowrap', text: fmtDateTime(e.at) }), h('td', { class: 'mono', text: e.alert_id }),
          h('td', null, sevChip(e.severity)), h('td', null, h('b', { text: e.level }), ` ${e.role || ''}${e.user ? ` → ${e.user}` : ''}`),
          h('td', { text: e.via || e.notification_method || '—' }), h('td', { class: 'muted', text: e.trigger || '' })))
          : h('tr', { class: 'empty-row' }, h('td', { colspan: 6, text: 'No escalations yet.' }))))));
    } catch (e) {
      if (alive) replace(escEventsEl, h('div', { class: 'panel-pad' }, errorState('Escalation history unavailable', e, loadEscEvents)));
    }
  }

  // ---- notifications ---------------------------------------------------------------------
  async function loadNotify() {
    replace(notifyEl, loadingState());
    let cfg;
    try {
      cfg = await api.get(`/api/v1/sla/notifications/${te}/config`);
    } catch (e) {
      if (alive) replace(notifyEl, errorState('Notification settings unavailable', e, loadNotify));
      return;
    }
    if (!alive) return;
    const rec = cfg.recipients || {};
    const boxes = CHANNELS.map((c) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'channel', value: c, checked: (cfg.channels || []).includes(c), disabled: !canConfigure }), c));
    const area = (name, ph) => h('div', { class: 'field' }, h('label', { for: `n-${name}`, text: `${name} recipients (one per line)` }),
      h('textarea', { id: `n-${name}`, name, placeholder: ph, disabled: !canConfigure, text: (rec[name] || []).join('\n') }));
    const thr = h('input', { type: 'text', id: 'n-thresholds', name: 'thresholds', value: (cfg.thresholds || [80]).join(', '), disabled: !canConfigure });
    const secret = h('input', { type: 'password', id: 'n-secret', name: 'webhook_secret', autocomplete: 'new-password', placeholder: cfg.webhook_secret_set ? 'set (leave empty to keep)' : 'not set', disabled: !canConfigure });
    const msg = h('span', { class: 'save-msg', id: 'notify-msg' });
    const save = h('button', { class: 'btn btn-primary', type: 'submit', disabled: !canConfigure }, 'Save notifications');
    const test = h('button', { class: 'btn', type: 'button', disabled: !canConfigure || !cfg.configured }, icon('send'), 'Send test');
    const form = h('form', { id: 'notify-form', novalidate: true },
      h('div', { class: 'field' }, h('span', { class: 'muted', text: 'Channels' }), h('div', { class: 'checks' }, boxes)),
      area('email', 'soc@example.com'), area('slack', 'https://hooks.slack.com/services/…'),
      h('p', { class: 'muted small', text: 'Slack URLs are secrets and show masked: leave a masked line as it is to keep that URL.' }),
      area('webhook', 'https://example.com/slawatch'),
      h('div', { class: 'grid-2' },
        h('div', { class: 'field' }, h('label', { for: 'n-thresholds', text: 'Warning thresholds (% of the window)' }), thr),
        h('div', { class: 'field' }, h('label', { for: 'n-secret', text: 'Webhook signing secret' }), secret)),
      h('div', { class: 'config-foot' }, save, test, msg));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const lines = (n) => form.querySelector(`[name="${n}"]`).value.split('\n').map((s) => s.trim()).filter(Boolean);
      const body = {
        channels: [...form.querySelectorAll('input[name="channel"]:checked')].map((c) => c.value),
        recipients: { email: lines('email'), slack: lines('slack'), webhook: lines('webhook') },
        thresholds: thr.value.split(/[,\s]+/).filter(Boolean).map(Number),
      };
      if (secret.value) body.webhook_secret = secret.value;
      save.disabled = true;
      try {
        await api.post(`/api/v1/sla/notifications/${te}/configure`, body);
        replace(msg, icon('check'), 'Saved');
        msg.className = 'save-msg ok';
        secret.value = '';
        test.disabled = false;
      } catch (e) {
        replace(msg, icon('xcircle'), `Not saved: ${e.field ? `${e.field}: ` : ''}${e.message}`);
        msg.className = 'save-msg err';
      } finally {
        save.disabled = false;
      }
    });
    test.addEventListener('click', async () => {
      try {
        const r = await api.post(`/api/v1/sla/notifications/${te}/test`, {});
        toast('Test notice queued', `${r.enqueued} deliver${r.enqueued === 1 ? 'y' : 'ies'}`);
        setTimeout(loadHistory, 1500);
      } catch (e) {
        toast('Test failed', e.message, 'red');
      }
    });
    replace(notifyEl, form);
  }

  async function loadHistory() {
    replace(historyEl, loadingState());
    try {
      const items = asList(await api.get(`/api/v1/sla/notifications/${te}`, { limit: 15 }));
      if (!alive) return;
      const pill = (s) => h('span', { class: `pill ${s === 'delivered' ? 'pill-green' : s === 'dead' ? 'pill-red' : 'pill-yellow'}`, text: s || '—' });
      replace(historyEl, h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
        h('thead', null, h('tr', null, ['Created', 'Type', 'Item', 'Channel', 'State'].map((x) => h('th', { text: x })))),
        h('tbody', null, items.length ? items.map((n) => h('tr', null,
          h('td', { class: 'nowrap', text: fmtDateTime(n.created_at) }), h('td', { text: n.type }),
          h('td', { class: 'mono', text: n.item_id || '—' }), h('td', { text: n.channel }),
          h('td', { title: n.last_error || '' }, pill(n.state), h('span', { class: 'muted', text: n.attempt_count > 1 ? ` ×${n.attempt_count}` : '' }))))
          : h('tr', { class: 'empty-row' }, h('td', { colspan: 5, text: 'No notifications yet.' }))))));
    } catch (e) {
      if (alive) replace(historyEl, h('div', { class: 'panel-pad' }, errorState('Notification history unavailable', e, loadHistory)));
    }
  }

  // ---- my contact points -----------------------------------------------------------------
  async function loadMe() {
    if (!me) return;
    replace(meEl, loadingState());
    let c;
    try {
      c = await api.get(`/api/v1/users/${api.enc(me)}/contact`);
    } catch (e) {
      if (alive) replace(meEl, errorState('Contact points unavailable', e, loadMe));
      return;
    }
    if (!alive) return;
    const input = (name, label, value, extra) => h('div', { class: 'field' }, h('label', { for: `me-${name}`, text: label }),
      h('input', { id: `me-${name}`, name, type: 'text', value: value || '', ...extra }),
      h('div', { class: 'field-error', 'data-field-error': name, hidden: true }));
    const msg = h('span', { class: 'save-msg', id: 'my-contact-msg' });
    const form = h('form', { id: 'my-contact-form', novalidate: true },
      h('div', { class: 'grid-2' },
        input('email', `Email (empty: ${c.effective_email})`, c.email, { type: 'email', placeholder: c.effective_email, autocomplete: 'email' }),
        input('slack_user_id', 'Slack member id', c.slack_user_id, { placeholder: 'U0123ABCD' }),
        input('phone', 'Phone (E.164)', c.phone, { type: 'tel', placeholder: '+14155550123', autocomplete: 'tel' }),
        input('pagerduty_routing_key', 'PagerDuty routing key', '', { type: 'password', autocomplete: 'off', placeholder: c.pagerduty_routing_key_set ? `set (${c.pagerduty_routing_key}); empty keeps it` : 'not set' })),
      h('div', { class: 'config-foot' }, h('button', { class: 'btn btn-primary', type: 'submit', id: 'my-contact-save' }, 'Save my contact points'), msg));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      for (const e of form.querySelectorAll('[data-field-error]')) e.hidden = true;
      const val = (n) => form.querySelector(`[name="${n}"]`).value.trim();
      const body = { email: val('email') || null, slack_user_id: val('slack_user_id') || null, phone: val('phone') || null };
      if (val('pagerduty_routing_key')) body.pagerduty_routing_key = val('pagerduty_routing_key');
      try {
        await api.request('PUT', `/api/v1/users/${api.enc(me)}/contact`, { body });
        replace(msg, icon('check'), 'Saved');
        msg.className = 'save-msg ok';
        form.querySelector('[name="pagerduty_routing_key"]').value = '';
      } catch (e) {
        const fe = e.field && form.querySelector(`[data-field-error="${e.field}"]`);
        if (fe) {
          fe.hidden = false;
          fe.textContent = e.message;
        }
        replace(msg, icon('xcircle'), `Not saved: ${e.field ? `${e.field}: ` : ''}${e.message}`);
        msg.className = 'save-msg err';
      }
    });
    replace(meEl, form);
  }

  loadTemplates();
  loadMe();
  loadEscalations();
  loadEscEvents();
  loadNotify();
  loadHistory();
  const stopCalendars = mountCalendars(calendarsEl, ctx);
  return () => { alive = false; stopCalendars(); };
}
