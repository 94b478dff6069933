#!/usr/bin/env node
// bench-wasm.mjs — ms per training step of the WebAssembly builds (single-simd at 1 thread, threads-simd at 1 and 2)
// beside the native CLI's `dissipate bench` on the same model, sentences and settings, in one run.
//
// The workload is `dissipate bench`'s: InfoNCE, a batch of N real sentences x 2 views at max length 32, the same N
// sentences every step (the corpus is cut to them), one warm-up step, the median of the timed steps. The wasm
// figures are the engine's own step time (api.c times dsp_trainer_step, like the CLI) through the page API in a
// node worker, so they include no message passing. Then the GEMM table of the SIMD128 kernels in V8 (bench-gemm.js of
// the single-threaded build), beside the native one in `dissipate bench`.
//
// usage: node tools/bench-wasm.mjs [--model DIR] [--corpus FILE] [--batch N] [--steps N] [--native PATH]
//                                  [--wasm-dirs DIR:DIR]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dataDir = process.env.DSP_DATA_DIR ?? join(root, '../shared/data');
const USAGE = `usage: node tools/bench-wasm.mjs [--model DIR] [--corpus FILE] [--batch N] [--steps N] [--native PATH]
                                 [--wasm-dirs DIR:DIR]
  --model DIR      model folder (default: models/tiny; missing, a random tiny-preset model made with --native)
  --corpus FILE    sentences, one a line; the first --batch are every step's (default: $DSP_DATA_DIR, else
                   ../shared/data, corpus/wiki1m_head.txt)
  --batch N        sentences per step, each encoded twice, at least 2 (default 64)
  --steps N        timed steps after one warm-up, at least 1 (default 10)
  --native PATH    the native dissipate CLI for its \`bench\` beside the wasm figures (default: build/dissipate)
  --wasm-dirs D:D  Emscripten build folders to time (default: build-wasm:build-wasm-st)`;
// Bad arguments get the usage and exit 2 before any model is made or engine loaded.
function usageError(msg) {
    console.error(`bench-wasm: ${msg}\n${USAGE}`);
    process.exit(2);
}
let opt;
try {
    ({ values: opt } = parseArgs({
        options: {
            help: { type: 'boolean', short: 'h' },
            model: { type: 'string', default: join(root, 'models/tiny') },
            corpus: { type: 'string', default: join(dataDir, 'corpus/wiki1m_head.txt') },
            batch: { type: 'string', default: '64' },
            steps: { type: 'string', default: '10' },
            native: { type: 'string', default: join(root, 'build/dissipate') },
            'wasm-dirs': { type: 'string', default: `${root}/build-wasm:${root}/build-wasm-st` },
        },
    }));
} catch (e) {
    usageError(e.message);
}
if (opt.help) {
    console.log(USAGE);
    process.exit(0);
}
const count = (name, min) => {
    const n = Number(opt[name]);
    if (!Number.isInteger(n) || n < min) usageError(`--${name} ${opt[name]}: expected a whole number >= ${min}`);
    return n;
};
const batch = count('batch', 2), steps = count('steps', 1);
if (!existsSync(opt.corpus))
    usageError(`--corpus ${opt.corpus}: no such file (pass --corpus FILE, or set DSP_DATA_DIR to the data folder)`);
const haveNative = existsSync(opt.native);
let model = opt.model;
if (!existsSync(join(model, 'model.safetensors'))) {
    if (!haveNative) {
        console.error(`bench-wasm: no model at ${model} (no model.safetensors) and no native CLI at ${opt.native} to make one`);
        process.exit(1);
    }
    model = join(mkdtempSync(join(tmpdir(), 'bench-wasm-')), 'model');
    execFileSync(opt.native, ['init', '--vocab', join(root, 'tests/fixtures/tokenizer/vocab.txt'), '--out', model]);
    console.log(`(no models/tiny: a random tiny-preset model from the tokenizer fixture's vocabulary, ${model})`);
}

