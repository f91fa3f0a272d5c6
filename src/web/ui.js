// ui.js: DOM building (never innerHTML with data: text goes through
// textContent), icons, formatting, section states, toasts.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else if (k === 'value') el.value = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// ---- icons (24x24 stroke paths, lucide-style) ----------------------------
const ICONS = {
  timer: ['M10 2h4', 'M12 14l3-3', 'M12 22a8 8 0 1 0 0-16 8 8 0 0 0 0 16z'],
  refresh: ['M3 12a9 9 0 0 1 15-6.7L21 8', 'M21 3v5h-5', 'M21 12a9 9 0 0 1-15 6.7L3 16', 'M8 16H3v5'],
  activity: ['M22 12h-4l-3 9L9 3l-3 9H2'],
  xcircle: ['M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z', 'M15 9l-6 6', 'M9 9l6 6'],
  alert: ['M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z', 'M12 9v4', 'M12 17h.01'],
  check: ['M22 11.1V12a10 10 0 1 1-5.9-9.1', 'M22 4L12 14l-3-3'],
  gauge: ['M12 14l4-4', 'M3.3 19a10 10 0 1 1 17.4 0'],
  chevronDown: ['M6 9l6 6 6-6'],
  chevronUp: ['M18 15l-6-6-6 6'],
  sliders: ['M4 21v-7', 'M4 10V3', 'M12 21v-9', 'M12 8V3', 'M20 21v-5', 'M20 12V3', 'M1 14h6', 'M9 8h6', 'M17 16h6'],
  sun: ['M12 17a5 5 0 1 0 0-10 5 5 0 0 0 0 10z', 'M12 1v2', 'M12 21v2', 'M4.2 4.2l1.4 1.4', 'M18.4 18.4l1.4 1.4', 'M1 12h2', 'M21 12h2', 'M4.2 19.8l1.4-1.4', 'M18.4 5.6l1.4-1.4'],
  moon: ['M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z'],
  file: ['M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z', 'M14 2v6h6', 'M16 13H8', 'M16 17H8'],
  download: ['M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4', 'M7 10l5 5 5-5', 'M12 15V3'],
  shield: ['M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z'],
  bell: ['M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9', 'M13.7 21a2 2 0 0 1-3.4 0'],
  bug: ['M8 2l1.9 1.9', 'M16 2l-1.9 1.9', 'M9 7.1V6a3 3 0 1 1 6 0v1.1', 'M12 20c-3.3 0-6-2.7-6-6v-3a4 4 0 0 1 4-4h4a4 4 0 0 1 4 4v3c0 3.3-2.7 6-6 6z', 'M12 20v-9', 'M6.5 13H3', 'M21 13h-3.5', 'M6 17l-3 2', 'M18 17l3 2'],
  plus: ['M12 5v14', 'M5 12h14'],
  trash: ['M3 6h18', 'M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6', 'M10 11v6', 'M14 11v6', 'M9 6V4h6v2'],
  send: ['M22 2L11 13', 'M22 2l-7 20-4-9-9-4 20-7z'],
  list: ['M8 6h13', 'M8 12h13', 'M8 18h13', 'M3 6h.01', 'M3 12h.01', 'M3 18h.01'],
  layers: ['M12 2L2 7l10 5 10-5-10-5z', 'M2 17l10 5 10-5', 'M2 12l10 5 10-5'],
  search: ['M11 19a8 8 0 1 0 0-16 8 8 0 0 0 0 16z', 'M21 21l-4.35-4.35'],
  clock: ['M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z', 'M12 6v6l4 2'],
};

export function icon(name) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '2');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  svg.setAttribute('aria-hidden', 'true');
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(NS, 'path');
    p.setAttribute('d', d);
    svg.appendChild(p);
  }
  return svg;
}

// ---- formatting -------------------------------------------------------------
export const SEVERITIES = ['critical', 'high', 'medium', 'low'];
// Findings have one more, above critical.
export const FINDING_SEVERITIES = ['urgent', 'critical', 'high', 'medium', 'low'];

export function sevChip(sev) {
  return h('span', { class: `sev sev-${sev}` }, h('span', { class: 'sev-dot' }), sev || '—');
}

