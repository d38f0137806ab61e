#!/usr/bin/env node
// report.html: file size and the time Chromium takes to open and draw it. Prints one JSON
// object. Targets (issue 13): the 20-seed seed tournament of every policy <= 5 MB, open
// and drawn in < 2 s.
//
//   node scripts/bench/report.mjs [--runs 5] [--build build] [--dense-steps 120000]
//                                 [--policies all]   (the seed-20 case's --policies)
//
// Cases:
//   seed-20  `prescale tournament --scenario seed --seeds 20 --out DIR` (all policies; the
//            timeline is the first seed's 500 steps per policy)
//   dense    `prescale tournament --trace nyc_taxi.csv --speedup 1 --steps N --seeds 1`,
//            four baselines (no oracle: its exact plan over 100,000+ steps takes minutes),
//            N points per series
// Each page is opened `runs` times, each in a fresh page of one headless Chromium
// (Debian's, via playwright-core from web/). open_ms: from page.goto() to the page's
// `ready` flag, seen from Node; render_ms: performance.now() when the page set `ready`,
// one animation frame after its charts were created (navigation start = 0). Medians and
// maxima over the runs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(repo, 'web/package.json'));
const { chromium } = require('playwright-core');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf('--' + name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('runs', 5));
const build = path.resolve(opt('build', path.join(repo, 'build')));
const denseSteps = Number(opt('dense-steps', 120000));
const policies = opt('policies', 'all');
const bin = path.join(build, 'prescale');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'prescale-bench-report-'));

const cases = [
  { name: 'seed-20', args: ['tournament', '--scenario', 'seed', '--seeds', '20', '--policies', policies] },
  {
    name: 'dense',
    args: ['tournament', '--trace', path.join(repo, 'data/traces/nab/realKnownCause/nyc_taxi.csv'),
      '--speedup', '1', '--steps', String(denseSteps), '--seeds', '1', '--policies', 'hpa,keda,ds2,phpa'],
  },
];

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (v) => Math.round(v * 10) / 10;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true, args: ['--no-sandbox'] });
const out = { bench: 'report', chromium: browser.version(), cpus: os.cpus().length,
  memory_gb: Math.round(os.totalmem() / 2 ** 30), date: new Date().toISOString().slice(0, 10), cases: [] };
try {
  for (const c of cases) {
    const dir = path.join(work, c.name);
    execFileSync(bin, [...c.args, '--out', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    const file = path.join(dir, 'report.html');
    const openMs = [], renderMs = [];
    let shape = null;
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      const t0 = performance.now();
      await page.goto(pathToFileURL(file).href);
      await page.waitForFunction(() => window.prescaleReport && window.prescaleReport.ready, null, { polling: 'raf', timeout: 60000 });
      openMs.push(performance.now() - t0);
      renderMs.push(await page.evaluate(() => window.prescaleReport.renderMs));
      shape ??= await page.evaluate(() => ({
        policies: window.prescaleReport.data.results.length,
        points_per_series: window.prescaleReport.data.timeline.points,
        charts: Object.keys(window.prescaleReport.charts).length,
      }));
      if (errors.length) throw new Error(`${c.name}: console errors: ${errors.join('; ')}`);
      await page.close();
    }
    out.cases.push({
      name: c.name,
      command: ['prescale', ...c.args.map((a) => a.replace(repo + '/', '')), '--out', 'DIR'].join(' '),
      ...shape,
      bytes: fs.statSync(file).size,
      mb: Math.round((fs.statSync(file).size / 1e6) * 100) / 100,
      runs,
      open_ms: { median: round(median(openMs)), max: round(Math.max(...openMs)) },
      render_ms: { median: round(median(renderMs)), max: round(Math.max(...renderMs)) },
    });
  }
} finally {
  await browser.close();
  fs.rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify(out, null, 2));
