// engine.mjs — loads one WebAssembly build of the engine (browser worker or node) and wraps wasm/api.c.
//
// Data crosses into the module as files of Emscripten's in-memory file system and comes back as named result
// lists (see api.c): no view of the wasm heap is kept, so nothing goes stale when memory grows under threads.
// Every engine failure throws an Error carrying the engine's message.

import { stampMismatch } from './stamp.mjs';

export const VARIANTS = {
    'threads-simd': 'dissipate-mt',
    'single-simd': 'dissipate-st',
};

export const isNode = typeof process === 'object' && !!process.versions?.node && typeof WorkerGlobalScope === 'undefined';

const IN_DIR = '/dsp/in';
const OUT_DIR = '/dsp/out';
const SENTENCE_CHARS = 2048;

// Node runs Emscripten 3.1.6's ES module output only with a CommonJS `require` and `__dirname` in scope and the wasm
// bytes passed in (its fetch cannot read files): see shared/notes/toolchain.md. Current output (6.0.5) makes its own
// `require`, ignores `wasmBinary` and reads the file through `locateFile`; none of this disturbs it.
async function nodeOptions(buildUrl, wasmUrl) {
    const [{ createRequire }, { readFileSync }, { fileURLToPath }] =
        await Promise.all([import('node:module'), import('node:fs'), import('node:url')]);
    globalThis.require ??= createRequire(import.meta.url);
    globalThis.__dirname ??= fileURLToPath(buildUrl);
    return {
        wasmBinary: validWasm(wasmUrl, readFileSync(new URL(wasmUrl))),
        locateFile: (file) => fileURLToPath(new URL(file, buildUrl)),
    };
}

// How long a module may take, once its .wasm is downloaded and valid, to compile, instantiate and start its pthread
// pool. Every step before this one fails with an error event (an import or download that fails, a pthread worker
// script that is missing or does not parse); this one has none: a pthread worker script that loads but never
// answers (3.1.6's dissipate-mt.worker.js left empty by a partial deploy) keeps Emscripten waiting for ever. Nothing
// is downloaded in this step but that script (3 KB), and it takes about 0.2 s here (Chromium, 2 cores, 4 pthreads):
// 20 s leaves a slow phone a hundred times that, and is about as long as a reader waits before deciding that the
// page is broken.
const START_TIMEOUT_MS = 20000;

// buildUrl: the folder (URL, ending in '/') holding dissipate-mt.* / dissipate-st.*. Rejects naming the file that
// failed: the module script, the .wasm (missing, or not valid WebAssembly) or the pthread worker script.
export async function loadEngine({ buildUrl, variant, poolSize = 1 }) {
    const name = VARIANTS[variant];
    if (!name) throw new Error(`unknown variant '${variant}' (${Object.keys(VARIANTS).join(', ')})`);
    const base = new URL(buildUrl);
    const script = new URL(`${name}.mjs`, base).href, wasmUrl = new URL(`${name}.wasm`, base).href;
    if (isNode) {
        const factory = (await import(script)).default;
        const options = await nodeOptions(base, wasmUrl);
        sameBuild(factory, options.wasmBinary, script, wasmUrl);
        return new Engine(await factory({ ...options, poolSize }), variant, poolSize);
    }
    const factory = (await importNamed(script)).default;
    if (typeof factory !== 'function')
        throw new Error(await whatIsWrong(script) ?? `${script} is not an Emscripten module (damaged, or another file)`);
    // The .wasm is downloaded here (so that a missing or damaged one, or one of another build, is named) and handed
    // to Emscripten as a blob: URL, which it compiles as it would the file (both Emscripten versions ask locateFile
    // for the .wasm).
    const bytes = await wasmBytes(wasmUrl);
    sameBuild(factory, bytes, script, wasmUrl);
    const wasm = URL.createObjectURL(new Blob([bytes], { type: 'application/wasm' }));
    const workerScripts = new Set([script]); // current Emscripten's pthreads run the module script itself
    const locateFile = (file) => {
        if (file.endsWith('.wasm')) return wasm;
        const url = new URL(file, base).href;
        if (/\.worker\.js$/.test(file)) workerScripts.add(url); // 3.1.6's pthread worker script
        return url;
    };
    try {
        return new Engine(await startModule(factory({ locateFile, poolSize }), [...workerScripts]), variant, poolSize);
    } finally {
        URL.revokeObjectURL(wasm);
    }
}

// A dynamic import that names the file and its HTTP status when it fails (the browser's message names neither well).
async function importNamed(url) {
    try {
        return await import(url);
    } catch (e) {
        throw new Error(await whatIsWrong(url) ?? `${url}: ${e?.message ?? e}`);
    }
}

