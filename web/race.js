// report.html of `prescale race` (inlined by the build: src/control/web_assets.h). It reads
// the runs from <script id="page-data"> (src/live/race_report.cpp: RunResult::to_json per
// policy) and draws them on one time axis, seconds since each run began (every run replays
// the same trace, so the bursts line up): the input rate and the gateway's forecast, the
// executors Spark reported and the commanded target, batch latency against the SLA, the
// burst signal; the trace's burst is shaded. Then the summary table and each run's
// commands with their reasons.
//
// With data.validation (prescale race after its runs, prescale validate --report: the arena's
// replay of the same traffic), a "Live vs arena" section: the error figures per policy and one
// chart per policy with Spark's and the arena's executors and both worlds' batch latency.
//
// window.prescaleRace: data, charts (load, executors, latency, signal), validation (one chart
// per policy, when there is one), ready.
(function () {
  'use strict';

  const race = (window.prescaleRace = { ready: false, data: null, charts: {} });
  const app = document.getElementById('app');
  const COLORS = ['#1f6fd1', '#2a9d3a', '#8e44ad', '#e07b00', '#8c6d31', '#16a085'];
  const SLA = '#d62728';
  const ARENA = '#555555'; // the arena's side of a comparison

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const fmt = (v, d = 1) => (v === null || v === undefined || v < 0 ? 'never' : Number(v).toFixed(d));
  const at = (s) => (s === null || s === undefined || s < 0 ? 'never' : (s >= 0 ? '+' : '') + s.toFixed(1) + ' s');
  const notice = (text, kind) => el('p', { class: 'notice' + (kind ? ' ' + kind : '') }, text);

  app.textContent = '';
  let data;
  try {
    data = JSON.parse(document.getElementById('page-data').textContent);
  } catch (e) {
    app.append(notice('The data block of this page is damaged: ' + e.message, 'error'));
    race.ready = true;
    return;
  }
  race.data = data;
  const runs = (data && data.runs) || [];
  if (!runs.length) {
    app.append(notice('No runs: the race stopped before any policy finished its run, so there is nothing to draw.', 'empty'));
    race.ready = true;
    return;
  }
  const sla = data.sla_ms;

  // ---- summary ----------------------------------------------------------------------------

  const cols = [
    ['policy', (r) => r.policy, 'name'],
    ['burst', (r) => '+' + r.burst_start_s.toFixed(0) + '..+' + r.burst_end_s.toFixed(0) + ' s'],
    ['executors at burst', (r) => r.executors_at_burst_start],
    ['first scale-up command', (r) => at(r.first_scale_up_command_s)],
    ['serving', (r) => at(r.first_scale_up_serving_s)],
    ['back to min', (r) => at(r.back_to_min_s)],
    ['violations (> ' + (sla / 1000).toFixed(0) + ' s)', (r) => r.violations + ' / ' + r.batches_with_rows],
    ['p95 batch latency', (r) => fmt(r.p95_latency_ms / 1000) + ' s'],
    ['max', (r) => fmt(r.max_latency_ms / 1000) + ' s'],
    ['executor-seconds', (r) => fmt(r.executor_seconds, 0)],
  ];
  app.append(el('section', { id: 'summary' }, el('h2', {}, 'Summary'),
    el('p', { class: 'intro' }, 'Executors from Spark\'s REST API, batches from the job\'s progress, commands from iot-control (docs/controller.md, "The live race").'),
    el('div', { class: 'table-wrap' }, el('table', { class: 'results' },
      el('thead', {}, el('tr', {}, cols.map(([h, , c]) => el('th', { class: c || null }, h)))),
      el('tbody', {}, runs.map((r) => el('tr', { 'data-policy': r.policy }, cols.map(([, f, c]) => el('td', { class: c || null }, String(f(r)))))))))));

  // ---- timelines --------------------------------------------------------------------------

  const tl = el('section', { id: 'timeline' }, el('h2', {}, 'Timelines'),
    el('p', { class: 'intro' }, 'Seconds since each run began; the grey band is the trace\'s burst. Drag to zoom (every panel follows), double-click to zoom out.'));
  app.append(tl);
  for (const r of runs) {
    if (!r.batches.length && !r.executors.length) tl.append(notice(r.policy + ': this run recorded no batches and no executor samples (nothing to draw for it).', 'empty'));
  }

  // Every series on one x: the union of the runs' sample times. Step series (counts,
  // targets, the signal) carry their last value forward; point series leave gaps.
  function union(lists) {
    const set = new Set();
    for (const l of lists) for (const t of l) set.add(t);
    return Array.from(set).sort((a, b) => a - b);
  }
  function onX(x, ts, vs, step) {
    const out = new Array(x.length).fill(null);
    let j = 0;
    let last = null;
    for (let i = 0; i < x.length; i++) {
      let hit = false;
      while (j < ts.length && ts[j] <= x[i]) {
        last = vs[j];
        if (ts[j] === x[i]) { out[i] = vs[j]; hit = true; }
        j++;
      }
      if (!hit && step && last !== null) out[i] = last;
    }
    return out;
  }
  const allT = [];
  for (const r of runs) {
    allT.push(r.batches.map((b) => b.t_s), r.executors.map((e) => e[0]), r.commands.map((c) => c.t_s), (r.signals || []).map((s) => s.t_s));
  }
  const x = union(allT);
  const end = x.length ? x[x.length - 1] : 1;
  const burst = [runs[0].burst_start_s, runs[0].burst_end_s];
  const color = (i) => COLORS[i % COLORS.length];
  const stepped = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
  const point = (label, stroke, extra) => Object.assign({ label, stroke, width: 1.5, spanGaps: true, points: { show: true, size: 5 } }, extra || {});
  const step = (label, stroke, extra) => Object.assign({ label, stroke, width: 1.5, paths: stepped }, extra || {});

  const panels = [
    { key: 'load', title: 'Input (readings/s per batch) and the gateway\'s forecast', series: [], data: [] },
    { key: 'executors', title: 'Executors: Spark live (solid) and commanded target (dashed)', series: [], data: [] },
    { key: 'latency', title: 'Batch latency (s) against the SLA', series: [], data: [] },
    { key: 'signal', title: 'Burst signal as sent by the gateway', series: [], data: [], range: [0, 1.15] },
  ];
  runs.forEach((r, i) => {
    const sig = r.signals || [];
    panels[0].series.push(point(r.policy + ' input', color(i)), step(r.policy + ' forecast', color(i), { dash: [4, 4], width: 1 }));
    panels[0].data.push(onX(x, r.batches.map((b) => b.t_s), r.batches.map((b) => b.input_rps), false),
      onX(x, sig.map((s) => s.t_s), sig.map((s) => s.forecast_rps), true));
    panels[1].series.push(step(r.policy + ' live', color(i)), step(r.policy + ' target', color(i), { dash: [6, 3] }));
    panels[1].data.push(onX(x, r.executors.map((e) => e[0]), r.executors.map((e) => e[1]), true),
      onX(x, r.commands.map((c) => c.t_s), r.commands.map((c) => c.target), true));
    panels[2].series.push(point(r.policy + ' latency', color(i)));
    panels[2].data.push(onX(x, r.batches.map((b) => b.t_s), r.batches.map((b) => (b.input_rps > 0 ? b.latency_ms / 1000 : null)), false));
    panels[3].series.push(step(r.policy + ' signal', color(i), { value: (u, v) => (v === null ? '–' : v ? 'BURST' : 'calm') }));
    panels[3].data.push(onX(x, sig.map((s) => s.t_s), sig.map((s) => (s.burst ? 1 : 0)), true));
  });
  panels[2].series.push({ label: 'SLA', stroke: SLA, dash: [8, 4], width: 1.5 });
  panels[2].data.push(x.map(() => sla / 1000));

  // The trace's burst as a grey band on every panel.
  const shade = (u) => {
    const x0 = u.valToPos(burst[0], 'x', true);
    const x1 = u.valToPos(burst[1], 'x', true);
    const ctx = u.ctx;
    ctx.save();
    ctx.fillStyle = 'rgba(0,0,0,0.06)';
    ctx.fillRect(Math.max(x0, u.bbox.left), u.bbox.top, Math.max(0, Math.min(x1, u.bbox.left + u.bbox.width) - Math.max(x0, u.bbox.left)), u.bbox.height);
    ctx.restore();
  };
  let syncing = false;
  const syncX = (u, key) => {
    if (key !== 'x' || syncing) return;
    syncing = true;
    for (const other of Object.values(race.charts)) {
      if (other !== u) other.setScale('x', { min: u.scales.x.min, max: u.scales.x.max });
    }
    syncing = false;
  };
  const width = Math.max(400, (tl.clientWidth || 1000) - 4);
  for (const p of panels) {
    const holder = el('div', { class: 'panel', 'data-panel': p.key });
    tl.append(holder);
    race.charts[p.key] = new uPlot({
      title: p.title,
      width,
      height: p.key === 'signal' ? 110 : 190,
      cursor: { sync: { key: 'prescale-race' }, drag: { x: true, y: false } },
      scales: { x: { time: false, range: [0, end] }, y: p.range ? { range: p.range } : { range: (u, lo, hi) => [Math.min(0, lo), hi > 0 ? hi * 1.08 : 1] } },
      axes: [{ values: (u, s) => s.map((v) => '+' + v + ' s') }, Object.assign({ size: 80 },
        p.key === 'signal' ? { splits: () => [0, 1], values: (u, s) => s.map((v) => (v === 1 ? 'burst' : v === 0 ? 'calm' : '')) } : {})],
      series: [{ label: 'time', value: (u, v) => (v === null ? '–' : '+' + v.toFixed(1) + ' s') }].concat(p.series),
      hooks: { drawClear: [shade], setScale: [syncX] },
    }, [x].concat(p.data), holder);
  }


  // ---- live vs arena (prescale race / prescale validate: src/validate) --------------------

  // The arena's replay of the same traffic (data.validation: validate::Report::to_json), per
  // policy: Spark's executors against the arena's serving executors, the job's batch latency
  // against the arena's per-trigger batches, with the error figures (docs/sim2real.md).
  const v = data.validation;
  if (v && Array.isArray(v.policies) && v.policies.length) {
    const sec = el('section', { id: 'validation' }, el('h2', {}, 'Live vs arena'),
      el('p', { class: 'intro' }, 'The same traffic through the arena (scenario ' + v.scenario + ', signal ' + v.forecaster +
        '), each policy configured as its live controller was. Targets: executors MAE <= 0.5; p95 within 25%; violations within 2 per 5 minutes; the same ranking (violations, then cost). Cost = executor-seconds of the executor timelines drawn.'));
    const mark = (ok) => (ok ? '' : ' (miss)');
    const vcols = [
      ['policy', (p) => p.policy, 'name'],
      ['executors MAE', (p) => fmt(p.executors_mae, 2) + mark(p.targets.executors_mae)],
      ['p95 live', (p) => fmt(p.p95_latency_ms_live / 1000) + ' s'],
      ['p95 arena', (p) => fmt(p.p95_latency_ms_arena / 1000) + ' s' + mark(p.targets.p95_latency)],
      ['violations live', (p) => p.violations_live + ' / ' + p.batches_live],
      ['violations arena', (p) => p.violations_arena + ' / ' + p.batches_arena + mark(p.targets.violations)],
      ['executor-s live', (p) => fmt(p.cost_live, 0)],
      ['executor-s arena', (p) => fmt(p.cost_arena, 0)],
    ];
    sec.append(el('div', { class: 'table-wrap' }, el('table', { class: 'results', id: 'validation-table' },
      el('thead', {}, el('tr', {}, vcols.map(([h, , c]) => el('th', { class: c || null }, h)))),
      el('tbody', {}, v.policies.map((p) => el('tr', { 'data-policy': p.policy }, vcols.map(([, f, c]) => el('td', { class: c || null }, String(f(p))))))))),
      el('p', {}, 'Ranking: live ' + (v.ranking_live || []).join(' < ') + ', arena ' + (v.ranking_arena || []).join(' < ') +
        (v.same_ranking ? ' (the same)' : ' (different)')));
    app.append(sec);
    race.validation = {};
    v.policies.forEach((p, i) => {
      const r = runs.find((x) => x.policy === p.policy);
      const a = p.arena;
      if (!r || !a) return;
      const ab = a.batches || [];
      const vx = union([r.executors.map((e) => e[0]), a.t_s, r.batches.map((b) => b.t_s), ab.map((b) => b[0])]);
      const vend = Math.max(vx.length ? vx[vx.length - 1] : 1, p.duration_s || 0);
      const holder = el('div', { class: 'panel', 'data-panel': 'validation-' + p.policy });
      sec.append(el('h3', {}, p.policy + ': executors MAE ' + fmt(p.executors_mae, 2) + ', p95 ' + fmt(p.p95_latency_ms_live / 1000) +
        ' s live vs ' + fmt(p.p95_latency_ms_arena / 1000) + ' s arena, violations ' + p.violations_live + ' vs ' + p.violations_arena), holder);
      const lat = (ts, vs) => onX(vx, ts, vs, false);
      const chart = new uPlot({
        title: p.policy + ': executors (left) and batch latency in s (right), live (solid, colour) vs arena (dashed, grey)',
        width,
        height: 240,
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: false, range: [0, vend] }, n: { range: (u, lo, hi) => [0, Math.max(hi, 1) + 0.5] }, s: { range: (u, lo, hi) => [0, Math.max(hi, sla / 1000) * 1.08] } },
        axes: [{ values: (u, s) => s.map((x) => '+' + x + ' s') }, { scale: 'n', size: 60, label: 'executors' },
          { scale: 's', side: 1, size: 60, grid: { show: false }, label: 'latency (s)' }],
        series: [{ label: 'time', value: (u, x) => (x === null ? '–' : '+' + x.toFixed(1) + ' s') },
          step('live executors', color(i), { scale: 'n', width: 2 }),
          step('arena executors', ARENA, { scale: 'n', dash: [6, 3], width: 2 }),
          point('live latency', color(i), { scale: 's', width: 1 }),
          point('arena latency', ARENA, { scale: 's', width: 1, dash: [4, 4] }),
          { label: 'SLA', stroke: SLA, dash: [8, 4], width: 1.5, scale: 's' }],
      }, [vx,
        onX(vx, r.executors.map((e) => e[0]), r.executors.map((e) => e[1]), true),
        onX(vx, a.t_s, a.executors, true),
        lat(r.batches.filter((b) => b.input_rps > 0).map((b) => b.t_s), r.batches.filter((b) => b.input_rps > 0).map((b) => b.latency_ms / 1000)),
        lat(ab.map((b) => b[0]), ab.map((b) => b[1] / 1000)),
        vx.map(() => sla / 1000)], holder);
      race.validation[p.policy] = chart;
    });
  }

  // ---- commands ---------------------------------------------------------------------------

  const cmds = el('section', { id: 'commands' }, el('h2', {}, 'Commands'),
    el('p', { class: 'intro' }, 'Each change of the commanded target, with the controller\'s reason (policy, envelope guard, the controller\'s stabilisation).'));
  const wrap = el('div', { class: 'twocol' });
  for (const r of runs) {
    wrap.append(el('div', { 'data-policy': r.policy }, el('h3', {}, r.policy),
      r.commands.length
        ? el('table', { class: 'log' }, el('thead', {}, el('tr', {}, el('th', {}, 'time'), el('th', {}, 'target'), el('th', { class: 'reason' }, 'reason'))),
          el('tbody', {}, r.commands.map((c) => el('tr', {}, el('td', {}, at(c.t_s)), el('td', {}, String(c.target)), el('td', { class: 'reason' }, c.reason)))))
        : notice('No command seen during this run.', 'empty')));
  }
  cmds.append(wrap);
  app.append(cmds);
  race.ready = true;
})();
