// settings.js: escalation chains (per severity, edited in place), the
// escalation audit trail, notification channels and their history, and the
// SLA templates (apply one to the tenant), and the business-hours
// calendars (calendars.js).
import * as api from './api.js';
import { mountCalendars } from './calendars.js';
import {
  h, icon, replace, sevChip, fmtDateTime, fmtMin, errorState, loadingState, asList, toast, SEVERITIES,
} from './ui.js';

const LEVELS = ['L1', 'L2', 'L3', 'Manager', 'CISO'];
const METHODS = ['email', 'slack', 'pager', 'phone'];
const CHANNELS = ['websocket', 'email', 'slack', 'webhook'];

export function mount(root, ctx) {
  const t = ctx.tenant;
  const te = api.enc(t);
  let alive = true;
  const canConfigure = ctx.canConfigure();

  const escEl = h('div', { id: 'escalations', class: 'panel panel-pad' });
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
    h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', { text: 'Business-hours calendars' }), h('span', { class: 'hint', text: 'clocks on a calendar count business time only' })), calendarsEl));

  // ---- templates -------------------------------------------------------------------------
  async function loadTemplates() {
    replace(templatesEl, loadingState());
    try {
      const [tpl, tenant] = await Promise.all([api.get('/api/v1/sla/templates'), api.get(`/api/v1/tenants/${te}`)]);
      if (!alive) return;
      const current = tenant.template;
      replace(templatesEl, h('div', { class: 'template-cards' }, asList(tpl).map((x) => {
        const s = x.severities || {};
        const btn = h('button', { class: 'btn btn-sm', type: 'button', disabled: !canConfigure || x.name === current }, x.name === current ? 'Current' : 'Apply');
        btn.addEventListener('click', async () => {
          if (!window.confirm(`Apply the ${x.name} template to ${t}? Open alerts are recalculated against its targets.`)) return;
          btn.disabled = true;
          try {
            await api.post(`/api/v1/sla/configs/${te}/apply-template`, { template_name: x.name });
            toast('Template applied', `${t} is now on ${x.name}`);
            const info = ctx.tenants.find((k) => k.id === t);
            if (info) info.template = x.name;
            loadTemplates();
          } catch (e) {
            toast('Not applied', e.message, 'red');
            btn.disabled = false;
          }
        });
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

  // ---- escalation chains -----------------------------------------------------------------
  let chains = {};
  function chainView(sev) {
    const steps = chains[sev] || [];
    const edit = h('button', { class: 'btn btn-sm', type: 'button', disabled: !canConfigure }, steps.length ? 'Edit' : 'Define');
    const box = h('div', { class: 'chain-block', dataset: { severity: sev } },
      h('div', { class: 'section-head' }, sevChip(sev), h('div', { class: 'right' }, edit)),
      steps.length
        ? h('div', { class: 'chain' }, steps.map((s, i) => [i ? h('span', { class: 'arrow', text: '→' }) : null,
          h('span', { class: 'step' }, h('b', { text: s.level }), ` ${s.role} · ${s.timeout_minutes}m · ${s.notification_method}`)]))
        : h('p', { class: 'muted', text: 'No chain: alerts of this severity are not escalated.' }));
    edit.addEventListener('click', () => box.replaceWith(chainEditor(sev)));
    return box;
  }

  function stepRow(s = {}) {
    const lvl = h('select', { 'aria-label': 'Level' }, LEVELS.map((l) => h('option', { value: l, text: l })));
    lvl.value = s.level || 'L1';
    const role = h('input', { type: 'text', value: s.role || '', placeholder: 'Role or person', 'aria-label': 'Role' });
    const to = h('input', { type: 'number', min: 1, max: 1440, value: s.timeout_minutes || 30, 'aria-label': 'Timeout (minutes)' });
    const m = h('select', { 'aria-label': 'Method' }, METHODS.map((x) => h('option', { value: x, text: x })));
    m.value = s.notification_method || 'email';
    const del = h('button', { class: 'btn btn-ghost btn-icon btn-danger', type: 'button', title: 'Remove step', 'aria-label': 'Remove step' }, icon('trash'));
    const row = h('div', { class: 'step-row' }, lvl, role, to, m, del);
    del.addEventListener('click', () => row.remove());
    row.read = () => ({ level: lvl.value, role: role.value.trim(), timeout_minutes: Number(to.value), notification_method: m.value });
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
      h('div', { class: 'step-row muted' }, 'Level', 'Role', 'Timeout (min)', 'Method', ''),
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
      const r = await api.get(`/api/v1/sla/escalations/${te}`);
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
          h('td', null, sevChip(e.severity)), h('td', null, h('b', { text: e.level }), ` ${e.role || ''}`),
          h('td', { text: e.notification_method || '—' }), h('td', { class: 'muted', text: e.trigger || '' })))
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
    const area = (name, ph) => h('div', { class: 'field' }, h('label', { text: `${name} recipients (one per line)` }),
      h('textarea', { name, placeholder: ph, disabled: !canConfigure, text: (rec[name] || []).join('\n') }));
    const thr = h('input', { type: 'text', name: 'thresholds', value: (cfg.thresholds || [80]).join(', '), disabled: !canConfigure });
    const secret = h('input', { type: 'password', name: 'webhook_secret', autocomplete: 'new-password', placeholder: cfg.webhook_secret_set ? 'set (leave empty to keep)' : 'not set', disabled: !canConfigure });
    const msg = h('span', { class: 'save-msg', id: 'notify-msg' });
    const save = h('button', { class: 'btn btn-primary', type: 'submit', disabled: !canConfigure }, 'Save notifications');
    const test = h('button', { class: 'btn', type: 'button', disabled: !canConfigure || !cfg.configured }, icon('send'), 'Send test');
    const form = h('form', { id: 'notify-form', novalidate: true },
      h('div', { class: 'field' }, h('span', { class: 'muted', text: 'Channels' }), h('div', { class: 'checks' }, boxes)),
      area('email', 'soc@example.com'), area('slack', 'https://hooks.slack.com/services/…'), area('webhook', 'https://example.com/slawatch'),
      h('div', { class: 'grid-2' },
        h('div', { class: 'field' }, h('label', { text: 'Warning thresholds (% of the window)' }), thr),
        h('div', { class: 'field' }, h('label', { text: 'Webhook signing secret' }), secret)),
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

  loadTemplates();
  loadEscalations();
  loadEscEvents();
  loadNotify();
  loadHistory();
  const stopCalendars = mountCalendars(calendarsEl, ctx);
  return () => { alive = false; stopCalendars(); };
}
