// The controller's live dashboard and the race report in a real browser: Debian's Chromium,
// headless, driven by playwright-core (pinned in web/package.json). Run by CTest as
// `dashboard_browser_test` (label integration); by hand:
//
//   PRESCALE_BIN=build/prescale PRESCALE_LIVE_FIXTURE=build/tests/live_fixture \
//     node --test tests/browser/dashboard_test.mjs
//
// It starts a Kafka broker on free loopback ports (scripts/stack/kafka.sh, like
// tests/stack_fixture.h), a real tier server (`prescale tier serve`, a directory tier) and
// `prescale controller` (policy hpa, a 500 ms tick, a 1 s HPA sync) with its dashboard on a
// free port; opens http://127.0.0.1:PORT/ before the job has said anything (the page must
// say there is no data), then publishes a gateway's signed burst signal, a forged one and
// the job's progress at 95% busy (live_fixture), and requires the page to show the new
// target within 10 s of the first progress. It also opens live_fixture's race reports from
// disk. Every page must log no console error and load nothing from anywhere else.
// Screenshots go to $PRESCALE_SCREENSHOTS (default build/screenshots). Environment:
//   PRESCALE_BIN, PRESCALE_LIVE_FIXTURE   the binaries (default build/...)
//   PRESCALE_BROWSER_WORK                 scratch directory (default build/tests/browser-live)
//   CHROMIUM                              the browser (default /usr/bin/chromium)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(repo, 'web/package.json'));
const { chromium } = require('playwright-core');

const env = process.env;
const bin = env.PRESCALE_BIN || path.join(repo, 'build/prescale');
const fixture = env.PRESCALE_LIVE_FIXTURE || path.join(repo, 'build/tests/live_fixture');
const work = env.PRESCALE_BROWSER_WORK || path.join(repo, 'build/tests/browser-live');
const shots = env.PRESCALE_SCREENSHOTS || path.join(repo, 'build/screenshots');
const browserPath = env.CHROMIUM || '/usr/bin/chromium';
const KEY = 'b'.repeat(64);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await sleep(100);
  }
}

let kafkaEnv, browser, brokers, httpPort, tierPort;
const children = [];

function child(name, args) {
  const out = fs.openSync(path.join(work, name + '.log'), 'w');
  const c = spawn(args[0], args.slice(1), { stdio: ['ignore', out, out] });
  children.push(c);
  return c;
}
const log = (name) => fs.readFileSync(path.join(work, name + '.log'), 'utf8');

function fixtureRun(...args) {
  execFileSync(fixture, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 });
}

before(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  fs.mkdirSync(shots, { recursive: true });
  const kafkaPort = await freePort();
  kafkaEnv = Object.assign({}, process.env, {
    PRESCALE_RUN_DIR: path.join(work, 'stack'),
    KAFKA_PORT: String(kafkaPort),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
    PRESCALE_PROGRESS: 'never',
  });
  brokers = '127.0.0.1:' + kafkaPort;
  execFileSync('bash', [path.join(repo, 'scripts/stack/kafka.sh'), 'start'], { env: kafkaEnv, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300000 });

  // A real tier server with a directory tier, holding a few objects.
  tierPort = await freePort();
  const tierDir = path.join(work, 'tier');
  fs.mkdirSync(tierDir, { recursive: true });
  fs.writeFileSync(path.join(tierDir, 'tier.yaml'), `catalog: catalog.db\nport: ${tierPort}\ntick_ms: 200\nnvme:\n  dir: nvme\n`);
  child('tier', [bin, 'tier', 'serve', '--config', path.join(tierDir, 'tier.yaml')]);
  await until('the tier server', async () => {
    try {
      return (await fetch(`http://127.0.0.1:${tierPort}/healthz`)).ok;
    } catch (e) {
      return false;
    }
  }, 20000);
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`http://127.0.0.1:${tierPort}/objects/agg/${i}`, { method: 'PUT', body: 'x'.repeat(1000 * (i + 1)) });
    assert.equal(r.status, 204);
  }

  // The controller: hpa (the policy does not matter here) with a 1 s sync on a 500 ms tick.
  fs.writeFileSync(path.join(work, 'keys.txt'), `gw-1 ${KEY}\n`);
  fs.writeFileSync(path.join(work, 'scenario.yaml'), 'name: dashboard-test\npolicies:\n  hpa: {sync_period_s: 1}\n');
  httpPort = await freePort();
  fs.writeFileSync(path.join(work, 'controller.yaml'), [
    'policy: hpa', `scenario: ${path.join(work, 'scenario.yaml')}`, 'tick_ms: 500', 'min_executors: 1',
    'max_executors: 8', 'initial_executors: 2', 'metrics_stale_ms: 3000', 'scale_down_stabilization_ms: 0',
    'trigger_ms: 1000', `keys_file: ${path.join(work, 'keys.txt')}`,
    `tier_metrics_url: http://127.0.0.1:${tierPort}/metrics`,
    `http: {port: ${httpPort}}`, 'kafka:', `  bootstrap.servers: ${brokers}`, ''].join('\n'));
  child('controller', [bin, 'controller', '--config', path.join(work, 'controller.yaml')]);
  await until('the controller to subscribe', () => log('controller').includes('commanding iot-control'), 60000);

  fixtureRun('race-pages', path.join(work, 'pages'));
  browser = await chromium.launch({ executablePath: browserPath, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  if (browser) await browser.close();
  for (const c of children) {
    if (c.exitCode === null) {
      c.kill('SIGTERM');
      await Promise.race([new Promise((r) => c.once('exit', r)), sleep(15000)]);
    }
  }
  if (kafkaEnv) execFileSync('bash', [path.join(repo, 'scripts/stack/kafka.sh'), 'stop'], { env: kafkaEnv, stdio: 'ignore' });
});

