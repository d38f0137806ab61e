// The controller's live dashboard (served at / by `prescale controller`, inlined by the
// build like uPlot: src/control/web_assets.h). It reads the controller's server-sent events
// from /events on its own origin (src/control/dashboard.h says what each carries):
//   config, status, tick (every tick), decision (the decision log), tier (occupancy polls).
// A page opened late gets the kept history first, then the live events; after a lost
// connection the browser reconnects and the history is sent again (so the page starts over).
//
// For tests and the curious, window.prescaleDashboard holds the state: config, status,
// ticks, decisions, tier, the uPlot charts by panel (load, signal, executors, latency,
// tier), connected, ready (the page has drawn at least once) and events (count received).
(function () {
  'use strict';

  const dash = (window.prescaleDashboard = {
    ready: false,
    connected: false,
    events: 0,
    config: null,
    status: null,
    ticks: [],
    decisions: [],
    tier: [],
    charts: {},
  });
  const app = document.getElementById('app');
  const C = {
    input: '#3b3b3b',
    processed: '#1f6fd1',
    forecast: '#e07b00',
    target: '#2a9d3a',
    live: '#1f6fd1',
    pending: '#f0a030',
    latency: '#1f6fd1',
    batch: '#8a8a8a',
    sla: '#d62728',
    gateways: ['#8e44ad', '#16a085', '#c0392b', '#2c3e50', '#d35400', '#7f8c8d'],
    tiers: { redis: '#d1495b', nvme: '#66a182', s3: '#2e86ab' },
  };
  const VERDICTS = ['accepted', 'unsigned', 'unknown_device', 'bad_signature', 'replayed', 'stale', 'future', 'malformed'];

  // ---- helpers ----------------------------------------------------------------------------

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
  const fmtNum = (v, d = 0) => (v === null || v === undefined ? '–' : Number(v).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  function fmtRate(v) {
    if (v === null || v === undefined) return '–';
    const a = Math.abs(v);
    if (a >= 1e6) return fmtNum(v / 1e6, 2) + 'M/s';
    if (a >= 1e4) return fmtNum(v / 1e3, 1) + 'k/s';
    return fmtNum(v, 0) + '/s';
  }
  function fmtMs(v) {
    if (v === null || v === undefined) return '–';
    return v >= 10000 ? fmtNum(v / 1000, 1) + ' s' : fmtNum(v, 0) + ' ms';
  }
  function fmtBytes(v) {
    if (v === null || v === undefined) return '–';
    const u = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
    return fmtNum(v, i ? 1 : 0) + ' ' + u[i];
  }
  const fmtClock = (ms) => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });

  // ---- state ------------------------------------------------------------------------------

  try {
    const doc = document.getElementById('page-data');
    if (doc) dash.config = JSON.parse(doc.textContent);
  } catch (e) {
    dash.config = null;
  }

  function reset() {
    dash.ticks = [];
    dash.decisions = [];
    dash.tier = [];
  }
  function history() { return (dash.config && dash.config.tick_history) || 720; }

  function on(type, fn) {
    source.addEventListener(type, (ev) => {
      dash.events++;
      let d;
      try {
        d = JSON.parse(ev.data);
      } catch (e) {
        console.warn('prescale dashboard: a ' + type + ' event that is not JSON was ignored');
        return;
      }
      fn(d);
      schedule();
    });
  }

  // ---- layout -----------------------------------------------------------------------------

  app.textContent = '';
  const statusBar = el('div', { class: 'status-bar', id: 'status' });
  const emptyNote = el('p', { class: 'notice empty', id: 'empty' });
  const cards = el('div', { class: 'cards', id: 'cards' });
  const sec = (id, title, intro) => el('section', { id }, el('h2', {}, title), intro ? el('p', { class: 'intro' }, intro) : null);
  const loadSec = sec('load', 'Input rate and the gateways\' forecasts',
    'The job\'s input and processed rates (its last batch, per tick), the sum of the fresh gateways\' forecasts (what the policy sees) and each gateway\'s own forecast; below, each gateway\'s burst signal.');
  const gwTable = el('div', { class: 'table-wrap', id: 'gateways' });
  const execSec = sec('executors', 'Target against live executors',
    'Target = what the controller commanded (scale_to); live = what the job reports serving; pending = commanded, not serving yet (cold starts).');
  const latSec = sec('latency', 'Batch latency against the SLA',
    'The latency the policy sees (the larger of the job\'s own measure and batch + backlog wait) and the batch duration; the red line is the SLA.');
  const logSec = sec('decisions', 'Decision log',
    'An entry when the target changes or an override starts or ends. Policy: the policy\'s own reason; envelope: the safety envelope\'s guard (floor, stabilise, dwell); controller: its scale-down stabilisation or a hold on stale metrics.');
  const logBody = el('div', { class: 'table-wrap' });
  const sigSec = sec('signals', 'Edge signals and job progress received',
    'Signals by verdict (only accepted ones reach the policy; every other verdict is a rejected signal), malformed messages, progress messages used and rejected, ticks held on stale metrics.');
  const sigBody = el('div', { class: 'table-wrap' });
  const tierSec = sec('tier', 'Tier store occupancy', null);
  const tierBody = el('div');
  logSec.append(logBody);
  sigSec.append(sigBody);
  tierSec.append(tierBody);
  const holders = {};
  for (const key of ['load', 'signal']) holders[key] = el('div', { class: 'panel', 'data-panel': key });
  loadSec.append(holders.load, holders.signal, el('h3', {}, 'Gateways'), gwTable);
  holders.executors = el('div', { class: 'panel', 'data-panel': 'executors' });
  execSec.append(holders.executors);
  holders.latency = el('div', { class: 'panel', 'data-panel': 'latency' });
  latSec.append(holders.latency);
  holders.tier = el('div', { class: 'panel', 'data-panel': 'tier' });
  app.append(statusBar, emptyNote, cards, loadSec, execSec, latSec, logSec, sigSec, tierSec);

  // ---- charts -----------------------------------------------------------------------------

  const stepped = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
  const widthOf = (node) => Math.max(360, (node.clientWidth || app.clientWidth || 1000) - 4);
  const line = (label, stroke, extra) => Object.assign({ label, stroke, width: 1.5, spanGaps: false,
    value: (u, v) => (v === null || v === undefined ? '–' : fmtNum(v, v < 10 ? 2 : 0)) }, extra || {});

  function makeChart(key, title, height, series, data, extra) {
    const holder = holders[key];
    holder.textContent = '';
    const opts = Object.assign({
      title,
      width: widthOf(holder.parentNode || app),
      height,
      cursor: { sync: { key: 'prescale-dashboard' } },
      scales: { x: { time: true }, y: { range: (u, lo, hi) => [Math.min(0, lo), hi > 0 ? hi * 1.08 : 1] } },
      axes: [{}, { size: 80 }],
      series: [{ label: 'time', value: (u, v) => (v === null ? '–' : fmtClock(v * 1000)) }].concat(series),
    }, extra || {});
    if (dash.charts[key]) dash.charts[key].destroy();
    dash.charts[key] = new uPlot(opts, data, holder);
    dash.charts[key].prescaleKey = series.map((s) => s.label).join('|');
  }

  // Charts are rebuilt when their series change (a new gateway); otherwise fed new data.
  function feed(key, title, height, series, data, extra) {
    const id = series.map((s) => s.label).join('|');
    const u = dash.charts[key];
    if (u && u.prescaleKey === id) u.setData(data);
    else makeChart(key, title, height, series, data, extra);
  }

  function devices() {
    const seen = [];
    for (const t of dash.ticks) for (const g of t.gateways || []) if (!seen.includes(g.device)) seen.push(g.device);
    return seen;
  }

  function drawCharts() {
    const t = dash.ticks;
    const x = t.map((r) => r.t_ms / 1000);
    const col = (f) => t.map(f);
    const gws = devices();
    const gwCol = (dev, f) => t.map((r) => {
      const g = (r.gateways || []).find((q) => q.device === dev);
      return g ? f(g) : null;
    });
    feed('load', 'Load (readings/s)', 200,
      [line('input', C.input), line('processed', C.processed),
        line('forecast (fresh gateways)', C.forecast, { dash: [6, 3] })]
        .concat(gws.map((d, i) => line(d + ' forecast', C.gateways[i % C.gateways.length], { width: 1 }))),
      [x, col((r) => (r.metrics_fresh ? r.input_rps : null)), col((r) => (r.metrics_fresh ? r.processed_rps : null)),
        col((r) => r.forecast_rps)].concat(gws.map((d) => gwCol(d, (g) => g.forecast_rps))));
    feed('signal', 'Burst signal', 110,
      [line('burst (any fresh gateway)', C.forecast, { paths: stepped, fill: 'rgba(224,123,0,0.22)',
        value: (u, v) => (v === null ? '–' : v ? 'BURST' : 'calm') })]
        .concat(gws.map((d, i) => line(d + ' burst', C.gateways[i % C.gateways.length], { paths: stepped, width: 1,
          value: (u, v) => (v === null ? '–' : v ? 'BURST' : 'calm') }))),
      [x, col((r) => (r.burst ? 1 : 0))].concat(gws.map((d) => gwCol(d, (g) => (g.burst ? 1 : 0)))),
      { scales: { x: { time: true }, y: { range: [0, 1.15] } },
        axes: [{}, { size: 80, splits: () => [0, 1], values: (u, s) => s.map((v) => (v === 1 ? 'burst' : v === 0 ? 'calm' : '')) }] });
    feed('executors', 'Executors', 200,
      [line('target', C.target, { paths: stepped, width: 2 }), line('live', C.live, { paths: stepped }),
        line('pending', C.pending, { paths: stepped, fill: 'rgba(240,160,48,0.18)' })],
      [x, col((r) => r.target), col((r) => (r.metrics_fresh ? r.active : null)), col((r) => r.pending)]);
    feed('latency', 'Batch latency (ms)', 200,
      [line('latency', C.latency), line('batch duration', C.batch, { width: 1 }), line('SLA', C.sla, { dash: [8, 4] })],
      [x, col((r) => (r.metrics_fresh ? r.latency_ms : null)), col((r) => (r.metrics_fresh ? r.batch_ms : null)),
        col((r) => r.sla_ms)]);
  }

  // ---- the parts around the charts ----------------------------------------------------------

  function pill(text, kind, id) { return el('span', { class: 'pill' + (kind ? ' ' + kind : ''), id }, text); }

  function drawStatus(last) {
    statusBar.textContent = '';
    statusBar.append(dash.connected ? pill('live', 'ok', 'conn') : pill('disconnected: reconnecting', 'bad', 'conn'));
    if (dash.status) {
      statusBar.append(dash.status.state === 'running' ? pill('Kafka: connected', 'ok')
        : pill('Kafka: ' + dash.status.state, 'warn'));
      // One controller per job: the lease holder commands; a standby only follows.
      if (dash.status.role) {
        statusBar.append(dash.status.role === 'active' ? pill('lease: ' + dash.status.lease, 'ok', 'role')
          : pill(dash.status.lease || 'standby', 'warn', 'role'));
      }
    }
    if (last) {
      statusBar.append(last.metrics_fresh ? pill('job metrics fresh', 'ok') : pill('job metrics stale: holding', 'warn'));
      statusBar.append(el('span', { class: 'legend-note', id: 'last-tick' }, 'last tick ' + fmtClock(last.t_ms) + ', seq ' + last.seq));
    }
  }

  // What the page says when there is nothing (or nothing trustworthy) to draw.
  function emptyText(last) {
    if (!dash.connected && !dash.ticks.length) {
      return 'Not connected to the controller (' + (location.protocol === 'file:' ? 'this page was opened from a file; open it from the controller\'s HTTP port' : 'reconnecting…') + '). No data yet.';
    }
    if (!dash.ticks.length) {
      if (dash.status && dash.status.state === 'connecting') {
        return 'No data yet: the controller is waiting for Kafka (' + dash.status.detail + '). It ticks once it can read the control plane.';
      }
      return 'No data yet: the controller has not ticked (the first tick comes ' + ((dash.config && dash.config.tick_ms) || '?') + ' ms after it subscribes).';
    }
    if (!dash.ticks.some((r) => r.metrics_fresh)) {
      return 'No progress from the job yet (topic ' + ((dash.config && dash.config.topics && dash.config.topics.metrics) || 'iot-metrics') +
        '): the controller holds the target at ' + last.target + ' executor(s) until the job reports.';
    }
    return '';
  }

  function card(id, label, value, note, kind) {
    return el('div', { class: 'card' + (kind ? ' ' + kind : ''), id: 'card-' + id, 'data-value': value },
      el('div', { class: 'label' }, label), el('div', { class: 'value' }, value), note ? el('div', { class: 'note' }, note) : null);
  }

  function drawCards(last) {
    cards.textContent = '';
    if (!last) return;
    const sla = last.sla_ms;
    cards.append(
      card('target', 'target executors', String(last.target), last.reason),
      card('live', 'live executors', last.metrics_fresh ? String(last.active) : '–', last.pending ? last.pending + ' pending' : null),
      card('input', 'input rate', last.metrics_fresh ? fmtRate(last.input_rps) : '–', 'processed ' + fmtRate(last.processed_rps)),
      card('latency', 'batch latency', last.metrics_fresh ? fmtMs(last.latency_ms) : '–', 'SLA ' + fmtMs(sla),
        last.metrics_fresh && last.latency_ms > sla ? 'bad' : null),
      card('signal', 'edge signal', last.burst ? 'BURST' : 'calm', 'forecast ' + fmtRate(last.forecast_rps), last.burst ? 'hot' : null),
      card('tier-cmd', 'shuffle tier', last.tier, null));
  }

  function drawGateways(last) {
    gwTable.textContent = '';
    const gws = (last && last.gateways) || [];
    if (!gws.length) {
      gwTable.append(el('p', { class: 'notice empty' }, 'No gateway has sent an accepted signal yet.'));
      return;
    }
    const head = el('tr', {}, ['gateway', 'signal', 'forecast', 'baseline', 'confidence', 'horizon', 'last signal'].map((h, i) => el('th', { class: i ? null : 'name' }, h)));
    const rows = gws.map((g) => el('tr', { 'data-device': g.device },
      el('td', { class: 'name' }, g.device),
      el('td', { class: g.burst ? 'yes' : null }, g.burst ? 'BURST' : 'calm'),
      el('td', {}, fmtRate(g.forecast_rps)), el('td', {}, fmtRate(g.baseline_rps)),
      el('td', {}, fmtNum(g.confidence, 2)), el('td', {}, fmtNum(g.horizon_s, 0) + ' s'),
      el('td', { class: g.fresh ? null : 'stale' }, fmtNum(g.age_s, 1) + ' s ago' + (g.fresh ? '' : ' (stale: ignored)'))));
    gwTable.append(el('table', { class: 'gateways' }, el('thead', {}, head), el('tbody', {}, rows)));
  }

  function drawLog() {
    logBody.textContent = '';
    if (!dash.decisions.length) {
      logBody.append(el('p', { class: 'notice empty' }, 'No decisions yet.'));
      return;
    }
    const head = el('tr', {}, el('th', { class: 'time' }, 'time'), el('th', {}, 'target'),
      el('th', { class: 'reason' }, 'policy'), el('th', { class: 'reason' }, 'envelope'), el('th', { class: 'reason' }, 'controller'));
    const rows = dash.decisions.slice().reverse().map((d) => el('tr', {},
      el('td', { class: 'time' }, fmtClock(d.t_ms)),
      el('td', {}, d.from === d.to ? String(d.to) : d.from + ' → ' + d.to),
      el('td', { class: 'reason' }, d.policy || '–'),
      el('td', { class: 'reason' }, d.envelope ? 'guard: ' + d.envelope : '–'),
      el('td', { class: 'reason' }, d.controller || '–')));
    logBody.append(el('table', { class: 'log', id: 'decision-log' }, el('thead', {}, head), el('tbody', {}, rows)));
  }

  function drawCounters(last) {
    sigBody.textContent = '';
    if (!last) return;
    const c = last.counters;
    const rejected = VERDICTS.filter((v) => v !== 'accepted').reduce((a, v) => a + (c.signals[v] || 0), 0);
    const rows = VERDICTS.map((v) => el('tr', { 'data-verdict': v }, el('td', { class: 'name' }, v === 'accepted' ? 'signals accepted' : 'rejected: ' + v.replace('_', ' ')),
      el('td', { class: v !== 'accepted' && c.signals[v] ? 'bad' : null }, fmtNum(c.signals[v] || 0))));
    rows.push(el('tr', { 'data-verdict': 'rejected' }, el('td', { class: 'name' }, 'rejected signals, total'), el('td', { class: rejected ? 'bad' : null }, fmtNum(rejected))));
    rows.push(el('tr', {}, el('td', { class: 'name' }, 'progress used'), el('td', {}, fmtNum(c.progress_accepted))));
    rows.push(el('tr', {}, el('td', { class: 'name' }, 'progress rejected'), el('td', { class: c.progress_rejected ? 'bad' : null }, fmtNum(c.progress_rejected))));
    rows.push(el('tr', {}, el('td', { class: 'name' }, 'ticks held (stale metrics)'), el('td', {}, fmtNum(c.holds) + ' of ' + fmtNum(c.ticks))));
    sigBody.append(el('table', { class: 'counters', id: 'counters' }, el('tbody', {}, rows)));
  }

  function drawTier() {
    tierBody.textContent = '';
    const url = dash.config && dash.config.tier_metrics_url;
    if (!url) {
      tierBody.append(el('p', { class: 'notice empty', id: 'tier-none' },
        'No tier server configured (set tier_metrics_url in the controller\'s configuration to its /metrics URL).'));
      return;
    }
    const last = dash.tier[dash.tier.length - 1];
    if (!last) {
      tierBody.append(el('p', { class: 'notice empty' }, 'Waiting for the first poll of ' + url + '.'));
      return;
    }
    if (!last.ok) {
      tierBody.append(el('p', { class: 'notice error', id: 'tier-error' }, 'The tier server at ' + url + ' did not answer with its metrics: ' + last.error + '.'));
    }
    const good = dash.tier.filter((v) => v.ok);
    const latest = good[good.length - 1];
    if (!latest) return;
    const total = latest.tiers.reduce((a, t) => a + (t.bytes || 0), 0);
    const rows = latest.tiers.map((t) => el('tr', { 'data-tier': t.tier }, el('td', { class: 'name' }, t.tier),
      el('td', {}, fmtNum(t.objects)), el('td', {}, fmtBytes(t.bytes)),
      el('td', {}, el('span', { class: 'meter-wrap' }, el('span', { class: 'meter', style: 'width:' + (total ? (100 * t.bytes) / total : 0).toFixed(1) + '%;background:' + (C.tiers[t.tier] || C.input) })))));
    tierBody.append(el('p', { class: 'legend-note' }, 'From ' + url + ' at ' + fmtClock(latest.t_ms) + (latest.burst ? '; burst mode ON (writes go to Redis)' : '')),
      el('table', { class: 'tiers', id: 'tier-table' }, el('thead', {}, el('tr', {}, el('th', { class: 'name' }, 'tier'), el('th', {}, 'objects'), el('th', {}, 'stored'), el('th', {}, 'share'))), el('tbody', {}, rows)),
      holders.tier);
    const names = latest.tiers.map((t) => t.tier);
    feed('tier', 'Stored bytes per tier', 170, names.map((n) => line(n, C.tiers[n] || C.input, { value: (u, v) => fmtBytes(v) })),
      [good.map((v) => v.t_ms / 1000)].concat(names.map((n) => good.map((v) => {
        const t = v.tiers.find((q) => q.tier === n);
        return t ? t.bytes : null;
      }))));
  }

  // ---- drawing ------------------------------------------------------------------------------

  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    // Not requestAnimationFrame: a background tab would stop updating altogether.
    setTimeout(render, 50);
  }

  function render() {
    pending = false;
    const last = dash.ticks[dash.ticks.length - 1] || null;
    drawStatus(last);
    const text = emptyText(last);
    emptyNote.textContent = text;
    emptyNote.hidden = !text;
    drawCards(last);
    drawGateways(last);
    drawCharts();
    drawLog();
    drawCounters(last);
    drawTier();
    document.getElementById('subtitle').textContent = dash.config
      ? 'live: policy ' + dash.config.policy + ', scenario ' + dash.config.scenario + ', context ' + dash.config.context +
        ', tick ' + dash.config.tick_ms + ' ms, executors [' + dash.config.min_executors + ', ' + dash.config.max_executors + '], SLA ' + fmtMs(dash.config.sla_ms)
      : 'live dashboard';
    dash.ready = true;
  }

  window.addEventListener('resize', () => {
    for (const [key, u] of Object.entries(dash.charts)) u.setSize({ width: widthOf(holders[key].parentNode || app), height: u.height });
  });

  // ---- the stream ---------------------------------------------------------------------------

  let source;
  try {
    source = new EventSource('events');
  } catch (e) {
    source = null;
  }
  if (source) {
    source.addEventListener('open', () => {
      dash.connected = true;
      reset(); // the server sends the kept history again on every connection
      schedule();
    });
    source.addEventListener('error', () => {
      dash.connected = false;
      schedule();
    });
    on('config', (d) => { dash.config = d; });
    on('status', (d) => { dash.status = d; });
    on('tick', (d) => {
      dash.ticks.push(d);
      if (dash.ticks.length > history()) dash.ticks.splice(0, dash.ticks.length - history());
    });
    on('decision', (d) => {
      dash.decisions.push(d);
      if (dash.decisions.length > 200) dash.decisions.splice(0, dash.decisions.length - 200);
    });
    on('tier', (d) => {
      dash.tier.push(d);
      if (dash.tier.length > 360) dash.tier.splice(0, dash.tier.length - 360);
    });
  }
  render();
})();
