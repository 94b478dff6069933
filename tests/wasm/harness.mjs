// harness.mjs — shared by the node tests of the WebAssembly builds: where things are, a check counter, and a driver
// that trains through the real page API (wasm/js/lab.mjs, its worker and session) and collects the events.
//
// Environment (ctest sets it; defaults work from the source tree):
//   DSP_SOURCE_DIR  the repository            DSP_DATA_DIR  the data folder (../shared/data)
//   DSP_TMP_DIR     scratch files             DSP_WASM_DIRS build folders to test, ':'-separated
//                                             (default: <source>/build-wasm:<source>/build-wasm-st)
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SOURCE = resolve(process.env.DSP_SOURCE_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '../..'));
export const DATA = resolve(process.env.DSP_DATA_DIR ?? join(SOURCE, '../shared/data'));
export const TMP = resolve(process.env.DSP_TMP_DIR ?? '/tmp');
export const SKIP = 77;

const { createLab } = await import(join(SOURCE, 'wasm/js/lab.mjs'));
export { createLab };

// The variants whose build exists: [{ variant, dir (the folder of the .mjs), threads }]. None at all is a skip (the
// caller's); some but not all is an error, so that a test never passes on half of what it was asked to test. To test
// one variant, list only its folder in DSP_WASM_DIRS.
export function wasmBuilds() {
    const dirs = (process.env.DSP_WASM_DIRS ?? `${SOURCE}/build-wasm:${SOURCE}/build-wasm-st`).split(':').filter(Boolean);
    const found = [], empty = [];
    for (const d of dirs) {
        const dir = join(resolve(d), 'wasm'), before = found.length;
        if (existsSync(join(dir, 'dissipate-mt.mjs'))) found.push({ variant: 'threads-simd', dir, threads: 2 });
        if (existsSync(join(dir, 'dissipate-st.mjs'))) found.push({ variant: 'single-simd', dir, threads: 1 });
        if (found.length === before) empty.push(d);
    }
    if (found.length > 0 && empty.length > 0)
        throw new Error(`DSP_WASM_DIRS lists ${empty.join(', ')}, which holds no WebAssembly build (run ` +
                        'tools/build-wasm.sh, or list only the folders to test)');
    return found;
}

export function skip(why) {
    console.log(`SKIP: ${why}`);
    process.exit(SKIP);
}

export function tmpDir(name) {
    const d = join(TMP, name);
    mkdirSync(d, { recursive: true });
    return d;
}

// ---------------------------------------------------------------- checks
let checks = 0, failures = 0;
export function check(cond, what) {
    checks++;
    if (!cond) {
        failures++;
        console.error(`CHECK failed: ${what}`);
    }
    return cond;
}
export function done(name) {
    console.log(`${name}: ${checks} checks, ${failures} failed`);
    process.exit(failures ? 1 : 0);
}

// ---------------------------------------------------------------- data
export function modelFiles(dir) {
    return {
        config: readFileSync(join(dir, 'config.json')),
        vocab: readFileSync(join(dir, 'vocab.txt')),
        weights: readFileSync(join(dir, 'model.safetensors')),
    };
}

// Waits for the current training to end (status done/idle), collecting events per run.
export function collect(lab, { timeoutMs = 120000 } = {}) {
    const out = { steps: [], evals: [], errors: [], statuses: [] };
    const offs = [];
    return {
        out,
        finished: new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`training did not finish in ${timeoutMs} ms`)), timeoutMs);
            const end = () => {
                clearTimeout(timer);
                offs.forEach((off) => off());
                resolve(out);
            };
            offs.push(lab.on('step', ({ run, record }) => (out.steps[run] ??= []).push(record)));
            offs.push(lab.on('eval', ({ run, record }) => (out.evals[run] ??= []).push(record)));
            offs.push(lab.on('error', (e) => out.errors.push(e)));
            offs.push(lab.on('status', (s) => {
                out.statuses.push(s);
                if (s.state === 'done') end();
            }));
        }),
    };
}

// Loads files into a lab and trains config to the end; returns { steps, evals, errors, statuses }.
export async function train(lab, config) {
    const c = collect(lab);
    const started = await lab.start(config);
    if (!started) throw new Error(`start refused: ${c.out.errors.map((e) => e.message).join('; ')}`);
    return c.finished;
}