// Opens a page; any request to another origin (or, for a file, any other file) is aborted
// and recorded, as are console errors and uncaught exceptions.
async function open(url, ready) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = { console: [], requests: [] };
  page.on('console', (m) => { if (m.type() === 'error') problems.console.push(m.text()); });
  page.on('pageerror', (e) => problems.console.push('uncaught: ' + e.message));
  const origin = new URL(url).origin;
  const allowed = (u) => (url.startsWith('file:') ? u.split('#')[0] === url : new URL(u).origin === origin);
  page.on('request', (r) => { if (!allowed(r.url())) problems.requests.push(r.url()); });
  await page.route((u) => !allowed(u.href), (route) => route.abort());
  await page.goto(url);
  await page.waitForFunction(ready, null, { timeout: 20000 });
  return { page, problems };
}

function assertClean(problems) {
  assert.deepEqual(problems.console, [], 'console errors');
  assert.deepEqual(problems.requests, [], 'requests to anywhere else');
}

const dashReady = () => window.prescaleDashboard && window.prescaleDashboard.ready && window.prescaleDashboard.connected;
const text = (page, sel) => page.$eval(sel, (e) => e.textContent);

describe('the live dashboard (prescale controller, GET /)', () => {
  let page, problems, dashboard;
  before(async () => {
    dashboard = `http://127.0.0.1:${httpPort}/`;
    ({ page, problems } = await open(dashboard, dashReady));
  });
  after(async () => page && page.close());

  test('without progress from the job, the page says there is no data and what the controller does', async () => {
    // Connected with two ticks, and rendered: on a loaded machine the hub may drop a page that
    // falls behind, which then reconnects (2 s) and gets the history again.
    await page.waitForFunction(
      () => window.prescaleDashboard.connected && window.prescaleDashboard.ticks.length >= 2 &&
        /No progress from the job yet/.test(document.querySelector('#empty').textContent),
      null, { timeout: 15000 });
    const empty = await page.$eval('#empty', (e) => (e.hidden ? '' : e.textContent));
    assert.match(empty, /No progress from the job yet .*holds the target at 2 executor/);
    assert.equal(await page.$eval('#card-target', (e) => e.dataset.value), '2');
    assert.equal(await page.$eval('#card-live .value', (e) => e.textContent), '–');
    assert.match(await text(page, '#gateways'), /No gateway has sent an accepted signal yet/);
    // The decision log already has the first tick, a hold.
    assert.match(await text(page, '#decision-log'), /hold: (waiting for the job's first metrics|no metrics from the job since start)/);
    await page.screenshot({ path: path.join(shots, 'dashboard-empty.png'), fullPage: true });
  });

  test('shows the target change within 10 s of the job reporting load, with its reason', async () => {
    fixtureRun('signal', brokers, 'gw-1', KEY, '1', '5000');
    fixtureRun('signal', brokers, 'gw-1', KEY, '1', '5000', 'forged');
    const t0 = Date.now();
    child('feeder', [fixture, 'progress', brokers, '3000', '950', '2', '25']); // 95% busy on 2
    await page.waitForFunction(() => document.querySelector('#card-target').dataset.value !== '2', null, { timeout: 10000 });
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds <= 10, `the target changed on the page after ${seconds} s`);
    const target = Number(await page.$eval('#card-target', (e) => e.dataset.value));
    assert.ok(target > 2 && target <= 8, 'target ' + target);
    // The page comes to agree with the controller's own /metrics (the next tick at most).
    const metrics = await (await fetch(dashboard + 'metrics')).text();
    const served = metrics.match(/^prescale_controller_executors_target (\d+)$/m)[1];
    await page.waitForFunction((v) => document.querySelector('#card-target').dataset.value === v, served, { timeout: 3000 });
    // The decision log names the change and the policy's reason.
    const logText = await text(page, '#decision-log');
    assert.match(logText, new RegExp(`2 → ${target}`));
    assert.match(logText, /hpa: cpu above target/);
    // The gateway's signal, and the forged one counted as rejected.
    await page.waitForFunction(() => document.querySelector('#gateways tr[data-device="gw-1"]'), null, { timeout: 10000 });
    assert.match(await text(page, '#gateways tr[data-device="gw-1"]'), /BURST/);
    assert.equal(await page.$eval('#card-signal .value', (e) => e.textContent), 'BURST');
    assert.equal(await page.$eval('#counters tr[data-verdict="accepted"] td:last-child', (e) => e.textContent), '1');
    assert.equal(await page.$eval('#counters tr[data-verdict="bad_signature"] td:last-child', (e) => e.textContent), '1');
    // The charts hold what the ticks said. Read once a render has caught up: a tick that arrives
    // is drawn 50 ms later, so a snapshot taken in between has one tick more than the charts.
    const charts = await (await page.waitForFunction(() => {
      const d = window.prescaleDashboard;
      if (!d.charts.executors || d.charts.executors.data[0].length !== d.ticks.length) return null;
      const out = { card: Number(document.querySelector('#card-target').dataset.value) };
      for (const [k, u] of Object.entries(d.charts)) out[k] = { labels: u.series.slice(1).map((s) => s.label), n: u.data[0].length, last: u.data.map((c) => c[c.length - 1]) };
      out.ticks = d.ticks.length;
      return out;
    }, null, { timeout: 5000 })).jsonValue();
    assert.deepEqual(charts.executors.labels, ['target', 'live', 'pending']);
    // (charts.executors.n === charts.ticks is the wait's own condition: a chart that never
    // catches up with the ticks fails there, on the 5 s timeout.)
    assert.equal(charts.executors.last[1], charts.card); // the target series ends where the card is
    assert.deepEqual(charts.load.labels, ['input', 'processed', 'forecast (fresh gateways)', 'gw-1 forecast']);
    assert.equal(charts.load.last[1], 3000);
    assert.deepEqual(charts.latency.labels, ['latency', 'batch duration', 'SLA']);
    assert.equal(await page.$eval('#empty', (e) => e.hidden), true);
    await page.screenshot({ path: path.join(shots, 'dashboard.png'), fullPage: true });
  });

  test('shows the tier server\'s occupancy per tier', async () => {
    await page.waitForFunction(() => document.querySelector('#tier-table tr[data-tier="nvme"]'), null, { timeout: 10000 });
    const row = await text(page, '#tier-table tr[data-tier="nvme"]');
    assert.match(row, /^nvme3/); // 3 objects
    const u = await page.evaluate(() => window.prescaleDashboard.charts.tier.series.slice(1).map((s) => s.label));
    assert.deepEqual(u, ['nvme']);
  });

  test('a page opened later gets the history, and nothing talked to anywhere else', async () => {
    const late = await open(dashboard, dashReady);
    try {
      await late.page.waitForFunction(() => window.prescaleDashboard.ticks.length > 10, null, { timeout: 10000 });
      const seen = await late.page.evaluate(() => window.prescaleDashboard.ticks.map((t) => t.target));
      assert.equal(seen[0], 2, 'the history starts before the change');
      assert.ok(seen[seen.length - 1] > 2);
      assert.ok((await late.page.evaluate(() => window.prescaleDashboard.decisions.length)) >= 2);
      assertClean(late.problems);
    } finally {
      await late.page.close();
    }
    assertClean(problems);
  });
});

describe('a controller that cannot reach Kafka', () => {
  test('serves a page that says there is no data yet and why', async () => {
    const port = await freePort();
    const dead = '127.0.0.1:' + (await freePort());
    fs.writeFileSync(path.join(work, 'dead.yaml'), fs.readFileSync(path.join(work, 'controller.yaml'), 'utf8')
      .replace(/port: \d+/, `port: ${port}`).replace(/bootstrap.servers: .*/, `bootstrap.servers: ${dead}`)
      .replace(/tier_metrics_url: .*\n/, ''));
    child('dead', [bin, 'controller', '--config', path.join(work, 'dead.yaml')]);
    await until('the dead-broker controller to retry', () => log('dead').includes('retrying in'), 20000);
    const { page, problems } = await open(`http://127.0.0.1:${port}/`, dashReady);
    await page.waitForFunction(() => window.prescaleDashboard.status, null, { timeout: 10000 });
    await page.waitForFunction(() => !document.querySelector('#empty').hidden && /waiting for Kafka/.test(document.querySelector('#empty').textContent), null, { timeout: 10000 });
    assert.match(await text(page, '#empty'), /No data yet: the controller is waiting for Kafka/);
    assert.match(await text(page, '#tier'), /No tier server configured/);
    assert.equal(await page.$$eval('#cards .card', (c) => c.length), 0);
    await page.screenshot({ path: path.join(shots, 'dashboard-no-kafka.png'), fullPage: true });
    assertClean(problems);
    await page.close();
  });
});

describe('the race report (prescale race --report; live_fixture race-pages)', () => {
  const file = (name) => pathToFileURL(path.join(work, 'pages', name, 'report.html')).href;
  const raceReady = () => window.prescaleRace && window.prescaleRace.ready;

  test('draws both policies\' runs on every panel, with the summary and the commands', async () => {
    const { page, problems } = await open(file('race'), raceReady);
    const charts = await page.evaluate(() => {
      const out = {};
      for (const [k, u] of Object.entries(window.prescaleRace.charts)) {
        out[k] = { labels: u.series.slice(1).map((s) => s.label), filled: u.data.slice(1).map((d) => d.filter((v) => v !== null).length) };
      }
      return out;
    });
    assert.deepEqual(charts.load.labels, ['rl input', 'rl forecast', 'hpa input', 'hpa forecast']);
    assert.deepEqual(charts.executors.labels, ['rl live', 'rl target', 'hpa live', 'hpa target']);
    assert.deepEqual(charts.latency.labels, ['rl latency', 'hpa latency', 'SLA']);
    assert.deepEqual(charts.signal.labels, ['rl signal', 'hpa signal']);
    assert.equal(charts.load.filled[0], 30); // one point per batch
    assert.equal(charts.latency.filled[1], 30);
    for (const f of charts.executors.filled) assert.ok(f > 290);
    assert.equal(await page.$$eval('#summary tbody tr', (r) => r.length), 2);
    assert.match(await text(page, '#commands'), /scale-down stabilised at 1/);
    await page.screenshot({ path: path.join(shots, 'race.png'), fullPage: true });
    assertClean(problems);
    await page.close();
  });

  test('with the arena\'s side: the error figures and live vs arena on one chart per policy', async () => {
    const { page, problems } = await open(file('race-validation'), raceReady);
    const charts = await page.evaluate(() => {
      const out = {};
      for (const [k, u] of Object.entries(window.prescaleRace.validation || {})) {
        out[k] = { labels: u.series.slice(1).map((s) => s.label), filled: u.data.slice(1).map((d) => d.filter((v) => v !== null).length) };
      }
      return out;
    });
    assert.deepEqual(Object.keys(charts), ['rl', 'hpa']);
    assert.deepEqual(charts.rl.labels, ['live executors', 'arena executors', 'live latency', 'arena latency', 'SLA']);
    assert.ok(charts.rl.filled[0] > 290); // Spark's samples, every 0.5 s
    assert.ok(charts.rl.filled[1] > 290); // the arena's steps, carried forward
    assert.equal(charts.rl.filled[2], 30); // the job's batches
    assert.equal(charts.rl.filled[3], 30); // the arena's, one per trigger
    assert.equal(await page.$$eval('#validation-table tbody tr', (r) => r.length), 2);
    assert.match(await text(page, '#validation'), /0\.13/);
    assert.match(await text(page, '#validation'), /Ranking: live rl < hpa, arena rl < hpa \(the same\)/);
    assert.equal(await page.evaluate(() => Object.keys(window.prescaleRace.charts).length), 4); // the run's panels too
    await page.screenshot({ path: path.join(shots, 'race-validation.png'), fullPage: true });
    assertClean(problems);
    await page.close();
  });

  test('no runs, or a run that recorded nothing, give a page that says so', async () => {
    let { page, problems } = await open(file('race-empty'), raceReady);
    assert.match(await text(page, '#app'), /No runs: the race stopped before any policy finished/);
    await page.screenshot({ path: path.join(shots, 'race-empty.png'), fullPage: true });
    assertClean(problems);
    await page.close();
    ({ page, problems } = await open(file('race-no-batches'), raceReady));
    assert.match(await text(page, '#timeline'), /hpa: this run recorded no batches and no executor samples/);
    assert.match(await text(page, '#commands'), /No command seen during this run/);
    assertClean(problems);
    await page.close();
  });
});
