// test_parity.mjs — the browser engine and the native CLI compute the same run.
//
// Trains the same configuration (a tiny model, 16 steps of InfoNCE and of alignment + uniformity, batch 16) with
//   native:  dissipate train --kernels simd128 --threads 1 --log … --out …
//   wasm:    lab.mjs → worker → api.c, for every built variant (single-simd; threads-simd at 2 threads)
// and requires
//   - every step record (loss, gd, grad_h…, grad_norm, pos/neg cos, lr, tokens) and the STS-B dev evaluations (at
//     steps 0 and 16, all 1,500 pairs) to agree to the 9 significant digits the JSONL log carries (%.9g);
//   - the trained weights to be bit-identical: the exported model.safetensors bytes equal the CLI's --out file;
//   - the wasm variants to agree exactly (full doubles) with each other: the thread count changes no bit.
// To stay fast, only the first variant evaluates (an evaluation encodes 3,000 sentences); the others are held to
// the step records and the weights, which the evaluations are a function of. DSP_PARITY_QUICK=1 (set for sanitizer
// builds, whose Debug CLI is ~20x slower) trains 4 steps and evaluates the first 200 dev pairs.
// The engine makes this possible on purpose: SIMD128 kernels without FMA contraction on both hosts, its own
// exp/log/erf instead of libm's, fixed reduction orders, counter-based random numbers.
//
// Usage: node test_parity.mjs DISSIPATE_BINARY   (exit 77 = skipped: no wasm build or no data)
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
    check, createLab, DATA, done, modelFiles, skip, SOURCE, tmpDir, train, wasmBuilds,
} from './harness.mjs';

const cli = process.argv[2];
if (!cli || !existsSync(cli)) skip(`no native dissipate binary given (${cli})`);
const builds = wasmBuilds().sort((a, b) => (a.variant === 'single-simd' ? -1 : 0) - (b.variant === 'single-simd' ? -1 : 0));
if (builds.length === 0) skip('no WebAssembly build (run tools/build-wasm.sh)');
const corpus = join(DATA, 'corpus/wiki1m_head.txt');
let dev = join(DATA, 'stsb/dev.tsv');
if (!existsSync(corpus) || !existsSync(dev)) skip(`no data at ${DATA}`);

const work = tmpDir('wasm-parity');
const quick = process.env.DSP_PARITY_QUICK === '1';
const STEPS = quick ? 4 : 16, EVAL_EVERY = STEPS, BATCH = 16, SEED = 7, LR = 3e-4;
if (quick) {
    const head = join(work, 'dev-head.tsv');
    writeFileSync(head, readFileSync(dev, 'utf8').split('\n').slice(0, 200).join('\n'));
    dev = head;
}
const OBJECTIVES = ['infonce', 'au'];

// The bundled tiny model, or a random one of the tiny preset from the tokenizer fixture's vocabulary.
let model = join(SOURCE, 'models/tiny');
if (!existsSync(join(model, 'model.safetensors'))) {
    model = join(work, 'model');
    rmSync(model, { recursive: true, force: true });
    execFileSync(cli, ['init', '--vocab', join(SOURCE, 'tests/fixtures/tokenizer/vocab.txt'), '--out', model, '--seed', '3']);
}

// ---------------------------------------------------------------- native
async function native(objective) {
    const log = join(work, `${objective}.jsonl`), out = join(work, `${objective}-model`);
    // a previous run's: the CLI refuses to replace a model or a log unasked
    rmSync(out, { recursive: true, force: true });
    rmSync(log, { force: true });
    await promisify(execFile)(cli, ['train', '--model', model, '--corpus', corpus, '--eval', dev,
        '--objective', objective, '--steps', String(STEPS), '--batch', String(BATCH), '--seed', String(SEED),
        '--lr', String(LR), '--eval-every', String(EVAL_EVERY), '--kernels', 'simd128', '--threads', '1',
        '--log', log, '--out', out, '--quiet']);
    const records = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    return {
        steps: records.filter((r) => r.type === 'step'),
        evals: records.filter((r) => r.type === 'eval'),
        weights: readFileSync(join(out, 'model.safetensors')),
        config: readFileSync(join(out, 'config.json'), 'utf8'),
    };
}