// The bytes of a file of the build; an HTTP error or a broken download is refused naming the file.
async function fetchFile(url) {
    try {
        const res = await fetch(url, { credentials: 'same-origin' });
        if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
        return new Uint8Array(await res.arrayBuffer());
    } catch (e) {
        throw new Error(`${url}: ${e?.message ?? e}`);
    }
}

// Refuses a .wasm that is not the module script's own (wasm/js/stamp.mjs): instantiated, it would call the wrong
// functions rather than fail.
function sameBuild(factory, bytes, scriptUrl, wasmUrl) {
    const why = stampMismatch(factory, bytes, scriptUrl, wasmUrl);
    if (why) throw new Error(why);
}

// The bytes of a .wasm file; bytes that are not valid WebAssembly are refused by name too.
async function wasmBytes(url) {
    return validWasm(url, await fetchFile(url));
}

function validWasm(url, bytes) {
    if (!WebAssembly.validate(bytes))
        throw new Error(`${url} is not valid WebAssembly (${bytes.byteLength} bytes): the file is damaged or cut short`);
    return bytes;
}

// Why a file of the build cannot serve, by fetching it again: its HTTP status, or that it is empty; null if it
// looks fine.
async function whatIsWrong(url) {
    try {
        return (await fetchFile(url)).byteLength === 0 ? `${url} is empty` : null;
    } catch (e) {
        return e.message;
    }
}

// Waits for the module while watching its pthread workers: Emscripten rethrows a worker's error event (a worker
// script that is missing or does not parse) into this scope, where it would end the lab's worker with "Uncaught
// [object Event]"; it is caught here and reported with the script it came from. A pool that never answers fails
// after START_TIMEOUT_MS.
async function startModule(starting, workerScripts) {
    let onError, timer;
    const failed = new Promise((_, reject) => {
        onError = (e) => {
            e.preventDefault();
            const inner = e.error instanceof Event ? e.error : null; // the pthread worker's own event
            reject({ message: inner?.message || e.message || 'a pthread worker failed', file: inner?.filename });
        };
        self.addEventListener('error', onError);
        timer = setTimeout(() => reject({ message: `the pthread workers did not start within ${START_TIMEOUT_MS / 1000} s`,
            file: workerScripts.join(', ') }), START_TIMEOUT_MS);
    });
    try {
        return await Promise.race([starting, failed]);
    } catch (e) {
        for (const url of workerScripts) {
            const wrong = await whatIsWrong(url);
            if (wrong) throw new Error(wrong);
        }
        throw new Error(e?.file ? `${e.file}: ${e.message}` : e?.message ?? String(e));
    } finally {
        self.removeEventListener('error', onError);
        clearTimeout(timer);
    }
}

export class Engine {
    constructor(mod, variant, poolSize) {
        this.mod = mod;
        this.variant = variant;
        this.poolSize = poolSize;
        this.threaded = this.#num('dsp_wasm_threaded') === 1;
        this.crashed = null;
        this.version = this.#ccall('dsp_wasm_version', 'string', []);
        mod.FS.mkdirTree(IN_DIR);
        mod.FS.mkdirTree(OUT_DIR);
    }

