// charts.js: daily trend bars with uPlot (vendored from npm, global uPlot).
// A bar is green when the day's value is within the SLA target, red when
// over; the target is an orange dashed line; hovering shows the date, the
// value, the target and the day's count.

import { h, fmtMin, isNum } from './ui.js';

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// points: [{date, value_min, target_min, count}] (value_min may be null).
// opts: {unit: 'min', format: fmtMin, height}.  Returns {el, destroy}.
export function trendChart(points, opts = {}) {
  const fmt = opts.format || fmtMin;
  const box = h('div', { class: 'chart-box', 'data-chart': opts.name || '' });
  const tip = h('div', { class: 'chart-tip', hidden: true });
  box.appendChild(tip);

  const xs = [], under = [], over = [], target = [], values = [], counts = [];
  for (const p of points) {
    const t = Date.parse(p.date && p.date.length === 10 ? `${p.date}T00:00:00Z` : p.date) / 1000;
    if (!isNum(t)) continue;
    const v = isNum(p.value_min) ? p.value_min : null;
    const tg = isNum(p.target_min) ? p.target_min : null;
    xs.push(t);
    values.push(v);
    target.push(tg);
    counts.push(isNum(p.count) ? p.count : null);
    const isOver = v !== null && tg !== null && v > tg;
    under.push(v !== null && !isOver ? v : null);
    over.push(isOver ? v : null);
  }

  let u = null;
  const green = cssVar('--green'), red = cssVar('--red'), accent = cssVar('--accent');
  const axisStroke = cssVar('--muted'), grid = cssVar('--border');
  const barWidth = xs.length > 60 ? 0.8 : 0.7;
  const bars = window.uPlot && window.uPlot.paths && window.uPlot.paths.bars
    ? window.uPlot.paths.bars({ size: [barWidth, 40], gap: 1 }) : null;

  function build(width) {
    const maxV = Math.max(0, ...values.filter(isNum), ...target.filter(isNum));
    const o = {
      width,
      height: opts.height || 220,
      legend: { show: false },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: [0, maxV > 0 ? maxV * 1.15 : 1] } },
      axes: [
        { stroke: axisStroke, grid: { show: false }, ticks: { stroke: grid }, font: '11px system-ui', size: 30 },
        { stroke: axisStroke, grid: { stroke: grid, width: 1 }, ticks: { show: false }, font: '11px system-ui', size: 52,
          values: (_, ticks) => ticks.map((v) => fmt(v)) },
      ],
      series: [
        {},
        { label: 'Under SLA', fill: green, stroke: green, paths: bars, points: { show: false }, width: 0 },
        { label: 'Over SLA', fill: red, stroke: red, paths: bars, points: { show: false }, width: 0 },
        { label: 'Target', stroke: accent, width: 2, dash: [6, 4], points: { show: false }, spanGaps: true },
      ],
      hooks: {
        setCursor: [(plot) => {
          const i = plot.cursor.idx;
          if (i === null || i === undefined || plot.cursor.left < 0) {
            tip.hidden = true;
            return;
          }
          const d = new Date(xs[i] * 1000);
          const day = d.toLocaleDateString(undefined, { weekday: 'short', month: 'short', day: 'numeric', timeZone: 'UTC' });
          const v = values[i];
          const cls = v !== null && target[i] !== null && v > target[i] ? 'over' : '';
          tip.replaceChildren(
            h('b', { text: day }), h('br'),
            h('span', { class: cls, text: `${opts.label || 'Value'}: ${v === null ? 'no data' : `${fmt(v)} (${v.toFixed(1)} min)`}` }), h('br'),
            h('span', { class: 'muted', text: `Target: ${fmt(target[i])}${isNum(counts[i]) ? ` · ${counts[i]} alerts` : ''}` }));
          tip.hidden = false;
          const left = plot.over.offsetLeft + plot.cursor.left;
          const w = tip.offsetWidth;
          tip.style.left = `${Math.min(Math.max(0, left - w / 2), box.clientWidth - w)}px`;
          tip.style.top = `${Math.max(0, plot.over.offsetTop + plot.cursor.top - tip.offsetHeight - 14)}px`;
        }],
      },
    };
    return new window.uPlot(o, [xs, under, over, target], box);
  }

  let ro = null;
  function mountWhenSized() {
    const w = box.clientWidth;
    if (!w) return;
    if (!u) u = build(w);
    else u.setSize({ width: w, height: opts.height || 220 });
  }
  if (window.uPlot) {
    ro = new ResizeObserver(() => mountWhenSized());
    ro.observe(box);
  } else {
    box.appendChild(h('p', { class: 'muted', text: 'The chart library did not load.' }));
  }
  box.addEventListener('mouseleave', () => { tip.hidden = true; });

  return {
    el: box,
    destroy() {
      if (ro) ro.disconnect();
      if (u) u.destroy();
    },
  };
}

// A simple line over days (compliance % and the like): points [{date, value}].
export function lineChart(points, opts = {}) {
  const box = h('div', { class: 'chart-box' });
  const xs = [], ys = [];
  for (const p of points) {
    const t = Date.parse(p.date && p.date.length === 10 ? `${p.date}T00:00:00Z` : p.date) / 1000;
    const v = isNum(p.value) ? p.value : isNum(p.value_pct) ? p.value_pct : isNum(p.value_min) ? p.value_min : null;
    if (!isNum(t)) continue;
    xs.push(t);
    ys.push(v);
  }
  let u = null;
  const accent = cssVar('--blue'), axisStroke = cssVar('--muted'), grid = cssVar('--border');
  const ro = window.uPlot ? new ResizeObserver(() => {
    const w = box.clientWidth;
    if (!w) return;
    if (u) { u.setSize({ width: w, height: opts.height || 200 }); return; }
    u = new window.uPlot({
      width: w,
      height: opts.height || 200,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: opts.range ? { range: opts.range } : {} },
      axes: [
        { stroke: axisStroke, grid: { show: false }, font: '11px system-ui' },
        { stroke: axisStroke, grid: { stroke: grid, width: 1 }, ticks: { show: false }, font: '11px system-ui', size: 50,
          values: (_, ticks) => ticks.map((v) => (opts.format ? opts.format(v) : v)) },
      ],
      series: [{}, { stroke: accent, width: 2, fill: 'rgba(76,154,255,0.12)', spanGaps: true, points: { show: xs.length < 40 } },
        { stroke: cssVar('--accent'), width: 1.5, dash: [6, 4], points: { show: false } }],
    }, [xs, ys, xs.map(() => (isNum(opts.target) ? opts.target : null))], box);
  }) : null;
  if (ro) ro.observe(box);
  return { el: box, destroy() { if (ro) ro.disconnect(); if (u) u.destroy(); } };
}
