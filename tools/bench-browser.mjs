#!/usr/bin/env node
// bench-browser.mjs — ms per training step in headless Chromium (the demo page, real engine) beside the native CLI,
// measured in one run on the same model, sentences, batches and seed:
//   page, threads + SIMD build, 1 and 2 threads (COOP/COEP served)
//   page, single-thread SIMD build (no isolation headers, service worker off: what a plain static host gives)
//   native `dissipate train --kernels simd128` (the same arithmetic as wasm) and `--kernels avx2`, 1 and 2 threads
// The configurations run in --rounds rounds, in turns (each round: every native run, then every page run, the page's
// 1- and 2-thread runs in alternating order), so that a slow spell of this shared machine falls on all of them rather
// than on one. Each figure is over all rounds: the median of the steps' own `ms` (the engine's step time, as the CLI
// logs it; each run's first step left out) and the fastest step per 1000 tokens: this shared machine has slow spells
// that move medians by 20%, while the fastest step (the same batches on every side: one seed) is what the code
// itself costs. Ratios use both.
// For the page it also prints how busy the page's own thread was while training (Chrome's TaskDuration over the
// wall time), and (on Linux) the CPU the whole browser spent outside the engine's Web Workers, in cores: on two
// cores that work takes its time from one of the engine's threads in a 2-thread run, from the idle core in a
// 1-thread run.
// With --full it also times the scenario on the page: InfoNCE vs alignment + uniformity, 1000 steps, STS-B dev
// every 50, batch 64 (--full-batch N: another batch, e.g. the page's default 32), 2 threads — wall time from Start
// to done, and from Start to the first chart point.
//
// usage: node tools/bench-browser.mjs [--native build/dissipate] [--site site] [--steps 20] [--rounds 3]
//                                     [--full [--full-batch N]]
// Needs the built site (tools/build-wasm.sh, node tools/build-site.mjs), Chromium and playwright-core.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { browserCpu } from './browser-cpu.mjs';
import { requirePrerequisites, startServer, launchBrowser, openLab, trainToDone, records, waitFor, REPO } from '../tests/browser/lib.mjs';

const USAGE = `usage: node tools/bench-browser.mjs [--native PATH] [--site DIR] [--steps N] [--rounds N] [--full [--full-batch N]]
  --native PATH     the native dissipate CLI timed beside the page (default: build/dissipate)
  --site DIR        the built site (default: site; node tools/build-site.mjs makes it)
  --steps N         steps per run, at least 2: the first is left out of the timing (default 20)
  --rounds N        rounds over all configurations, taken in turns; figures are over all rounds (default 3)
  --full            also the 1000-step InfoNCE vs alignment + uniformity scenario on the page (minutes)
  --full-batch N    that scenario's batch, at least 2 (default 64)
Environment: DSP_CHROMIUM (default /usr/bin/chromium).`;
// Every argument is checked before Chromium starts: an unknown one (a typo, or --help among others) must not
// start a benchmark of many minutes, and a bad count must not fail only after all the runs.
function usageError(msg) {
  console.error(`bench-browser: ${msg}\n${USAGE}`);
  process.exit(2);
}
const VALUED = ['native', 'site', 'steps', 'rounds', 'full-batch'];
const given = { full: false, help: false };
for (const args = process.argv.slice(2); args.length;) {
  const a = args.shift();
  const name = a.startsWith('--') ? a.slice(2) : null;
  if (a === '-h' || name === 'help') given.help = true;
  else if (name === 'full') given.full = true;
  else if (VALUED.includes(name)) {
    const v = args.shift();
    if (v === undefined || v.startsWith('--')) usageError(`${a} needs a value`);
    given[name] = v;
  } else usageError(`unknown argument '${a}'`);
}
if (given.help) {
  console.log(USAGE);
  process.exit(0);
}
const count = (name, dflt, min) => {
  const text = given[name] ?? dflt, n = Number(text);
  if (!Number.isInteger(n) || n < min) usageError(`--${name} ${text}: expected a whole number >= ${min}`);
  return n;
};
const opts = { site: path.resolve(given.site ?? path.join(REPO, 'site')), chromium: process.env.DSP_CHROMIUM || '/usr/bin/chromium' };
const native = path.resolve(given.native ?? path.join(REPO, 'build/dissipate'));
const STEPS = count('steps', '20', 2); // step 1 is left out of the timing: 2 leaves one timed step
const ROUNDS = count('rounds', '3', 1);
const FULL = given.full;
const FULL_BATCH = count('full-batch', '64', 2);
if (!fs.existsSync(native)) usageError(`--native ${native}: no such file (build it, or pass --native PATH)`);
const BATCH = 64, SEED = 3, MAXLEN = 32;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
// runs: the step records of each round's run of one configuration; each run's first step is left out
const stepMs = (runs) => {
  const timed = runs.flatMap((steps) => steps.slice(1));
  return { ms: median(timed.map((s) => s.ms)), best: Math.min(...timed.map((s) => (1000 * s.ms) / s.tokens)) };
};
const hash = (threads, extra = '') =>
  `#r1=infonce&batch=${BATCH}&steps=${STEPS}&eval=1000&seed=${SEED}&threads=${threads}&maxlen=${MAXLEN}&lr=1e-4${extra}`;

