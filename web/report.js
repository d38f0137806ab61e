// report.html's own script (inlined by the build, like uPlot: src/arena/report_assets.h).
// It reads the run from <script id="report-data"> (written by src/arena/html_report.cpp)
// and draws the page: the dense time series with uPlot, the few-point charts (the Pareto
// scatter, the ablation's bars) as small SVGs, the tables as HTML. docs/report.md says what
// each part shows.
//
// Everything a test or a curious person needs is on window.prescaleReport: the data, the
// uPlot objects by panel (charts.load, .executors, .latency, .shuffle, .signal), the scatter
// points, selectPolicy(name), and ready / renderMs once the page has been drawn.
(function () {
  'use strict';

  const report = (window.prescaleReport = {
    ready: false,
    renderMs: null,
    data: null,
    charts: {},
    scatter: [],
    policy: null,
    selectPolicy: null,
  });
  const app = document.getElementById('app');

  const C = {
    load: '#3b3b3b',
    policy: '#1f6fd1',
    pending: '#f0a030',
    target: '#2a9d3a',
    oracle: '#8a8a8a',
    sla: '#d62728',
    signal: '#e07b00',
    guards: { floor: '#e4572e', stabilise: '#8e44ad', dwell: '#8c6d31' },
    tiers: { redis: '#d1495b', nvme: '#66a182', s3: '#2e86ab' },
    codecs: { none: '#e2e2e2', lz4: '#edae49', zstd: '#8d6cab' },
    none: '#f3f3f3',
  };
  const SYNC_KEY = 'prescale-timeline';
  const Y_AXIS_PX = 96; // the same on every panel, so their x axes line up
  // Tick spacings for a time axis in seconds: 1 s up to 30 days.
  const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
    21600, 43200, 86400, 172800, 604800, 1209600, 2592000];

  // ---- DOM helpers ------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c !== null && c !== undefined && c !== false) {
        e.append(c instanceof Node ? c : document.createTextNode(String(c)));
      }
    }
    return e;
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) e.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function notice(parent, text, kind) {
    const p = el('p', { class: 'notice' + (kind ? ' ' + kind : '') }, text);
    parent.append(p);
    return p;
  }

  function section(id, title, ...intro) {
    const s = el('section', { id }, el('h2', {}, title), intro.length ? el('p', { class: 'intro' }, ...intro) : null);
    app.append(s);
    return s;
  }

  // ---- numbers and time ---------------------------------------------------------------------

  function fixed(v, d) {
    return v === null || v === undefined || !isFinite(v) ? '–' : Number(v).toFixed(d);
  }

  function fmtNum(v) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    const a = Math.abs(v);
    return a >= 1000 ? Math.round(v).toLocaleString('en-US') : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  }

  function plural(n, word) {
    return n.toLocaleString('en-US') + ' ' + word + (n === 1 ? '' : 's');
  }

  // Seconds from the start of the run: "15:00", "03:15:00", "2d 03:15".
  function fmtTime(s) {
    if (s === null || s === undefined || !isFinite(s)) return '–';
    const neg = s < 0;
    s = Math.round(Math.abs(s));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = s % 60;
    const two = (n) => String(n).padStart(2, '0');
    if (d) return (neg ? '-' : '') + d + 'd ' + two(h) + ':' + two(m) + (sec ? ':' + two(sec) : '');
    return (neg ? '-' : '') + (h ? two(h) + ':' : '') + two(m) + ':' + two(sec);
  }

  // About five round ticks covering [lo, hi].
  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) hi = lo + 1;
    const raw = (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) || 10 * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(12));
    return out;
  }

  // ---- the data's encodings (html_report.cpp) -------------------------------------------------

  // [value, count, value, count, ...] -> n values (null past the end).
  function expandRuns(runs, n) {
    const out = new Array(n).fill(null);
    let i = 0;
    for (let k = 0; k + 1 < runs.length && i < n; k += 2) {
      const v = runs[k], end = Math.min(n, i + runs[k + 1]);
      while (i < end) out[i++] = v;
    }
    return out;
  }

  function padded(values, n) {
    const out = values.slice(0, n);
    while (out.length < n) out.push(null);
    return out;
  }

  // One policy's columns, expanded to the timeline's n points.
  function columnsOf(p, n) {
    return {
      processed: padded(p.processed, n),
      latency: padded(p.latency, n),
      active: expandRuns(p.active, n),
      pending: expandRuns(p.pending, n),
      target: expandRuns(p.target, n),
      tier: expandRuns(p.tier, n),
      codec: expandRuns(p.codec, n),
      guards: expandRuns(p.guards, n),
      hold: padded(p.hold || [], n),  // reports written before the column have none
    };
  }

  // ---- page ------------------------------------------------------------------------------------

  function main() {
    const node = document.getElementById('report-data');
    let data;
    try {
      data = JSON.parse(node ? node.textContent : '');
    } catch (e) {
      notice(app, 'This report is damaged: its data cannot be read (' + e.message + ').', 'error');
      throw e;
    }
    report.data = data;
    if (data.kind === 'traces') renderTraces(data);
    else if (['tournament', 'ablation', 'case'].includes(data.kind)) renderTournament(data);
    else notice(app, 'This report is of an unknown kind (' + data.kind + ') and cannot be shown.', 'error');
  }

  function renderTournament(data) {
    if (data.kind === 'case') renderCaseHeader(data);
    const results = data.results || [];
    if (!results.length) {
      notice(app, 'This run has no results: no policy ran, so there is nothing to compare. ' +
        'Check the --policies list and the scenario.', 'empty');
    } else {
      if (data.kind === 'ablation') renderPhases(data);
      renderScatter(data);
      renderResultsTable(data);
    }
    renderTimeline(data);
  }

  function renderCaseHeader(data) {
    const c = data.case;
    const p = el('p', { class: 'case' },
      data.back ? el('a', { href: data.back, class: 'back' }, '← all traces') : null,
      ' ', c.trace + ' (' + c.speed + ' replay, ' + c.steps.toLocaleString('en-US') + ' steps, ' +
      plural(c.seeds, 'seed') + '): ' + c.judged.policy + ' vs hpa: ',
      el('strong', { class: c.dominates ? 'good' : 'bad' }, c.verdict),
      ' (SLA gap ' + (c.sla_gap >= 0 ? '+' : '') + fixed(c.sla_gap, 1) + ' points)');
    app.append(p);
  }

  // ---- the Pareto view: cost against SLA violations -------------------------------------------

  // Policies no other policy beats on both cost and violations (ties count as not beaten).
  // The oracle is the yardstick, not a contender: it is clairvoyant and beats every policy.
  function paretoSet(all) {
    const points = all.filter((p) => !p.oracle);
    return new Set(points.filter((a) => !points.some((b) =>
      b !== a && b.x <= a.x && b.y <= a.y && (b.x < a.x || b.y < a.y))).map((p) => p.policy));
  }

  function renderScatter(data) {
    const hasOracle = data.results.some((r) => r.policy === 'oracle');
    const s = section('pareto', 'Cost against SLA violations',
      'One point per policy: the mean over ' + plural(data.run.seeds, 'seed') + ' with its 95% interval on both axes. ' +
      'Down and to the left is better; the dashed line joins the policies no other policy beats on both ' +
      '(the Pareto front). ' + (hasOracle ? 'The oracle (◆) is the clairvoyant schedule, the yardstick: the ' +
        'cheapest that avoids every violation it can. ' : '') + 'Click a point to see its timeline.');
    const pts = data.results.map((r) => ({
      policy: r.policy, x: r.cost.mean, xci: r.cost.ci95 || 0,
      y: r.sla_violation_pct.mean, yci: r.sla_violation_pct.ci95 || 0, oracle: r.policy === 'oracle',
    })).filter((p) => isFinite(p.x) && isFinite(p.y));
    const front = paretoSet(pts);
    pts.forEach((p) => (p.pareto = front.has(p.policy)));
    report.scatter = pts;
    if (!pts.length) return notice(s, 'No policy has a finite cost and violation rate to plot.', 'empty');

    const W = 760, H = 420, M = { l: 64, r: 150, t: 16, b: 52 };
    const xs = pts.flatMap((p) => [p.x - p.xci, p.x + p.xci]);
    const ys = pts.flatMap((p) => [p.y - p.yci, p.y + p.yci]);
    let x0 = Math.max(0, Math.min(...xs)), x1 = Math.max(...xs), y0 = Math.max(0, Math.min(...ys)), y1 = Math.max(...ys);
    const padX = (x1 - x0) * 0.06 || Math.abs(x0) * 0.1 || 1, padY = (y1 - y0) * 0.06 || 1;
    x0 = Math.max(0, x0 - padX); x1 += padX; y0 = Math.max(0, y0 - padY); y1 += padY;
    const X = (v) => M.l + ((v - x0) / (x1 - x0)) * (W - M.l - M.r);
    const Y = (v) => H - M.b - ((v - y0) / (y1 - y0)) * (H - M.t - M.b);

    const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'scatter', role: 'img',
      'aria-label': 'cost against SLA violations per policy' });
    for (const t of niceTicks(x0, x1, 6)) {
      g.append(svg('line', { x1: X(t), x2: X(t), y1: M.t, y2: H - M.b, class: 'grid' }),
        svg('text', { x: X(t), y: H - M.b + 16, class: 'tick', 'text-anchor': 'middle' }, '$' + +t.toFixed(4)));
    }
    for (const t of niceTicks(y0, y1, 5)) {
      g.append(svg('line', { x1: M.l, x2: W - M.r, y1: Y(t), y2: Y(t), class: 'grid' }),
        svg('text', { x: M.l - 6, y: Y(t) + 4, class: 'tick', 'text-anchor': 'end' }, +t.toFixed(4) + '%'));
    }
    g.append(svg('text', { x: (M.l + W - M.r) / 2, y: H - 12, class: 'axis-label', 'text-anchor': 'middle' },
      'cost per run ($, mean ± 95% interval)'),
    svg('text', { x: 14, y: (M.t + H - M.b) / 2, class: 'axis-label', 'text-anchor': 'middle',
      transform: `rotate(-90 14 ${(M.t + H - M.b) / 2})` }, 'SLA violations (% of steps)'));

    const frontPts = pts.filter((p) => p.pareto).sort((a, b) => a.x - b.x);
    if (frontPts.length > 1) {
      let d = `M${X(frontPts[0].x)},${Y(frontPts[0].y)}`;
      for (const p of frontPts.slice(1)) d += ` H${X(p.x)} V${Y(p.y)}`;
      g.append(svg('path', { d, class: 'front' }));
    }
    // Labels go beside their point where they overlap no other label or point.
    const taken = pts.map((p) => ({ x0: X(p.x) - 6, x1: X(p.x) + 6, y0: Y(p.y) - 6, y1: Y(p.y) + 6 }));
    const placeLabel = (cx, cy, text) => {
      const w = text.length * 6.8 + 4, h = 13;
      const tries = [];
      for (const dy of [-6, 16, -20, 30, -34, 44]) tries.push([8, dy, 'start'], [-8, dy, 'end']);
      for (const [dx, dy, anchor] of tries) {
        const x0 = anchor === 'start' ? cx + dx : cx + dx - w, y0 = cy + dy - h + 3;
        const box = { x0, x1: x0 + w, y0, y1: y0 + h };
        const clear = box.x0 >= 0 && box.x1 <= W && box.y0 >= 0 && box.y1 <= H &&
          !taken.some((b) => box.x0 < b.x1 && box.x1 > b.x0 && box.y0 < b.y1 && box.y1 > b.y0);
        if (clear) {
          taken.push(box);
          return { x: cx + dx, y: cy + dy, anchor };
        }
      }
      return { x: cx + 8, y: cy - 6, anchor: 'start' };
    };
    for (const p of pts) {
      const cx = X(p.x), cy = Y(p.y);
      const name = p.oracle ? 'oracle (clairvoyant)' : p.policy;
      const at = placeLabel(cx, cy, name);
      const tip = `${p.policy}: $${fixed(p.x, 3)} ±${fixed(p.xci, 3)}, ${fixed(p.y, 1)}% ±${fixed(p.yci, 1)}% of steps` +
        (p.pareto ? ' (Pareto front)' : '');
      const mark = p.oracle
        ? svg('path', { d: `M${cx},${cy - 7} L${cx + 7},${cy} L${cx},${cy + 7} L${cx - 7},${cy} Z`, class: 'oracle' })
        : svg('circle', { cx, cy, r: 4.5, class: p.pareto ? 'pareto' : 'dominated' });
      g.append(svg('g', { class: 'point', 'data-policy': p.policy, onclick: null },
        svg('title', {}, tip),
        svg('line', { x1: X(p.x - p.xci), x2: X(p.x + p.xci), y1: cy, y2: cy, class: 'err' }),
        svg('line', { x1: cx, x2: cx, y1: Y(p.y - p.yci), y2: Y(p.y + p.yci), class: 'err' }),
        mark,
        svg('text', { x: at.x, y: at.y, 'text-anchor': at.anchor, class: 'label' + (p.oracle ? ' oracle-label' : '') },
          name)));
    }
    g.addEventListener('click', (e) => {
      const hit = e.target.closest('.point');
      if (hit && report.selectPolicy) {
        report.selectPolicy(hit.getAttribute('data-policy'));
        document.getElementById('timeline').scrollIntoView({ behavior: 'smooth' });
      }
    });
    s.append(el('div', { class: 'figure' }, g));
  }

  // ---- the results table ----------------------------------------------------------------------

  const COLUMNS = [
    ['cost $', 'cost', 3, true, 'mean cost per run, ± 95% interval over seeds'],
    ['× oracle', 'cost_vs_oracle', 2, false, 'cost relative to the oracle on the same traffic'],
    ['p95 ms', 'p95_latency_ms', 0, false, '95th percentile of per-step latency'],
    ['SLA viol %', 'sla_violation_pct', 1, true, 'steps with latency above the SLA, ± 95% interval'],
    ['viol-min', 'violation_minutes', 1, false, 'minutes in violation'],
    ['stability', 'stability', 2, false, 'standard deviation of alive executors'],
    ['mean exec', 'mean_executors', 1, false, 'mean executors alive (serving + starting)'],
    ['rescales', 'rescales', 1, false, 'steps whose target changed'],
    ['reversals', 'reversals', 1, false, 'rescales against the previous direction'],
    ['switches', 'switches', 1, false, 'tier or codec switches'],
    ['overrides', 'guard_overrides', 0, false, 'steps where the safety envelope overrode the policy'],
    ['MB/s', 'throughput_mb_s', 0, false, 'mean processed MB/s'],
    ['CPU %', 'cpu_util_pct', 1, false, 'mean CPU utilisation of serving executors'],
  ];

  function renderResultsTable(data) {
    const s = section('results', 'Results',
      `${plural(data.run.seeds, 'seed')} × ${data.run.steps.toLocaleString('en-US')} steps of ${data.run.step_s} s; ` +
      'mean over seeds (± 95% interval where shown). Click a column to sort; ◆ marks the Pareto front.');
    const front = new Set(report.scatter.filter((p) => p.pareto).map((p) => p.policy));
    let rows = data.results.slice();
    let sortKey = null, sortDir = 1;
    const table = el('table', { class: 'results' });
    const draw = () => {
      table.textContent = '';
      const head = el('tr', {}, el('th', { class: 'name', onclick: () => sortBy(null) }, 'policy'),
        COLUMNS.map(([label, key, , , tip]) => el('th', { title: tip, onclick: () => sortBy(key),
          class: sortKey === key ? (sortDir > 0 ? 'sorted up' : 'sorted down') : null }, label)));
      table.append(el('thead', {}, head));
      const body = el('tbody');
      for (const r of rows) {
        body.append(el('tr', { 'data-policy': r.policy, class: r.policy === 'oracle' ? 'oracle' : null },
          el('td', { class: 'name' }, r.policy, front.has(r.policy) ? el('span', { class: 'front-mark', title: 'Pareto front' }, ' ◆') : null),
          COLUMNS.map(([, key, d, ci]) => el('td', {}, fixed(r[key].mean, d) + (ci ? ' ±' + fixed(r[key].ci95, d) : '')))));
      }
      table.append(body);
    };
    const sortBy = (key) => {
      if (key === null) { rows = data.results.slice(); sortKey = null; draw(); return; }
      sortDir = sortKey === key ? -sortDir : 1;
      sortKey = key;
      rows.sort((a, b) => sortDir * ((a[key].mean ?? Infinity) - (b[key].mean ?? Infinity)));
      draw();
    };
    draw();
    s.append(el('div', { class: 'table-wrap' }, table));
    if (data.run.oracle_exact === false) {
      notice(s, 'An oracle Pareto front was truncated: its plan is feasible but may not be the cheapest.');
    }
  }

  // ---- the ablation's phases as bars ----------------------------------------------------------

  function renderPhases(data) {
    const s = section('phases', 'Phases', 'Each phase adds one capability; bars are means over seeds, whiskers the 95% interval.');
    const byPolicy = new Map(data.results.map((r) => [r.policy, r]));
    const phases = (data.phases || []).filter((p) => byPolicy.has(p.policy));
    if (!phases.length) return notice(s, 'This ablation has no phases to show.', 'empty');
    const wrap = el('div', { class: 'bars' });
    for (const [title, key, unit, d] of [['SLA violations (% of steps)', 'sla_violation_pct', '%', 1],
      ['cost per run ($)', 'cost', '$', 3]]) {
      const W = 420, H = 260, M = { l: 52, r: 12, t: 28, b: 56 };
      const vals = phases.map((p) => byPolicy.get(p.policy)[key]);
      const top = Math.max(...vals.map((v) => v.mean + (v.ci95 || 0)), 1e-9) * 1.1;
      const bw = (W - M.l - M.r) / phases.length;
      const Y = (v) => H - M.b - (v / top) * (H - M.t - M.b);
      const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'bar-chart', 'data-metric': key },
        svg('text', { x: W / 2, y: 16, class: 'axis-label', 'text-anchor': 'middle' }, title));
      for (const t of niceTicks(0, top, 4)) {
        g.append(svg('line', { x1: M.l, x2: W - M.r, y1: Y(t), y2: Y(t), class: 'grid' }),
          svg('text', { x: M.l - 5, y: Y(t) + 4, class: 'tick', 'text-anchor': 'end' }, +t.toFixed(4)));
      }
      phases.forEach((p, i) => {
        const v = vals[i], x = M.l + i * bw + bw * 0.15, w = bw * 0.7;
        g.append(svg('g', { class: 'bar', 'data-policy': p.policy },
          svg('title', {}, `phase ${p.phase} ${p.policy}: ${fixed(v.mean, d)} ±${fixed(v.ci95, d)} ${unit} — ${p.adds}`),
          svg('rect', { x, y: Y(v.mean), width: w, height: Math.max(0, Y(0) - Y(v.mean)), class: 'phase-' + Math.min(p.phase, 4) }),
          svg('line', { x1: x + w / 2, x2: x + w / 2, y1: Y(Math.max(0, v.mean - (v.ci95 || 0))), y2: Y(v.mean + (v.ci95 || 0)), class: 'err' }),
          svg('text', { x: x + w / 2, y: H - M.b + 16, class: 'tick', 'text-anchor': 'middle' }, String(p.phase)),
          svg('text', { x: x + w / 2, y: H - M.b + 30, class: 'tick', 'text-anchor': 'middle' }, p.policy)));
      });
      wrap.append(g);
    }
    s.append(wrap);
    s.append(el('ol', { class: 'phases', start: phases[0].phase },
      phases.map((p) => el('li', {}, el('strong', {}, p.policy), ': ' + p.adds))));
  }

  // ---- the traces report: one row per (trace, speed) ------------------------------------------

  function renderTraces(data) {
    const cases = data.cases || [];
    const s = section('traces', 'Development traces',
      'Each case is one real trace replayed at one speed (compressed: one sample per step; real: one trace ' +
      'second per simulated second), every policy on identical traffic. Cells: SLA violations (% of steps) / ' +
      `cost ($). "dominates": at most ${data.sla_tolerance_points} points more violations than hpa and no more cost.`);
    if (!cases.length) {
      notice(s, 'This run has no cases: no trace was evaluated, so there is nothing to show.', 'empty');
      return;
    }
    s.append(el('p', { class: 'summary' }, data.summary));
    const cell = (f) => fixed(f.sla_violation_pct, 1) + '% / ' + fixed(f.cost, 2);
    const first = cases[0];
    const table = el('table', { class: 'traces' },
      el('thead', {}, el('tr', {}, ['trace', 'speed', 'steps', 'hpa', 'best autoscaler', first.judged.policy]
        .concat(first.compare.map((p) => p.policy), ['oracle $', 'vs hpa', 'SLA gap', 'timelines'])
        .map((h) => el('th', {}, h)))));
    const body = el('tbody');
    for (const c of cases) {
      body.append(el('tr', { 'data-case': c.trace + '-' + c.speed },
        el('td', { class: 'name' }, c.trace), el('td', {}, c.speed), el('td', {}, c.steps.toLocaleString('en-US')),
        el('td', {}, cell(c.hpa)), el('td', {}, c.best.policy + ' ' + cell(c.best)),
        el('td', {}, cell(c.judged)), c.compare.map((p) => el('td', {}, cell(p))),
        el('td', {}, fixed(c.oracle_cost, 2)),
        el('td', { class: c.dominates ? 'good' : 'bad' }, c.verdict),
        el('td', {}, (c.sla_gap >= 0 ? '+' : '') + fixed(c.sla_gap, 1)),
        el('td', {}, c.link ? el('a', { href: c.link, class: 'case-link' }, 'timelines') : '–')));
    }
    table.append(body);
    s.append(el('div', { class: 'table-wrap' }, table));
  }

  // ---- the timeline: six panels on one time axis ---------------------------------------------

  function renderTimeline(data) {
    const t = data.timeline;
    const withOracle = !!(t && t.policies && t.policies.some((p) => p.policy === 'oracle' && p.steps));
    const s = section('timeline', 'Timeline',
      'The first seed, step by step, for one policy at a time' +
      (withOracle ? ' (the oracle dashed in grey for comparison)' : '') +
      '. Drag to zoom; shift-drag to pan; ctrl- or alt-wheel to zoom; double-click to zoom out. ' +
      'All panels share the time axis.');
    if (!t || !t.steps || !t.points) {
      notice(s, 'No timeline: this run recorded no steps, so there is nothing to draw.', 'empty');
      return;
    }
    const n = t.points;
    const x = t.x ? padded(t.x, n) : Array.from({ length: n }, (_, i) => i * t.step_s);
    const policies = t.policies.filter((p) => p.steps > 0);
    const empty = t.policies.filter((p) => !p.steps).map((p) => p.policy);
    if (t.bucket_steps > 1) {
      notice(s, `This run has ${t.steps.toLocaleString('en-US')} steps, more than the ${t.max_points.toLocaleString('en-US')} ` +
        `points a series is drawn from: each bucket of ${t.bucket_steps} steps is drawn as two points, its minimum ` +
        'and its maximum (so spikes stay visible); the burst signal and the overrides mark a half-bucket if any of ' +
        'its steps had them; tier and codec are sampled. timeline.csv beside this page has every step.', 'decimated');
    }
    if (empty.length) {
      notice(s, (empty.length === 1 ? empty[0] + ' has' : empty.join(', ') + ' have') +
        ' no steps in this timeline: nothing to draw for ' + (empty.length === 1 ? 'it.' : 'them.'), 'empty');
    }
    if (!policies.length) return;
    const oracle = policies.find((p) => p.policy === 'oracle');
    const cache = new Map();
    const cols = (p) => cache.get(p.policy) || cache.set(p.policy, columnsOf(p, n)).get(p.policy);
    const shared = {
      x, load: padded(t.load, n), signal: expandRuns(t.signal, n),
      sla: new Array(n).fill(data.run.sla_ms), labels: data.labels, seed: t.seed,
      x0: x[0], x1: x[n - 1],
    };

    const select = el('select', { id: 'policy-select', 'aria-label': 'policy' },
      t.policies.map((p) => el('option', { value: p.policy, disabled: !p.steps }, p.policy + (p.steps ? '' : ' (no steps)'))));
    const overlay = el('input', { type: 'checkbox', id: 'oracle-overlay', checked: true });
    const reset = el('button', { type: 'button', id: 'zoom-reset' }, 'zoom out');
    s.append(el('div', { class: 'controls' },
      el('label', {}, 'policy ', select),
      el('label', { class: oracle ? null : 'disabled' }, overlay, ' overlay the oracle'),
      reset, el('span', { class: 'seed' }, 'seed ' + t.seed)));
    const panels = el('div', { class: 'panels' });
    s.append(panels);
    s.append(legendOf(data.labels));

    let range = null; // the zoomed x range, kept across policy changes
    const draw = () => {
      const p = policies.find((q) => q.policy === select.value) || policies[0];
      const o = overlay.checked && oracle && p !== oracle ? oracle : null;
      report.policy = p.policy;
      overlay.disabled = !oracle || p === oracle;
      const keep = range; // creating the charts reports the full range
      for (const u of Object.values(report.charts)) u.destroy();
      report.charts = {};
      panels.textContent = '';
      buildPanels(panels, shared, p.policy, cols(p), o ? cols(o) : null, (r) => (range = r));
      if (keep) report.charts.load.setScale('x', { min: keep[0], max: keep[1] });
    };
    report.selectPolicy = (name) => {
      if (!policies.some((p) => p.policy === name)) return false;
      select.value = name;
      try {
        history.replaceState(null, '', '#policy=' + encodeURIComponent(name));
      } catch (e) {
        // a browser that refuses URL changes on file:// pages: the selection still works
      }
      draw();
      return true;
    };
    select.addEventListener('change', () => report.selectPolicy(select.value));
    overlay.addEventListener('change', draw);
    reset.addEventListener('click', () => {
      range = null;
      report.charts.load.setScale('x', { min: shared.x0, max: shared.x1 });
    });
    const fromHash = decodeURIComponent((location.hash.match(/policy=([^&]+)/) || [])[1] || '');
    const initial = policies.find((p) => p.policy === fromHash) ||
      policies.find((p) => p.policy !== 'oracle') || policies[0];
    select.value = initial.policy;
    draw();

    let timer = null;
    window.addEventListener('resize', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        for (const u of Object.values(report.charts)) u.setSize({ width: widthOf(panels), height: u.height });
      }, 100);
    });
  }

  function legendOf(labels) {
    const chip = (color, text) => el('span', { class: 'chip' }, el('i', { style: 'background:' + color }), text);
    return el('p', { class: 'band-legend' }, 'tier: ', labels.tiers.map((t) => chip(C.tiers[t] || '#999', t)),
      ' codec: ', labels.codecs.map((c) => chip(C.codecs[c] || '#999', c)),
      ' envelope overrides: ', labels.guards.map(([, g]) => chip(C.guards[g] || '#999', g)));
  }

  function widthOf(node) {
    return Math.max(320, Math.floor(node.clientWidth || document.body.clientWidth - 40));
  }

  // The six panels of one policy (`pc`: its columns; `oc`: the oracle's, or null).
  function buildPanels(root, shared, name, pc, oc, onRange) {
    const n = shared.x.length;
    const stepped = uPlot.paths.stepped({ align: 1 });
    const line = (label, stroke, extra) => Object.assign({ label, stroke, width: 1.25, points: { show: false },
      value: (u, v) => fmtNum(v) }, extra);
    const dashed = (label, extra) => line(label, C.oracle, Object.assign({ dash: [5, 4] }, extra));
    const guardSeries = shared.labels.guards.map(([bit, g]) => ({
      label: 'override: ' + g, stroke: C.guards[g], fill: C.guards[g], width: 0, paths: () => null,
      points: { show: true, size: 7, width: 1, stroke: C.guards[g], fill: C.guards[g] },
      value: (u, v) => (v === null ? '–' : 'yes'),
      data: pc.guards.map((b, i) => (b !== null && b & bit ? pc.target[i] : null)),
    }));
    const floorLatency = (v) => (v === null ? null : Math.max(v, 1)); // log scale

    const specs = [
      {
        key: 'load', title: 'Load (records/s)', height: 170,
        series: [line('load', C.load), line(name + ' processed', C.policy)]
          .concat(oc ? [dashed('oracle processed')] : []),
        data: [shared.load, pc.processed].concat(oc ? [oc.processed] : []),
      },
      {
        key: 'executors', title: 'Executors', height: 190,
        series: [line(name + ' active', C.policy, { paths: stepped, width: 1.5 }),
          line(name + ' pending', C.pending, { paths: stepped, fill: 'rgba(240,160,48,0.18)' }),
          line(name + ' target', C.target, { paths: stepped, dash: [6, 3] })]
          .concat(oc ? [dashed('oracle active', { paths: stepped })] : [], guardSeries),
        data: [pc.active, pc.pending, pc.target].concat(oc ? [oc.active] : [], guardSeries.map((g) => g.data)),
      },
      {
        // How long the envelope holds released capacity (its adaptive scale-down window: grows
        // after a regretted release, shrinks after one that held); 0 for an unguarded policy.
        key: 'hold', title: 'Scale-down window (s): how long released capacity is held', height: 120,
        series: [line(name + ' window', C.guards.stabilise, { paths: stepped, width: 1.5,
          value: (u, v) => (v === null ? '–' : v > 0 ? fmtNum(v) + ' s' : 'not guarded') })],
        data: [pc.hold],
      },
      {
        key: 'latency', title: 'Latency (ms, log scale) against the SLA', height: 190, log: true,
        series: [line(name + ' latency', C.policy)].concat(oc ? [dashed('oracle latency')] : [],
          [line('SLA', C.sla, { dash: [8, 4], width: 1.5 })]),
        data: [pc.latency.map(floorLatency)].concat(oc ? [oc.latency.map(floorLatency)] : [], [shared.sla]),
      },
      bandSpec(name, pc, oc, shared.labels),
      {
        key: 'signal', title: 'Edge burst signal', height: 110, range: [0, 1.15],
        series: [line('burst signal', C.signal, { paths: stepped, fill: 'rgba(224,123,0,0.25)',
          value: (u, v) => (v === null ? '–' : v ? 'raised' : 'off') })],
        data: [shared.signal],
        yValues: (u, splits) => splits.map((v) => (v === 0 ? 'off' : v === 1 ? 'raised' : '')),
        ySplits: () => [0, 1],
      },
    ];

    let syncing = false;
    const syncX = (u, key) => {
      if (key !== 'x' || syncing) return;
      const { min, max } = u.scales.x;
      if (min === null || max === null) return;
      syncing = true;
      onRange(min <= shared.x0 && max >= shared.x1 ? null : [min, max]);
      for (const other of Object.values(report.charts)) {
        if (other !== u && (other.scales.x.min !== min || other.scales.x.max !== max)) {
          other.setScale('x', { min, max });
        }
      }
      syncing = false;
    };

    for (const spec of specs) {
      const holder = el('div', { class: 'panel', 'data-panel': spec.key });
      root.append(holder);
      const opts = {
        title: spec.title,
        width: widthOf(root),
        height: spec.height,
        cursor: { sync: { key: SYNC_KEY, setSeries: false }, drag: { x: true, y: false } },
        scales: {
          x: { time: false },
          y: spec.log ? { distr: 3 } : spec.range ? { range: spec.range } : { range: (u, lo, hi) => [Math.min(0, lo), hi > 0 ? hi * 1.05 : 1] },
        },
        axes: [
          { values: (u, splits) => splits.map(fmtTime), incrs: TIME_INCRS, space: 70 },
          Object.assign({ size: Y_AXIS_PX }, spec.yValues ? { values: spec.yValues } : {},
            spec.ySplits ? { splits: spec.ySplits } : {}, spec.axis || {}),
        ],
        series: [{ label: 'time', value: (u, v) => fmtTime(v) }].concat(spec.series.map((s) => {
          const c = Object.assign({}, s);
          delete c.data;
          return c;
        })),
        hooks: { setScale: [syncX], ready: [interactions(shared)], draw: spec.draw ? [spec.draw] : [] },
      };
      report.charts[spec.key] = new uPlot(opts, [shared.x].concat(spec.data), holder);
    }
  }

  // The shuffle tier, the codec and the envelope's overrides as coloured bands, one row each
  // (the oracle's tier and codec below when overlaid).
  function bandSpec(name, pc, oc, labels) {
    const guardName = (bits) => {
      const g = labels.guards.find(([bit]) => bits & bit);
      return g ? g[1] : null;
    };
    const rows = [
      { label: name + ' tier', data: pc.tier, color: (v) => C.tiers[labels.tiers[v]], text: (v) => labels.tiers[v] },
      { label: name + ' codec', data: pc.codec, color: (v) => C.codecs[labels.codecs[v]], text: (v) => labels.codecs[v] },
      { label: name + ' overrides', data: pc.guards,
        color: (v) => (v ? C.guards[guardName(v)] : C.none),
        text: (v) => (v ? labels.guards.filter(([bit]) => v & bit).map(([, g]) => g).join('+') : 'none') },
    ].concat(oc ? [
      { label: 'oracle tier', data: oc.tier, color: (v) => C.tiers[labels.tiers[v]], text: (v) => labels.tiers[v] },
      { label: 'oracle codec', data: oc.codec, color: (v) => C.codecs[labels.codecs[v]], text: (v) => labels.codecs[v] },
    ] : []);
    const k = rows.length;
    const short = (label) => label.replace(name + ' ', '');
    return {
      key: 'shuffle', title: 'Shuffle tier, codec and envelope overrides', height: 40 + 22 * k, range: [0, k],
      series: rows.map((r) => ({
        label: r.label, stroke: r.color(0) || '#999', width: 0, paths: () => null, points: { show: false },
        value: (u, v) => (v === null || v === undefined ? '–' : r.text(v)),
      })),
      data: rows.map((r) => r.data),
      ySplits: () => rows.map((_, i) => k - i - 0.5),
      yValues: (u, splits) => splits.map((s) => short(rows[k - 0.5 - s] ? rows[k - 0.5 - s].label : '')),
      axis: { grid: { show: false }, ticks: { show: false }, gap: 4 },
      draw: (u) => drawBands(u, rows),
    };
  }

  function drawBands(u, rows) {
    const ctx = u.ctx, xs = u.data[0], n = xs.length;
    const { left, top, width, height } = u.bbox;
    const rowH = height / rows.length;
    const min = u.scales.x.min, max = u.scales.x.max;
    // First visible point: binary search.
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < min) lo = mid + 1; else hi = mid;
    }
    const first = Math.max(0, lo - 1);
    const step = n > 1 ? xs[n - 1] - xs[n - 2] : 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    rows.forEach((r, k) => {
      const y = top + k * rowH + 1, h = rowH - 2;
      let i = first;
      while (i < n && xs[i] <= max) {
        const v = r.data[i];
        let j = i + 1;
        while (j < n && r.data[j] === v && xs[j] <= max) j++;
        if (v !== null && v !== undefined) {
          const x0 = u.valToPos(xs[i], 'x', true);
          const x1 = u.valToPos(j < n ? xs[j] : xs[n - 1] + step, 'x', true);
          ctx.fillStyle = r.color(v) || '#999';
          ctx.fillRect(x0, y, Math.max(1, x1 - x0), h);
        }
        i = j;
      }
    });
    ctx.restore();
  }

  // Zoom with ctrl- or alt-wheel around the pointer, pan with shift-drag (or the middle
  // button); every panel follows through the x-scale sync.
  function interactions(shared) {
    return (u) => {
      const clamp = (min, max) => {
        const span = Math.min(max - min, shared.x1 - shared.x0);
        if (min < shared.x0) { min = shared.x0; max = min + span; }
        if (max > shared.x1) { max = shared.x1; min = max - span; }
        return { min, max };
      };
      u.over.addEventListener('wheel', (e) => {
        if (!(e.ctrlKey || e.altKey || e.metaKey)) return;
        e.preventDefault();
        const { min, max } = u.scales.x;
        const at = u.posToVal(e.offsetX, 'x');
        const f = e.deltaY < 0 ? 0.75 : 1 / 0.75;
        const span = Math.max((max - min) * f, (shared.x1 - shared.x0) / 1e6);
        u.setScale('x', clamp(at - (at - min) * (span / (max - min)), at + (max - at) * (span / (max - min))));
      }, { passive: false });
      u.root.addEventListener('mousedown', (e) => {
        if (!(e.target === u.over && (e.shiftKey || e.button === 1))) return;
        e.preventDefault();
        e.stopPropagation();
        const startX = e.clientX, { min, max } = u.scales.x;
        const perPx = (max - min) / u.over.clientWidth;
        const move = (ev) => u.setScale('x', clamp(min - (ev.clientX - startX) * perPx, max - (ev.clientX - startX) * perPx));
        const up = () => {
          document.removeEventListener('mousemove', move);
          document.removeEventListener('mouseup', up);
        };
        document.addEventListener('mousemove', move);
        document.addEventListener('mouseup', up);
      }, true);
    };
  }

  try {
    main();
  } finally {
    // Drawn: uPlot paints on creation; one frame later the page is on screen.
    requestAnimationFrame(() => {
      report.renderMs = performance.now();
      report.ready = true;
      document.documentElement.setAttribute('data-ready', '1');
    });
  }
})();
