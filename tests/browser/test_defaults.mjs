// test_defaults.mjs — the page's defaults (web/js/config.mjs) against the engine's (what `dissipate train` uses when a
// flag is left out, read back from the config record of its JSONL log). The page always sends every value, so a
// drift would never show as an error: a reader's run and a researcher's CLI run "with the defaults" would just
// differ. Batch, steps and the evaluation interval are the page's own on purpose (smaller, so that a first run
// takes minutes); everything else must agree.
//
// usage: node tests/browser/test_defaults.mjs --native build/dissipate   (needs node and the native CLI only)

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTest, REPO } from './lib.mjs';

const args = process.argv.slice(2);
const native = args.includes('--native') ? args[args.indexOf('--native') + 1] : path.join(REPO, 'build/dissipate');
const data = process.env.DSP_DATA_DIR || path.join(REPO, '../shared/data');

// The engine's defaults for one objective: a one-step run with no hyper-parameter flags, on a few sentences.
function engineConfig(tmp, objective, name = objective) {
  const log = path.join(tmp, `${name}.jsonl`); // a name per run: the CLI refuses to replace a log unasked
  execFileSync(native, ['train', '--model', path.join(REPO, 'models/tiny'), '--corpus', path.join(tmp, 'corpus.txt'),
    '--objective', objective, '--steps', '1', '--batch', '2', '--eval-every', '0', '--log', log, '--quiet'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  return JSON.parse(fs.readFileSync(log, 'utf8').split('\n')[0]);
}

// The config record's float fields are float32s (printed shortest or with 9 digits): compare as float32.
const sameNumber = (a, b) => Math.fround(Number(a)) === Math.fround(Number(b));

await runTest('defaults', async (t, cleanup) => {
  const C = await import(path.join(REPO, 'web/js/config.mjs'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-defaults-'));
  cleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const lines = fs.readFileSync(path.join(data, 'corpus/wiki1m_head.txt'), 'utf8').split('\n').filter(Boolean);
  fs.writeFileSync(path.join(tmp, 'corpus.txt'), lines.slice(0, 8).join('\n') + '\n');

  // per-objective hyper-parameters: the page's name → the config record's
  const recordKey = { tau: 'tau', lambda: 'lambda', alpha: 'alpha', t: 'unif_t', margin: 'margin', perAnchor: 'per_anchor' };
  for (const objective of C.OBJECTIVE_NAMES) {
    const rec = engineConfig(tmp, objective);
    t.ok(`${objective}: the engine ran it`, rec.type === 'config' && rec.objective === objective, JSON.stringify(rec));
    for (const p of C.OBJECTIVES[objective].params) {
      const page = C.paramSpec(p, objective).def;
      const engine = rec[recordKey[p]];
      t.ok(`${objective}.${p}: page ${page} = engine ${engine}`, page !== null && sameNumber(page, engine));
    }
  }

  // global settings the page shares with the CLI
  const rec = engineConfig(tmp, 'infonce', 'globals');
  const def = C.defaultConfig();
  t.ok(`optimizer: page ${def.optimizer} = engine ${rec.optimizer}`, def.optimizer === rec.optimizer);
  t.ok(`pooler: page ${def.pooler} = engine ${rec.pooler}`, def.pooler === rec.pooler);
  t.ok(`learning rate: page ${def.lr} = engine ${rec.lr}`, sameNumber(def.lr, rec.lr));
  t.ok(`seed: page ${def.seed} = engine ${rec.seed}`, Number(def.seed) === rec.seed);
  t.ok(`max tokens: page ${def.maxLen} = engine ${rec.max_len}`, Number(def.maxLen) === rec.max_len);
  t.ok(`SGD momentum: page ${def.momentum} = engine ${rec.momentum}`, sameNumber(def.momentum, rec.momentum));
});