function nativeMs(kernels, threads) {
  const manifest = JSON.parse(fs.readFileSync(path.join(opts.site, 'manifest.json'), 'utf8'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-bench-'));
  const log = path.join(tmp, 'run.jsonl');
  const r = spawnSync(native, ['train', '--model', path.join(opts.site, 'model'),
    '--corpus', ...manifest.corpus.map((c) => path.join(opts.site, c.path)), '--objective', 'infonce',
    '--steps', String(STEPS), '--batch', String(BATCH), '--max-len', String(MAXLEN), '--lr', '1e-4', '--seed', String(SEED),
    '--threads', String(threads), '--kernels', kernels, '--log', log, '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`native run failed: ${r.stderr}`);
  const steps = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'step');
  fs.rmSync(tmp, { recursive: true, force: true });
  return { steps };
}

async function pageMs(pw, isolation, threads, query) {
  const server = await startServer(opts.site, { isolation });
  const browser = await launchBrowser(pw, opts);
  try {
    const { page } = await openLab(browser.context, `${server.url}index.html${query}${hash(threads)}`);
    const info = await page.evaluate(() => window.dissipate.info);
    // how busy the page's own thread is while the engine trains (its work competes with the engine's threads)
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const busy = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
    const [b0, t0, c0] = [await busy(), Date.now(), browserCpu(browser.dir)];
    await trainToDone(page);
    const wall = (Date.now() - t0) / 1000, c1 = browserCpu(browser.dir);
    const pageBusy = await busy() - b0; // seconds, as the others
    const other = c0 && c1 ? c1.other - c0.other : null;
    const runs = await records(page);
    return { steps: runs[0].steps, variant: info.variant, threads: info.threads, busy: pageBusy, other, wall };
  } finally {
    await browser.close();
    server.close();
  }
}

async function fullRun(pw) {
  const server = await startServer(opts.site, { isolation: true });
  const browser = await launchBrowser(pw, opts);
  try {
    const { page } = await openLab(browser.context,
      `${server.url}index.html#r1=infonce&r2=au&batch=${FULL_BATCH}&steps=1000&eval=50&seed=${SEED}&threads=2&maxlen=32&lr=1e-4`);
    const t0 = Date.now();
    await page.click('#start');
    await waitFor(page, () => Object.values(window.dissipate.pointCounts()).some((n) => n > 0), null,
      { timeout: 60000, what: 'the first chart point' });
    const first = (Date.now() - t0) / 1000;
    await waitFor(page, () => ['done', 'error'].includes(window.dissipate.state), null, { timeout: 1800000, what: 'the run' });
    return { first, total: (Date.now() - t0) / 1000, state: await page.evaluate(() => window.dissipate.state) };
  } finally {
    await browser.close();
    server.close();
  }
}

const pw = await requirePrerequisites(opts);
console.log(`training step, InfoNCE, batch ${BATCH} x 2 views, max length ${MAXLEN}, ${STEPS} steps (of which ${STEPS - 1} timed) ` +
  `per run, ${ROUNDS} round(s) taken in turns; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
// name, threads, runner. The page's rows are named by the build its loader chose (with 1 thread requested it picks
// the single-thread build even when isolated) and whether the isolation headers were served.
const configs = [
  ['native simd128', 1, () => nativeMs('simd128', 1)], ['native simd128', 2, () => nativeMs('simd128', 2)],
  ['native avx2', 1, () => nativeMs('avx2', 1)], ['native avx2', 2, () => nativeMs('avx2', 2)],
  ['', 1, () => pageMs(pw, true, 1, '')], ['', 2, () => pageMs(pw, true, 2, '')],
  [', no headers', 1, () => pageMs(pw, false, 1, '?coi=0')],
];
const results = configs.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  const order = configs.map((_, i) => i);
  if (r % 2) [order[4], order[5]] = [order[5], order[4]]; // the page's 1- and 2-thread runs: each goes first in turn
  for (const i of order) results[i].push(await configs[i][2]());
}
const sum = (xs, key) => xs.reduce((a, x) => a + x[key], 0);
const rows = configs.map(([name, threads], i) => {
  const runs = results[i], first = runs[0];
  const row = { name: first.variant ? `Chromium ${first.variant}${name}` : name, threads: first.threads ?? threads,
                ...stepMs(runs.map((x) => x.steps)) };
  if (first.variant) {
    row.pageBusy = sum(runs, 'busy') / sum(runs, 'wall');
    row.otherCores = runs.every((x) => Number.isFinite(x.other)) ? sum(runs, 'other') / sum(runs, 'wall') : null;
  }
  return row;
});
console.log(`${'engine'.padEnd(34)} threads   ms/step  fastest ms/1k tokens  page thread busy  browser outside the engine`);
for (const r of rows)
  console.log(`${r.name.padEnd(34)} ${String(r.threads).padStart(7)} ${r.ms.toFixed(1).padStart(9)} ${r.best.toFixed(2).padStart(21)}` +
    (r.pageBusy === undefined ? '' : `${(100 * r.pageBusy).toFixed(1).padStart(17)}%` +
      (r.otherCores === null ? '                         n/a' : `${r.otherCores.toFixed(2).padStart(21)} cores`)));
const [nat128, web] = [[rows[0], rows[1]], [rows[4], rows[5]]];
const ratio = (a, b) => `${(a.ms / b.ms).toFixed(2)}x (fastest: ${(a.best / b.best).toFixed(2)}x)`;
console.log(`Chromium / native simd128: ${ratio(web[0], nat128[0])} at 1 thread, ${ratio(web[1], nat128[1])} at 2 threads`);
console.log(`Chromium 2-thread speedup: ${ratio(web[0], web[1])}; native simd128's: ${ratio(nat128[0], nat128[1])}`);
if (FULL) {
  const f = await fullRun(pw);
  console.log(`page, InfoNCE vs au, 1000 steps, batch ${FULL_BATCH}, eval every 50, 2 threads: first chart point ${f.first.toFixed(1)} s after Start, done in ${f.total.toFixed(0)} s (${f.state})`);
}
