// report.html in a real browser: Debian's Chromium, headless, driven by playwright-core
// (pinned in web/package.json). Run by CTest as `report_browser_test` (label integration);
// by hand:
//
//   PRESCALE_BIN=build/prescale PRESCALE_REPORT_FIXTURE=build/tests/report_fixture \
//     node --test tests/browser/report_test.mjs
//
// It runs `prescale tournament --seeds 2 --out` and a one-case `prescale traces --out`, and
// writes the bad-input and long-run pages with report_fixture; then it opens each page from
// file:// and checks what uPlot was given (window.prescaleReport.charts), the DOM, that
// nothing logged an error and that no request left the page. Screenshots go to
// $PRESCALE_SCREENSHOTS (default build/screenshots). Environment:
//   PRESCALE_BIN, PRESCALE_REPORT_FIXTURE  the binaries (default build/...)
//   PRESCALE_TEST_POLICIES   --policies for the tournament (default: all of them)
//   PRESCALE_TRACES_DIR      the development traces (default data/traces of the repository)
//   CHROMIUM                 the browser (default /usr/bin/chromium)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(repo, 'web/package.json'));
const { chromium } = require('playwright-core');

const env = process.env;
const bin = env.PRESCALE_BIN || path.join(repo, 'build/prescale');
const fixture = env.PRESCALE_REPORT_FIXTURE || path.join(repo, 'build/tests/report_fixture');
const work = env.PRESCALE_BROWSER_WORK || path.join(repo, 'build/tests/browser');
const shots = env.PRESCALE_SCREENSHOTS || path.join(repo, 'build/screenshots');
const tracesDir = env.PRESCALE_TRACES_DIR || path.join(repo, 'data/traces');
const browserPath = env.CHROMIUM || '/usr/bin/chromium';

const PANELS = ['load', 'executors', 'hold', 'latency', 'shuffle', 'signal'];
const GUARDS = ['override: floor', 'override: stabilise', 'override: dwell', 'override: shuffle'];

// The series each panel must draw for `policy`, with the oracle overlaid or not.
function expectedSeries(policy, overlay) {
  return {
    load: ['load', `${policy} processed`, ...(overlay ? ['oracle processed'] : [])],
    executors: [`${policy} active`, `${policy} pending`, `${policy} target`,
      ...(overlay ? ['oracle active'] : []), ...GUARDS],
    hold: [`${policy} window`],
    latency: [`${policy} latency`, ...(overlay ? ['oracle latency'] : []), 'SLA'],
    shuffle: [`${policy} tier`, `${policy} codec`, `${policy} overrides`,
      ...(overlay ? ['oracle tier', 'oracle codec'] : [])],
    signal: ['burst signal'],
  };
}

