// calendars.js: the tenant's business-hours calendars in Settings: a list,
// and an editor with the weekly grid (one line of intervals per day, as
// "09:00-12:00, 13:00-18:00"), the holidays (YYYY-MM-DD once, MM-DD every
// year) and the time zone.  The server validates: a 422 names the field
// ("hours.tue[1]", "holidays[2]", "timezone") and the editor marks it.
import * as api from './api.js';
import { h, icon, replace, fmtDateTime, errorState, loadingState, asList, toast } from './ui.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_NAMES = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

// "09:00-12:00, 13:00-18:00" <-> [["09:00","12:00"],["13:00","18:00"]]
function daysText(list) {
  return asList(list).map((iv) => `${iv[0]}-${iv[1]}`).join(', ');
}

function parseDay(text) {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = s.split('-').map((x) => x.trim());
    return m.length === 2 ? m : [s, ''];
  });
}

export function mountCalendars(el, ctx) {
  const te = api.enc(ctx.tenant);
  const canConfigure = ctx.canConfigure();
  let alive = true;

  function listView(items) {
    const add = h('button', { class: 'btn btn-sm', type: 'button', id: 'calendar-new', disabled: !canConfigure }, icon('plus'), 'New calendar');
    add.addEventListener('click', () => replace(el, editor(null)));
    const rows = items.map((c) => {
      const edit = h('button', { class: 'btn btn-sm', type: 'button', disabled: !canConfigure }, 'Edit');
      const del = h('button', { class: 'btn btn-ghost btn-icon btn-danger', type: 'button', title: 'Delete calendar', 'aria-label': `Delete ${c.id}`, disabled: !canConfigure }, icon('trash'));
      edit.addEventListener('click', () => replace(el, editor(c)));
      del.addEventListener('click', async () => {
        if (!window.confirm(`Delete the calendar ${c.id}?`)) return;
        try {
          await api.request('DELETE', `/api/v1/tenants/${te}/calendars/${api.enc(c.id)}`);
          toast('Calendar deleted', c.id);
          load();
        } catch (e) {
          toast('Not deleted', e.status === 409 ? 'an SLA definition or finding policy still names it' : e.message, 'red');
        }
      });
      return h('div', { class: 'chain-block', dataset: { calendar: c.id } },
        h('div', { class: 'section-head' }, h('b', { text: c.name || c.id }),
          h('span', { class: 'muted', text: ` ${c.id} · ${c.timezone} · ${c.hours_per_week} h/week` }),
          h('div', { class: 'right' }, edit, del)),
        h('div', { class: 'muted', text: DAYS.filter((d) => asList(c.hours[d]).length).map((d) => `${d} ${daysText(c.hours[d])}`).join(' · ') }),
        asList(c.holidays).length ? h('div', { class: 'muted', text: `holidays: ${asList(c.holidays).join(', ')}` }) : null,
        h('div', { class: 'muted', text: `updated ${fmtDateTime(c.updated_at)}${c.updated_by ? ` by ${c.updated_by}` : ''}` }));
    });
    return [
      rows.length ? rows : h('p', { class: 'muted', text: 'No calendars: every clock runs around the clock. A calendar counts business hours only; name it in the SLA definition or a finding policy.' }),
      h('div', { class: 'config-foot' }, add),
    ];
  }

  function field(name, label, input) {
    return h('div', { class: 'field' }, h('label', null, h('span', { text: label })), input,
      h('div', { class: 'field-error', dataset: { fieldError: name }, hidden: true }));
  }

  function editor(c) {
    const id = h('input', { type: 'text', name: 'calendar_id', value: c ? c.id : '', disabled: !!c, placeholder: 'office', 'aria-label': 'Calendar id' });
    const name = h('input', { type: 'text', name: 'name', value: c ? c.name : '', placeholder: 'Office hours', 'aria-label': 'Name' });
    const zone = h('input', { type: 'text', name: 'timezone', value: c ? c.timezone : (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'), placeholder: 'Europe/Berlin', 'aria-label': 'Time zone' });
    const days = {};
    for (const d of DAYS) {
      const def = c ? daysText(c.hours[d]) : (['sat', 'sun'].includes(d) ? '' : '09:00-17:00');
      days[d] = h('input', { type: 'text', name: `hours.${d}`, value: def, placeholder: 'closed', 'aria-label': `${DAY_NAMES[d]} hours` });
    }
    const hol = h('textarea', { name: 'holidays', rows: 3, placeholder: '12-25, 2026-12-28', 'aria-label': 'Holidays' });
    hol.value = c ? asList(c.holidays).join(', ') : '';
    const msg = h('span', { class: 'save-msg', role: 'status' });
    const save = h('button', { class: 'btn btn-primary btn-sm', type: 'submit' }, 'Save calendar');
    const cancel = h('button', { class: 'btn btn-ghost btn-sm', type: 'button' }, 'Cancel');
    const form = h('form', { id: 'calendar-form', class: 'chain-block', novalidate: true },
      field('calendar_id', 'Id', id), field('name', 'Name', name), field('timezone', 'Time zone (IANA)', zone),
      h('div', { class: 'subhead', text: 'Weekly hours (wall clock in the zone; empty: closed)' }),
      DAYS.map((d) => field(`hours.${d}`, DAY_NAMES[d], days[d])),
      field('holidays', 'Holidays (YYYY-MM-DD once, MM-DD every year)', hol),
      h('div', { class: 'config-foot' }, save, cancel, msg));
    cancel.addEventListener('click', () => load());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      for (const fe of form.querySelectorAll('[data-field-error]')) fe.hidden = true;
      const cid = id.value.trim();
      if (!cid) {
        mark(form, 'calendar_id', 'an id is required');
        return;
      }
      const hours = {};
      for (const d of DAYS) hours[d] = parseDay(days[d].value);
      const body = {
        name: name.value.trim(), timezone: zone.value.trim(), hours,
        holidays: hol.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean),
      };
      save.disabled = true;
      try {
        const resp = await api.put(`/api/v1/tenants/${te}/calendars/${api.enc(cid)}`, body);
        const n = resp.headers.get('X-Recalculated-Count');
        toast('Calendar saved', `${cid}${n && n !== '0' ? ` · ${n} open item${n === '1' ? '' : 's'} recalculated` : ''}`);
        load();
      } catch (e) {
        save.disabled = false;
        const f = e.field ? e.field.replace(/\[\d+\]$/, '') : null;
        if (f && mark(form, f, e.message)) return;
        replace(msg, icon('xcircle'), `Not saved: ${e.message}`);
        msg.className = 'save-msg err';
      }
    });
    return form;
  }

  function mark(form, name, text) {
    const fe = form.querySelector(`[data-field-error="${name}"]`);
    if (!fe) return false;
    fe.textContent = text;
    fe.hidden = false;
    const input = form.querySelector(`[name="${name}"]`);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
    return true;
  }

  async function load() {
    replace(el, loadingState());
    try {
      const r = await api.get(`/api/v1/tenants/${te}/calendars`);
      if (alive) replace(el, listView(asList(r)));
    } catch (e) {
      if (alive) replace(el, errorState('Calendars unavailable', e, load));
    }
  }

  load();
  return () => { alive = false; };
}