// ---------------------------------------------------------------- wasm, through the page API
async function wasm(build, evaluate) {
    const lab = await createLab({ baseUrl: build.dir, variant: build.variant, threads: build.threads });
    try {
        await lab.load({ model: modelFiles(model), corpus: readFileSync(corpus),
            dev: evaluate ? readFileSync(dev) : undefined });
        const res = await train(lab, {
            runs: OBJECTIVES.map((objective) => ({ objective })),
            steps: STEPS, evalEvery: EVAL_EVERY, batch: BATCH, seed: SEED, lr: LR, kernels: 'simd128',
        });
        res.exports = [];
        for (let r = 0; r < OBJECTIVES.length; r++) res.exports.push(await lab.exportModel(r));
        return res;
    } finally {
        lab.terminate();
    }
}

// The JSONL carries %.9g: compare at that precision (null stands for NaN: a diagnostic that does not apply).
const nine = (v) => (v === null ? null : Number(v.toPrecision(9)));
const STEP_KEYS = ['step', 'epoch', 'loss', 'gd', 'grad_h', 'grad_h_pos', 'grad_h_neg', 'grad_norm', 'pos_cos',
    'neg_cos', 'lr', 'tokens'];
const EVAL_KEYS = ['step', 'spearman', 'align', 'uniform', 'pairs'];

function compareRecords(what, mine, theirs, keys, precise) {
    if (!check(mine?.length === theirs.length, `${what}: ${mine?.length} records, native has ${theirs.length}`)) return;
    let worst = null;
    theirs.forEach((t, i) => {
        for (const k of keys) {
            const a = precise ? mine[i][k] : nine(mine[i][k]), b = t[k];
            if (a !== b && !worst) worst = `${what}[${i}].${k}: ${mine[i][k]} vs ${b}`;
        }
    });
    check(worst === null, `${what} differ, first at ${worst}`);
}

// The native runs go on beside the first wasm run (two cores).
const t0 = performance.now();
const natives = Promise.all(OBJECTIVES.map(async (o) => [o, await native(o)]));
const results = [];
let nat = null;
for (const build of builds) {
    const evaluate = results.length === 0;
    const res = await wasm(build, evaluate);
    nat ??= Object.fromEntries(await natives);
    console.log(`${build.variant} (${build.threads} thread${build.threads > 1 ? 's' : ''}): done at ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s`);
    check(res.errors.length === 0, `${build.variant}: errors ${JSON.stringify(res.errors)}`);
    OBJECTIVES.forEach((o, r) => {
        const n = nat[o];
        compareRecords(`${build.variant} ${o} steps`, res.steps[r], n.steps, STEP_KEYS, false);
        if (evaluate) compareRecords(`${build.variant} ${o} evals`, res.evals[r], n.evals, EVAL_KEYS, false);
        else check(res.evals.length === 0, `${build.variant}: no evaluation without a dev set`);
        const w = res.exports[r]['model.safetensors'];
        check(Buffer.from(w).equals(n.weights),
            `${build.variant} ${o}: the exported weights (${w.length} bytes) differ from the CLI's --out ` +
            `(${n.weights.length} bytes)`);
        check(new TextDecoder().decode(res.exports[r]['config.json']) === n.config, `${build.variant} ${o}: config.json`);
        const last = n.evals.at(-1);
        console.log(`  ${o}: loss ${n.steps[0].loss.toFixed(5)} → ${n.steps.at(-1).loss.toFixed(5)}, ` +
            `dev spearman ${n.evals[0].spearman.toFixed(2)} → ${last.spearman.toFixed(2)} (step ${last.step})`);
    });
    results.push({ build, res });
}
// Thread count changes no bit: the variants agree in full double precision.
for (let i = 1; i < results.length; i++) {
    const [a, b] = [results[0], results[i]];
    OBJECTIVES.forEach((o, r) => {
        compareRecords(`${b.build.variant} vs ${a.build.variant} ${o} steps`, b.res.steps[r], a.res.steps[r],
            STEP_KEYS, true);
    });
}
done('test_parity');