function prescale(args) {
  return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

let browser;

before(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  fs.mkdirSync(shots, { recursive: true });
  const policies = env.PRESCALE_TEST_POLICIES ? ['--policies', env.PRESCALE_TEST_POLICIES] : [];
  prescale(['tournament', '--scenario', 'seed', '--seeds', '2', ...policies, '--out', path.join(work, 'tournament')]);
  execFileSync(fixture, [path.join(work, 'fixture')]);
  browser = await chromium.launch({ executablePath: browserPath, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  if (browser) await browser.close();
});

// Opens a page from disk and waits until it has drawn. Every request other than the page
// itself (and pages it links to on disk, when `allowFiles`) is aborted and recorded;
// console errors and uncaught exceptions are recorded too.
async function open(file, { allowFiles = false, hash = '' } = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = { console: [], requests: [] };
  page.on('console', (m) => { if (m.type() === 'error') problems.console.push(m.text()); });
  page.on('pageerror', (e) => problems.console.push('uncaught: ' + e.message));
  const url = pathToFileURL(file).href;
  const allowed = (u) => u.split('#')[0] === url || (allowFiles && u.startsWith('file://'));
  page.on('request', (r) => { if (!allowed(r.url())) problems.requests.push(r.url()); });
  await page.route(/^(?!file:)/, (route) => route.abort()); // and nothing else may even try
  await page.goto(url + hash);
  await page.waitForFunction(() => window.prescaleReport && window.prescaleReport.ready, null, { timeout: 20000 });
  return { page, problems };
}

function assertClean(problems) {
  assert.deepEqual(problems.console, [], 'console errors');
  assert.deepEqual(problems.requests, [], 'network requests');
}

// What uPlot holds, panel by panel: series labels and, per series, its length and how
// many values are not null.
async function chartState(page) {
  return page.evaluate(() => {
    const out = {};
    for (const [key, u] of Object.entries(window.prescaleReport.charts)) {
      out[key] = {
        labels: u.series.slice(1).map((s) => s.label),
        lengths: u.data.map((d) => d.length),
        filled: u.data.slice(1).map((d) => d.filter((v) => v !== null && v !== undefined).length),
        x: [u.scales.x.min, u.scales.x.max],
      };
    }
    return out;
  });
}

describe('the tournament report (prescale tournament --seeds 2 --out)', () => {
  let page, problems, data;
  before(async () => {
    ({ page, problems } = await open(path.join(work, 'tournament/report.html')));
    data = await page.evaluate(() => window.prescaleReport.data);
  });
  after(async () => page && page.close());

  test('sits beside the CSVs and loads nothing from anywhere', async () => {
    for (const f of ['results.csv', 'timeline.csv', 'report.html']) {
      assert.ok(fs.existsSync(path.join(work, 'tournament', f)), f);
    }
    await page.screenshot({ path: path.join(shots, 'report-tournament.png'), fullPage: true });
    assertClean(problems);
  });

  test('draws every panel with the expected series for the first policy, the oracle overlaid', async () => {
    const policies = data.results.map((r) => r.policy);
    assert.ok(policies.includes('oracle'), 'the tournament has an oracle');
    const first = policies.find((p) => p !== 'oracle');
    const state = await chartState(page);
    assert.deepEqual(Object.keys(state).sort(), [...PANELS].sort());
    const want = expectedSeries(first, true);
    for (const panel of PANELS) {
      assert.deepEqual(state[panel].labels, want[panel], panel);
      // One value per step of the first seed in every series; the lines are not empty.
      for (const n of state[panel].lengths) assert.equal(n, data.run.steps, panel);
    }
    for (const panel of ['load', 'hold', 'latency', 'shuffle', 'signal']) {
      for (const f of state[panel].filled) assert.equal(f, data.run.steps, panel);
    }
    for (const f of state.executors.filled.slice(0, 4)) assert.equal(f, data.run.steps, 'executors');
  });

  test('draws every policy, with the oracle alone when it is selected', async () => {
    for (const policy of data.results.map((r) => r.policy)) {
      assert.equal(await page.evaluate((p) => window.prescaleReport.selectPolicy(p), policy), true, policy);
      const state = await chartState(page);
      const want = expectedSeries(policy, policy !== 'oracle');
      for (const panel of PANELS) assert.deepEqual(state[panel].labels, want[panel], `${policy}: ${panel}`);
      // Envelope overrides are marked where the timeline has guard bits, at the target.
      const tl = data.timeline.policies.find((p) => p.policy === policy);
      let guarded = 0;
      for (let k = 0; k < tl.guards.length; k += 2) if (tl.guards[k]) guarded += tl.guards[k + 1];
      const marked = state.executors.filled.slice(-3).reduce((a, b) => a + b, 0);
      assert.ok(marked >= guarded, `${policy}: ${marked} override marks for ${guarded} guarded steps`);
      // The scale-down window drawn is the timeline's: above 0 for a guarded policy (rl), 0 for
      // an unguarded one (hpa, the oracle).
      const drawn = await page.evaluate(() => window.prescaleReport.charts.hold.data[1]);
      assert.deepEqual(drawn.slice(0, tl.hold.length), tl.hold, `${policy}: window`);
      const held = Math.max(...tl.hold);
      if (policy === 'rl') assert.ok(held > 0, `rl: a scale-down window (${held} s)`);
      if (policy === 'hpa' || policy === 'oracle') assert.equal(held, 0, `${policy}: no envelope`);
    }
    assertClean(problems);
  });

  test('zooms every panel together', async () => {
    const step = data.run.step_s;
    await page.evaluate((r) => window.prescaleReport.charts.latency.setScale('x', { min: r[0], max: r[1] }), [100 * step, 200 * step]);
    const state = await chartState(page);
    for (const panel of PANELS) assert.deepEqual(state[panel].x, [100 * step, 200 * step], panel);
    await page.click('#zoom-reset');
    const reset = await chartState(page);
    for (const panel of PANELS) assert.deepEqual(reset[panel].x, [0, (data.run.steps - 1) * step], panel);
  });

  test('plots cost against violations with both intervals, the oracle marked, and the table', async () => {
    const points = await page.$$eval('svg.scatter g.point', (gs) => gs.map((g) => ({
      policy: g.getAttribute('data-policy'),
      errorBars: g.querySelectorAll('line.err').length,
      oracleMark: !!g.querySelector('path.oracle'),
    })));
    assert.deepEqual(points.map((p) => p.policy), data.results.map((r) => r.policy));
    for (const p of points) {
      assert.equal(p.errorBars, 2, p.policy);
      assert.equal(p.oracleMark, p.policy === 'oracle', p.policy);
    }
    const rows = await page.$$eval('table.results tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-policy')));
    assert.deepEqual(rows, data.results.map((r) => r.policy));
  });
});