    #num(fn, ...args) {
        return this.#ccall(fn, 'number', args);
    }

    // Every call into the module. api.c returns its errors, so an exception here is a wasm trap or an abort: the
    // module's memory, stack and threads are then in an unknown state, and every later call throws the same error,
    // marked fatal (session.mjs stops, and the page's lab replaces the worker).
    #ccall(fn, type, args) {
        if (this.crashed) throw this.crashed;
        try {
            return this.mod.ccall(fn, type, args.map((a) => (typeof a === 'string' ? 'string' : 'number')), args);
        } catch (e) {
            this.crashed = Object.assign(new Error(`the engine crashed in ${fn} (${e?.message ?? e}); load the assets ` +
                'again to restart it'), { fatal: true });
            throw this.crashed;
        }
    }

    // Calls an api.c function; a negative return throws the engine's message.
    #call(fn, ...args) {
        const rc = this.#num(fn, ...args);
        if (rc < 0) throw new Error(this.#ccall('dsp_wasm_error', 'string', []));
        return rc;
    }

    // The result list of the last call as an object; NaN (a diagnostic that does not apply) becomes null, as in
    // the CLI's JSONL.
    #result() {
        const out = {};
        const n = this.#num('dsp_wasm_result_count');
        for (let i = 0; i < n; i++) {
            const v = this.#num('dsp_wasm_result_value', i);
            out[this.#ccall('dsp_wasm_result_name', 'string', [i])] = Number.isFinite(v) ? v : null;
        }
        return out;
    }

    // Writes the inputs as files, lets fn read them, then frees the file system's copies. files: { fileName: { bytes,
    // name } }: an engine message naming a file's path in the file system names it `name` instead (the reader knows
    // "model/model.safetensors", not "/dsp/in/model.safetensors"); other messages pass unchanged.
    #withFiles(files, fn) {
        const paths = Object.entries(files).map(([file, { bytes, name }]) => {
            const path = `${IN_DIR}/${file}`;
            this.mod.FS.writeFile(path, bytes);
            return { path, name: name ?? file };
        });
        try {
            return fn(paths.map((p) => p.path));
        } catch (e) {
            // (the longest path first: corpus-1.txt is a prefix of corpus-10.txt)
            const longestFirst = [...paths].sort((a, b) => b.path.length - a.path.length);
            if (!e.fatal) e.message = longestFirst.reduce((m, p) => m.split(p.path).join(p.name), e.message);
            throw e;
        } finally {
            for (const p of paths) this.mod.FS.unlink(p.path);
        }
    }

    // model: { config, vocab, weights } as Uint8Array (config.json, vocab.txt, model.safetensors); names: what
    // messages call them (the same keys).
    loadModel({ config, vocab, weights }, names = {}) {
        this.#withFiles({ 'config.json': { bytes: config, name: names.config }, 'vocab.txt': { bytes: vocab, name: names.vocab },
            'model.safetensors': { bytes: weights, name: names.weights } }, () => this.#call('dsp_wasm_load_model', IN_DIR));
        this.#call('dsp_wasm_model_info');
        return this.#result();
    }

    // corpus: one or more Uint8Arrays of sentences, one per line (concatenated as the CLI's --corpus FILE...).
    loadCorpus(parts, names = []) {
        const files = {};
        parts.forEach((bytes, i) => { files[`corpus-${i}.txt`] = { bytes, name: names[i] }; });
        return this.#withFiles(files, (paths) => this.#call('dsp_wasm_load_corpus', paths.join('\n')));
    }

    // dev: Uint8Array of score<TAB>s1<TAB>s2 lines.
    loadDev(bytes, name) {
        return this.#withFiles({ 'dev.tsv': { bytes, name } }, ([path]) => this.#call('dsp_wasm_load_dev', path));
    }

    info() {
        this.#call('dsp_wasm_model_info');
        return this.#result();
    }

    // A run from the base weights. config: keys of api.c's dsp_wasm_config_set (CLI flag names; camelCase is
    // accepted), unset keys take the CLI's defaults. "objective" goes first: it resets the objective's parameters.
    createRun(config) {
        this.#call('dsp_wasm_config_reset');
        const entries = Object.entries(config).filter(([, v]) => v !== undefined && v !== null);
        entries.sort(([a], [b]) => (b === 'objective') - (a === 'objective'));
        for (const [key, value] of entries) {
            this.#call('dsp_wasm_config_set', key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), String(value));
        }
        return this.#call('dsp_wasm_run_create');
    }

    clearRuns() { this.#call('dsp_wasm_runs_clear'); }

    // The wasm heap: { heapBytes: its size (it grows, never shrinks), usedBytes: what malloc holds now }.
    memory() {
        this.#call('dsp_wasm_memory');
        const { heap_bytes: heapBytes, used_bytes: usedBytes } = this.#result();
        return { heapBytes, usedBytes };
    }
    runCount() { return this.#num('dsp_wasm_run_count'); }

    step(run) {
        this.#call('dsp_wasm_run_step', run);
        return this.#result();
    }

    evaluate(run) {
        this.#call('dsp_wasm_run_evaluate', run);
        return this.#result();
    }

    // Sentences travel on the wasm stack (64 KB in a current Emscripten), so each is cut to SENTENCE_CHARS
    // characters: far more than max_len (<= 512) tokens ever use.
    similarity(run, s1, s2) {
        const cut = (s) => String(s).slice(0, SENTENCE_CHARS);
        this.#call('dsp_wasm_similarity', run, cut(s1), cut(s2));
        return this.#result().cosine;
    }

    // { 'config.json', 'vocab.txt', 'model.safetensors' } as Uint8Arrays.
    exportRun(run) {
        const dir = `${OUT_DIR}/run-${run}`;
        this.#call('dsp_wasm_run_export', run, dir);
        const files = {};
        for (const name of ['config.json', 'vocab.txt', 'model.safetensors']) {
            files[name] = this.mod.FS.readFile(`${dir}/${name}`);
            this.mod.FS.unlink(`${dir}/${name}`);
        }
        this.mod.FS.rmdir(dir);
        return files;
    }
}
