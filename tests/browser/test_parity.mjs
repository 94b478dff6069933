// test_parity.mjs — the page and the native CLI compute the same run. The page trains infonce and au in lockstep
// (2 threads, the wasm threads + SIMD build); the CLI trains each objective alone with `--kernels simd128 --threads 1`
// on the same model, sentences, STS-B dev, configuration and seed. Every STS-B dev Spearman (and align, uniform,
// and every step's loss, gd, grad_h, grad_norm) must agree.
//
// Tolerance: relative 1e-6 (absolute for |x| < 1). The engine promises the same arithmetic bit for bit (SSE and
// wasm_simd128 kernels, fixed reduction order for any thread count, deterministic double math), so the only
// difference allowed is the CLI's JSONL printing with 9 significant digits (relative error ≤ 5e-9); 1e-6 leaves room
// for that and nothing else of consequence — a different batch, mask or kernel changes the numbers at 1e-3 or more.
//
// usage: node tests/browser/test_parity.mjs --native build/dissipate [--site site] [--steps 20] [--eval 10]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { browserTest, parseArgs, openLab, trainToDone, records, smallConfigHash } from './lib.mjs';

const opts = parseArgs();
const STEPS = Number(opts.steps || 20), EVAL = Number(opts.eval || 10);
const CFG = { objectives: ['infonce', 'au'], steps: STEPS, evalEvery: EVAL, batch: 16, threads: 2, seed: 7, maxLen: 24 };
const REL = 1e-6;

if (!opts.native || !fs.existsSync(opts.native)) {
  console.error(`FAIL: give the native CLI with --native PATH (got ${opts.native || 'nothing'}); build it with cmake --build build --target dissipate`);
  console.log('parity: 0 passed, 1 failed');
  process.exit(1);
}

const close = (a, b) => (a === null && b === null) || (Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= REL * Math.max(1, Math.abs(b)));

function runCli(objective, tmp) {
  const manifest = JSON.parse(fs.readFileSync(path.join(opts.site, 'manifest.json'), 'utf8'));
  const log = path.join(tmp, `${objective}.jsonl`);
  const args = ['train', '--model', path.join(opts.site, 'model'), '--corpus', ...manifest.corpus.map((c) => path.join(opts.site, c.path)),
    '--eval', path.join(opts.site, manifest.dev.path), '--objective', objective, '--steps', String(STEPS), '--eval-every', String(EVAL),
    '--batch', String(CFG.batch), '--max-len', String(CFG.maxLen), '--lr', '1e-4', '--seed', String(CFG.seed), '--optimizer', 'adamw',
    '--momentum', '0.9', '--pooler', 'mean', '--threads', '1', '--kernels', 'simd128', '--log', log, '--quiet'];
  const r = spawnSync(opts.native, args, { encoding: 'utf8', timeout: 600000 });
  if (r.status !== 0) throw new Error(`${opts.native} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return { steps: lines.filter((l) => l.type === 'step'), evals: lines.filter((l) => l.type === 'eval' && l.set === 'dev') };
}

await browserTest('parity', { isolation: true }, async (t, { server, browser, cleanup }) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-parity-'));
  cleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const { page } = await openLab(browser.context, `${server.url}index.html${smallConfigHash(CFG)}&lr=1e-4&opt=adamw&mom=0.9&pool=mean`);
  const info = await page.evaluate(() => window.dissipate.info);
  t.ok('the page runs the threads-simd build with 2 threads', info.variant === 'threads-simd' && info.threads === 2, JSON.stringify(info));
  await trainToDone(page);
  const pageRuns = await records(page);

  CFG.objectives.forEach((objective, i) => {
    const cli = runCli(objective, tmp);
    const web = pageRuns[i];
    // at step 0 and every EVAL steps (the last is a multiple): both sides must have them all, or the comparisons
    // below would loop over nothing
    const wantEvals = Array.from({ length: Math.floor(STEPS / EVAL) + 1 }, (_, k) => k * EVAL).join();
    t.ok(`${objective}: evaluations at steps ${wantEvals} on both sides`,
      web.evals.map((e) => e.step).join() === wantEvals && cli.evals.map((e) => e.step).join() === wantEvals,
      `${web.evals.map((e) => e.step)} vs ${cli.evals.map((e) => e.step)}`);
    console.log(`     ${objective}: step   page Spearman      CLI Spearman`);
    for (let k = 0; k < Math.min(web.evals.length, cli.evals.length); k++) {
      const w = web.evals[k], c = cli.evals[k];
      console.log(`     ${String(c.step).padStart(12)}   ${w.spearman.toFixed(9).padStart(14)}   ${c.spearman.toFixed(9).padStart(14)}`);
      t.ok(`${objective} step ${c.step}: STS-B dev Spearman page ${w.spearman} == CLI ${c.spearman} (rel ${REL})`, Number.isFinite(w.spearman) && close(w.spearman, c.spearman));
      t.ok(`${objective} step ${c.step}: align and uniform agree`, close(w.align, c.align) && close(w.uniform, c.uniform), `${w.align}/${c.align} ${w.uniform}/${c.uniform}`);
    }
    t.ok(`${objective}: ${STEPS} step records on both sides`, web.steps.length === STEPS && cli.steps.length === STEPS);
    const bad = [];
    for (let k = 0; k < Math.min(web.steps.length, cli.steps.length); k++) {
      for (const key of ['loss', 'gd', 'grad_h', 'grad_norm']) {
        if (!close(web.steps[k][key] ?? null, cli.steps[k][key] ?? null)) bad.push(`step ${k + 1} ${key}: ${web.steps[k][key]} vs ${cli.steps[k][key]}`);
      }
    }
    t.ok(`${objective}: every step's loss, gd, grad_h, grad_norm agree`, bad.length === 0, bad.slice(0, 5).join('; '));
  });
});