export function isNum(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

// Minutes as "42s", "12.5m", "3.2h", "2.1d".
export function fmtMin(m) {
  if (!isNum(m)) return '—';
  if (m < 1) return `${Math.round(m * 60)}s`;
  if (m < 60) return `${m < 10 ? m.toFixed(1).replace(/\.0$/, '') : Math.round(m)}m`;
  const hrs = m / 60;
  if (hrs < 48) return `${hrs < 10 ? hrs.toFixed(1).replace(/\.0$/, '') : Math.round(hrs)}h`;
  const d = hrs / 24;
  return `${d < 10 ? d.toFixed(1).replace(/\.0$/, '') : Math.round(d)}d`;
}

// Hours as "36h", "2.5d"; "no data" for null.
export function fmtHours(hs) {
  return isNum(hs) ? fmtMin(hs * 60) : '—';
}

export function fmtPct(p, digits = 1) {
  return isNum(p) ? `${p.toFixed(digits).replace(/\.0$/, '')}%` : '—';
}

export function fmtInt(n) {
  return isNum(n) ? Math.round(n).toLocaleString() : '—';
}

export function fmtMoney(v) {
  return isNum(v) ? v.toLocaleString(undefined, { style: 'currency', currency: 'USD' }) : '—';
}

export function fmtDateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function fmtDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

// "in 3d 4h" / "5h ago" relative to now.
export function fmtRelative(iso, now = Date.now()) {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return String(iso);
  const diffMin = (t - now) / 60000;
  const s = fmtMin(Math.abs(diffMin));
  return diffMin >= 0 ? `in ${s}` : `${s} ago`;
}

// Compliance colour level: good >= 95, warn >= 85, else bad (the seed's).
export function complianceLevel(p) {
  if (!isNum(p)) return 'none';
  if (p >= 95) return 'good';
  if (p >= 85) return 'warn';
  return 'bad';
}

export function humanKey(k) {
  return String(k).replace(/_/g, ' ').replace(/\bpct\b/, '%').replace(/\bmin\b/, '(min)');
}

// ---- section states -------------------------------------------------------------
export function errorState(title, err, onRetry) {
  const msg = err && err.message ? err.message : String(err || 'unknown error');
  return h('div', { class: 'error-state', role: 'alert', 'data-error': 'true' },
    icon('xcircle'),
    h('div', { class: 'msg' }, h('b', { text: title }), h('span', { text: msg })),
    onRetry ? h('button', { class: 'btn btn-sm', type: 'button', onclick: onRetry }, 'Retry') : null);
}

export function loadingState(text = 'Loading…') {
  return h('div', { class: 'loading-state' }, h('span', { class: 'spinner' }), text);
}

// A save or action outcome next to its button: the server's own words on
// failure (the field named when it names one).
export function showResult(el, ok, text) {
  replace(el, icon(ok ? 'check' : 'xcircle'), h('span', { text }));
  el.classList.remove('ok', 'err');
  el.classList.add('save-msg', ok ? 'ok' : 'err');
  el.setAttribute('role', ok ? 'status' : 'alert');
}

export function errorText(e) {
  return `${e && e.field ? `${e.field}: ` : ''}${(e && e.message) || String(e)}`;
}

// "no data" where a percentage or grade would claim something.
export function noData(text = 'no data') {
  return h('span', { class: 'no-data', text });
}

// ---- toasts -------------------------------------------------------------------------
export function toast(title, body, tone = '') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast ${tone ? `t-${tone}` : ''}` }, h('b', { text: title }), body ? h('span', { text: body }) : null);
  box.appendChild(t);
  while (box.children.length > 4) box.removeChild(box.firstChild);
  setTimeout(() => t.remove(), 6000);
}

// Width of a bar through the CSSOM (allowed by the CSP, unlike style="").
export function setWidth(el, pct) {
  el.style.width = `${Math.max(0, Math.min(100, pct))}%`;
}

// Arrays from list answers: a bare array, or {items: [...]}, or the first
// array member of an object.
export function asList(x) {
  if (Array.isArray(x)) return x;
  if (x && Array.isArray(x.items)) return x.items;
  if (x && typeof x === 'object') {
    for (const v of Object.values(x)) if (Array.isArray(v)) return v;
  }
  return [];
}

export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