const { createLab } = await import(join(root, 'wasm/js/lab.mjs'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// As the CLI's bench: exactly `batch` sentences (the first non-blank lines), so every step sees the same tokens.
const sentences = readFileSync(opt.corpus, 'utf8').split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(0, batch);
const files = {
    config: readFileSync(join(model, 'config.json')),
    vocab: readFileSync(join(model, 'vocab.txt')),
    weights: readFileSync(join(model, 'model.safetensors')),
};

async function timeWasm(dir, variant, threads) {
    const lab = await createLab({ baseUrl: dir, variant, threads, maxRuns: 1 });
    try {
        await lab.load({ model: files, corpus: Buffer.from(sentences.join('\n')) });
        const ms = [];
        await new Promise((done, fail) => {
            lab.on('step', ({ record }) => { if (record.step > 1) ms.push(record.ms); });
            lab.on('error', (e) => fail(new Error(e.message)));
            lab.on('status', (s) => { if (s.state === 'done') done(); });
            lab.start({ steps: steps + 1, batch, maxLen: 32, lr: 1e-4, evalEvery: 0, threads });
        });
        return median(ms);
    } finally {
        lab.terminate();
    }
}

const load0 = loadavg()[0];
const rows = [];
for (const d of opt['wasm-dirs'].split(':').filter(Boolean)) {
    const dir = join(resolve(d), 'wasm');
    if (existsSync(join(dir, 'dissipate-st.mjs'))) rows.push(['wasm single-simd', 1, await timeWasm(dir, 'single-simd', 1)]);
    if (existsSync(join(dir, 'dissipate-mt.mjs')))
        for (const t of [1, 2]) rows.push(['wasm threads-simd', t, await timeWasm(dir, 'threads-simd', t)]);
}
let nativeText = '';
if (haveNative) {
    nativeText = execFileSync(opt.native, ['bench', '--model', model, '--corpus', opt.corpus, '--batch', String(batch),
        '--steps', String(steps), '--threads-max', '2', '--no-gemm'], { encoding: 'utf8' });
    for (const line of nativeText.split('\n')) {
        const m = /^(scalar|simd128|avx2)\s+(\d+)\s+([\d.]+)/.exec(line);
        if (m) rows.push([`native ${m[1]}`, Number(m[2]), Number(m[3])]);
    }
}
console.log(`training step, InfoNCE, ${batch} sentences x 2 views, max length 32, model ${model}; ` +
    `median of ${steps} steps after one warm-up; node ${process.versions.node}, V8 ${process.versions.v8}`);
// Timings mean little on a busy machine: say how busy it was.
console.log(`load average at the start ${load0.toFixed(2)}, at the end ${loadavg()[0].toFixed(2)}`);
console.log(`${'build'.padEnd(20)} ${'threads'.padStart(7)} ${'ms/step'.padStart(9)} ${'vs native simd128'.padStart(18)}`);
const ref = rows.find(([b, t]) => b === 'native simd128' && t === 1)?.[2];
for (const [b, t, ms] of rows)
    console.log(`${b.padEnd(20)} ${String(t).padStart(7)} ${ms.toFixed(1).padStart(9)} ` +
        `${ref ? `${(ms / ref).toFixed(2)}x`.padStart(18) : ''}`);
// The 128-bit GEMM as V8 runs it (the single-threaded build's bench-gemm.js: `dissipate bench`'s table, 1 thread).
for (const d of opt['wasm-dirs'].split(':').filter(Boolean)) {
    const prog = join(resolve(d), 'wasm', 'bench-gemm.js');
    if (existsSync(prog))
        console.log(`\nWebAssembly GEMM (${prog}, node):${execFileSync(process.execPath, [prog], { encoding: 'utf8' }).trimEnd()}`);
}
if (!haveNative) console.log(`(no native CLI at ${opt.native}: build it, or pass --native)`);
else console.log(`\nnative \`dissipate bench\` output:\n${nativeText.trimEnd()}`);