describe('the traces report (prescale traces --out), one case', () => {
  const dir = path.join(work, 'traces');
  before(() => {
    prescale(['traces', '--dir', tracesDir, '--traces', 'nyc_taxi', '--speeds', 'compressed', '--seeds', '1',
      '--policy', 'ds2', '--compare', 'none', '--out', dir]);
  });

  test('lists the case and links to its timelines, which draw', async () => {
    const { page, problems } = await open(path.join(dir, 'report.html'), { allowFiles: true });
    const links = await page.$$eval('table.traces a.case-link', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, ['timelines/nyc_taxi-compressed.html']);
    await page.screenshot({ path: path.join(shots, 'report-traces.png'), fullPage: true });
    await Promise.all([page.waitForNavigation(), page.click('a.case-link')]);
    await page.waitForFunction(() => window.prescaleReport && window.prescaleReport.ready);
    const state = await chartState(page);
    assert.deepEqual(state.latency.labels, expectedSeries('hpa', true).latency);
    assert.equal(state.load.lengths[0], 10320);
    assert.equal(await page.getAttribute('a.back', 'href'), '../report.html');
    await page.screenshot({ path: path.join(shots, 'report-trace-case.png'), fullPage: true });
    assertClean(problems);
    await page.close();
  });
});

describe('bad input and long runs (report_fixture)', () => {
  const page_ = (name) => path.join(work, 'fixture', name, 'report.html');
  const text = (page) => page.evaluate(() => document.body.innerText);

  test('an empty run says it has no results and no timeline', async () => {
    const { page, problems } = await open(page_('empty'));
    const body = await text(page);
    assert.match(body, /no results: no policy ran/);
    assert.match(body, /No timeline: this run recorded no steps/);
    assert.equal(await page.$$eval('.u-wrap', (x) => x.length), 0);
    await page.screenshot({ path: path.join(shots, 'report-empty.png'), fullPage: true });
    assertClean(problems);
    await page.close();
  });

  test('a policy with no steps is named, and the others still draw', async () => {
    const { page, problems } = await open(page_('no-steps'));
    assert.match(await text(page), /hpa has no steps in this timeline/);
    assert.equal(await page.$eval('#policy-select option[value="hpa"]', (o) => o.disabled), true);
    const state = await chartState(page);
    assert.deepEqual(state.latency.labels, expectedSeries('oracle', false).latency);
    assert.equal(await page.evaluate(() => window.prescaleReport.selectPolicy('hpa')), false);
    await page.screenshot({ path: path.join(shots, 'report-no-steps.png'), fullPage: true });
    assertClean(problems);
    await page.close();
  });

  test('a traces run with no cases says so', async () => {
    const { page, problems } = await open(page_('no-cases'));
    assert.match(await text(page), /no cases: no trace was evaluated/);
    assertClean(problems);
    await page.close();
  });

  test('an ablation draws its phases as bars with their intervals', async () => {
    const { page, problems } = await open(page_('ablation'));
    const bars = await page.$$eval('svg.bar-chart', (charts) => charts.map((c) => ({
      metric: c.getAttribute('data-metric'),
      bars: [...c.querySelectorAll('g.bar')].map((g) => g.getAttribute('data-policy')),
      whiskers: c.querySelectorAll('g.bar line.err').length,
    })));
    assert.deepEqual(bars, ['sla_violation_pct', 'cost'].map((metric) => ({
      metric, bars: ['hpa', 'ds2', 'keda'], whiskers: 3 })));
    assert.equal(await page.$$eval('ol.phases li', (li) => li.length), 3);
    await page.screenshot({ path: path.join(shots, 'report-ablation.png'), fullPage: true });
    assertClean(problems);
    await page.close();
  });

  test('150,000 steps are drawn point for point', async () => {
    const { page, problems } = await open(page_('dense'));
    const state = await chartState(page);
    for (const panel of PANELS) for (const n of state[panel].lengths) assert.equal(n, 150000, panel);
    assert.equal(await page.$$eval('p.notice.decimated', (x) => x.length), 0);
    await page.screenshot({ path: path.join(shots, 'report-dense.png') });
    assertClean(problems);
    await page.close();
  });

  test('300,000 steps are decimated to at most 200,000 points, and the page says so', async () => {
    const { page, problems } = await open(page_('long'));
    const state = await chartState(page);
    for (const panel of PANELS) for (const n of state[panel].lengths) assert.ok(n <= 200000 && n >= 150000, `${panel}: ${n}`);
    assert.match(await text(page), /each bucket of 3 steps is drawn as two points/);
    // A 300-step burst every 5,000 steps: the latency spikes survive decimation.
    const peak = await page.evaluate(() => window.prescaleReport.charts.latency.data[1].reduce((a, v) => Math.max(a, v ?? 0), 0));
    assert.ok(peak > 5000, `latency peak ${peak}`);
    await page.screenshot({ path: path.join(shots, 'report-long.png') });
    assertClean(problems);
    await page.close();
  });
});
