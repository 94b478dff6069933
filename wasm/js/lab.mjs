// lab.mjs — the page-side API of the browser engine (docs/browser-api.md).
//
//   const lab = await createLab({ baseUrl, threads });
//   await lab.load({ model: { config, vocab, weights }, corpus, dev }, onProgress);
//   lab.on('step', ({ run, record }) => …); lab.start({ runs: [{ objective: 'infonce' }, { objective: 'au' }], … });
//
// Picks the build (threaded SIMD when the page is cross-origin isolated, else single-threaded SIMD, with the reason),
// downloads the assets with progress, and drives the module Worker (worker.mjs). Also runs under node, where the
// worker is a worker_threads Worker and file: URLs or paths are read from disk (the node tests use it that way).
import { isNode } from './engine.mjs';
import { detect } from './features.mjs';

const EVENTS = ['step', 'eval', 'status', 'error'];

// A folder URL ending in '/': from a URL, an absolute or relative URL string, or (under node) a path.
async function folderUrl(where) {
    let url;
    if (where instanceof URL) url = new URL(where.href);
    else if (isNode && !/^[a-z]+:/i.test(where)) url = (await import('node:url')).pathToFileURL(where);
    else url = new URL(where, globalThis.location?.href);
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return url;
}

async function spawnWorker() {
    const url = new URL('./worker.mjs', import.meta.url);
    if (!isNode) {
        const w = new Worker(url, { type: 'module' });
        return {
            post: (msg, transfer) => w.postMessage(msg, transfer),
            listen: (onMessage, onError) => {
                w.onmessage = (e) => onMessage(e.data);
                w.onerror = (e) => onError(new Error(e.message || 'the worker failed to start'));
                w.onmessageerror = () => onError(new Error('a message from the worker could not be read'));
            },
            terminate: () => w.terminate(),
        };
    }
    const { Worker: NodeWorker } = await import('node:worker_threads');
    const w = new NodeWorker(url);
    let ended = false;
    return {
        post: (msg, transfer) => w.postMessage(msg, transfer),
        listen: (onMessage, onError) => {
            w.on('message', onMessage);
            w.on('error', onError);
            w.on('exit', (code) => { if (!ended) onError(new Error(`the worker exited (code ${code})`)); });
        },
        terminate: () => { ended = true; w.terminate(); },
    };
}

// ---------------------------------------------------------------- downloads with progress
const isBytes = (x) => x instanceof ArrayBuffer || ArrayBuffer.isView(x);

// A fresh Uint8Array of the source's bytes: a copy for caller-owned buffers (they get transferred to the worker),
// a streamed download for URLs. progress(loaded, total) is called as bytes arrive; total is null when unknown.
async function fetchBytes(source, progress) {
    if (isBytes(source)) {
        const view = source instanceof ArrayBuffer ? new Uint8Array(source)
            : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
        progress(view.byteLength, view.byteLength);
        return view.slice();
    }
    const url = source instanceof URL ? source : new URL(source, globalThis.location?.href);
    if (isNode && url.protocol === 'file:') {
        const bytes = new Uint8Array(await (await import('node:fs/promises')).readFile(url));
        progress(bytes.byteLength, bytes.byteLength);
        return bytes;
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url.href}: HTTP ${res.status} ${res.statusText}`);
    // A compressed response's Content-Length counts compressed bytes, while the stream yields decompressed ones.
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    const total = encoded ? null : Number(res.headers.get('content-length')) || null;
    if (!res.body) {
        const bytes = new Uint8Array(await res.arrayBuffer());
        progress(bytes.byteLength, bytes.byteLength);
        return bytes;
    }
    const reader = res.body.getReader();
    const chunks = [];
    let loaded = 0;
    for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.byteLength;
        progress(loaded, total);
    }
    const out = new Uint8Array(loaded);
    let at = 0;
    for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
    }
    progress(loaded, loaded);
    return out;
}

// ---------------------------------------------------------------- the lab
class Lab {
    #port;
    #spawn;      // () => a new worker's port, initialised (createLab's)
    #dead = null; // why requests fail at once: the lab was terminated, or its worker died or its engine crashed
    #terminated = false;
    #handlers = Object.fromEntries(EVENTS.map((e) => [e, new Set()]));
    #pending = new Map();
    #nextId = 1;
    // Which run the page is on: start() and reset() bump it and tell the worker, whose events carry the number of
    // the run they belong to. Events of an older run (already posted when the page reset it) are dropped.
    #generation = 0;

    constructor(spawn, info) {
        this.#spawn = spawn;
        this.info = info;
        this.state = 'idle';
    }

    // Starts a worker and sends it init; resolves to { variant, threaded, version } of the engine it loaded. Used by
    // createLab, and by load() to replace a worker that died.
    async open(init) {
        const port = await this.#spawn();
        this.#port = port;
        this.#dead = null;
        // a replaced worker's last words (an error it posted while being ended) are not this one's
        port.listen((msg) => port === this.#port && this.#receive(msg), (e) => port === this.#port && this.#fail(e));
        this.#init = init;
        return this.request({ type: 'init', ...init });
    }
    #init;

    on(event, fn) {
        if (!this.#handlers[event]) throw new Error(`unknown event '${event}' (${EVENTS.join(', ')})`);
        this.#handlers[event].add(fn);
        return () => this.#handlers[event].delete(fn);
    }

    #emit(event, data) {
        for (const fn of this.#handlers[event]) fn(data);
    }

    #receive(msg) {
        if (msg.type === 'error' && msg.fatal) {
            this.#die(msg.message);
            return;
        }
        if (msg.type === 'result') {
            const p = this.#pending.get(msg.id);
            this.#pending.delete(msg.id);
            if (msg.ok) p?.resolve(msg.value);
            else p?.reject(new Error(msg.error));
            return;
        }
        if (msg.generation !== undefined && msg.generation !== this.#generation) return;
        if (msg.type === 'status') this.state = msg.state;
        if (msg.type === 'step' || msg.type === 'eval') this.#emit(msg.type, { run: msg.run, record: msg.record });
        else if (msg.type === 'error') this.#emit('error', { message: msg.message, run: msg.run });
        else if (msg.type === 'status') {
            const { type, generation, ...status } = msg;
            this.#emit('status', status);
        }
    }

    #fail(e) {
        this.#die(`worker: ${e.message}`);
    }

    // The worker died or its engine crashed: it is ended (with its pthreads), pending requests reject, 'error' says
    // so with fatal: true, and the next load() starts a new worker.
    #die(message) {
        if (this.#dead) return;
        this.#dead = message;
        this.#port.terminate();
        for (const p of this.#pending.values()) p.reject(new Error(message));
        this.#pending.clear();
        this.state = 'error';
        this.#emit('status', { state: 'error' });
        this.#emit('error', { message, fatal: true });
    }

    request(msg, transfer = []) {
        if (this.#dead)
            return Promise.reject(new Error(this.#terminated ? this.#dead
                : `${this.#dead} (the engine is stopped: lab.load() starts it again)`));
        const id = this.#nextId++;
        return new Promise((resolve, reject) => {
            this.#pending.set(id, { resolve, reject });
            this.#port.post({ ...msg, id }, transfer);
        });
    }

    // assets: { model: { config, vocab, weights }, corpus, dev }, each a URL (string or URL), bytes, or { bytes, name }
    // (bytes that the engine's messages call name, such as the path they came from); corpus may be a list
    // (concatenated like the CLI's --corpus FILE...). onProgress({ file, loaded, total, allLoaded, allTotal }) as
    // bytes arrive (totals are null while unknown). Resolves to the model's shape and the data sizes.
    async load(assets, onProgress = () => {}) {
        if (!assets || typeof assets !== 'object')
            throw new Error('lab.load: expected { model: { config, vocab, weights }, corpus, dev }');
        if (this.#terminated) throw new Error(this.#dead);
        const given = { config: assets.model?.config, vocab: assets.model?.vocab, weights: assets.model?.weights };
        const place = { config: 'config.json', vocab: 'vocab.txt', weights: 'model.safetensors', dev: 'dev' };
        const corpus = Array.isArray(assets.corpus) ? assets.corpus : [assets.corpus];
        const corpusKey = (i) => `corpus${corpus.length > 1 ? i : ''}`;
        corpus.forEach((c, i) => {
            given[corpusKey(i)] = c;
            place[corpusKey(i)] = corpus.length > 1 ? `corpus[${i}]` : 'corpus';
        });
        if (assets.dev !== undefined) given.dev = assets.dev;
        // What the engine's messages call each file instead of its path in the worker's file system: the name given
        // with the bytes, the URL, or else the model file's own name ('config.json') or its place in the assets
        // ('corpus[1]', 'dev').
        const sources = {}, names = {};
        for (const [key, src] of Object.entries(given)) {
            if (src === undefined || src === null) throw new Error(`lab.load: '${key}' is missing`);
            const named = typeof src === 'object' && !isBytes(src) && !(src instanceof URL);
            const bytes = named ? src.bytes : src;
            if (!isBytes(bytes) && (named || (typeof src !== 'string' && !(src instanceof URL))))
                throw new Error(`lab.load: '${key}' must be a URL or bytes (an ArrayBuffer or a typed array) or ` +
                    `{ bytes, name }, got ${named ? `an object with ${typeof bytes} bytes` : typeof src}`);
            sources[key] = bytes;
            names[key] = named ? String(src.name ?? place[key]) : isBytes(src) ? place[key]
                : String(src instanceof URL ? src.href : src);
        }
        const seen = Object.fromEntries(Object.keys(sources).map((k) => [k, { loaded: 0, total: null }]));
        const report = (file) => (loaded, total) => {
            seen[file] = { loaded, total };
            const all = Object.values(seen);
            onProgress({
                file, loaded, total,
                allLoaded: all.reduce((s, f) => s + f.loaded, 0),
                allTotal: all.every((f) => f.total !== null) ? all.reduce((s, f) => s + f.total, 0) : null,
            });
        };
        const before = this.state;
        this.state = 'loading';
        this.#emit('status', { state: 'loading' });
        let entries;
        try {
            entries = await Promise.all(Object.entries(sources).map(async ([name, src]) => {
                try {
                    return [name, await fetchBytes(src, report(name))];
                } catch (e) {
                    throw new Error(`loading ${name}: ${e.message}`);
                }
            }));
        } catch (e) {
            // nothing reached the worker: it holds what it held
            this.state = before;
            this.#emit('status', { state: before });
            throw e;
        }
        // After a crash (or a dead worker) the load goes to a new worker.
        if (this.#dead) await this.open(this.#init);
        const bytes = Object.fromEntries(entries);
        const msg = {
            type: 'load',
            model: { config: bytes.config, vocab: bytes.vocab, weights: bytes.weights },
            corpus: corpus.map((_, i) => bytes[corpusKey(i)]),
            dev: bytes.dev,
            names: { ...names, corpus: corpus.map((_, i) => names[corpusKey(i)]) },
        };
        return this.request(msg, Object.values(bytes).map((b) => b.buffer));
    }

    // Starts training (replacing any current training). config: { runs: [RunConfig…], steps, evalEvery, seed, batch,
    // maxLen, lr, optimizer, pooler, … } — every key but runs/evalEvery is a CLI flag name (camelCase accepted),
    // a RunConfig's keys override the common ones for that run. Resolves to { runs, steps }, or to null after
    // emitting 'error' when the configuration is refused.
    async start(config = {}) {
        const threads = config.threads ?? this.info.threads;
        try {
            return await this.request({ type: 'start', generation: ++this.#generation, config: { ...config, threads } });
        } catch (e) {
            this.#emit('error', { message: e.message });
            return null;
        }
    }

    #post(msg) { if (!this.#dead) this.#port.post(msg); }
    pause() { this.#post({ type: 'pause' }); }
    resume() { this.#post({ type: 'resume' }); }
    // From here on, events of the current run are dropped, even those the worker posted before it saw the reset.
    reset() { this.#post({ type: 'reset', generation: ++this.#generation }); }

    // Cosine similarity of two sentences (non-empty strings) under run's current weights.
    similarity(run, s1, s2) { return this.request({ type: 'similarity', run, s1, s2 }); }

    // The engine's wasm heap: { heapBytes (it grows, never shrinks), usedBytes (what the engine holds now) }.
    memory() { return this.request({ type: 'memory' }); }

    // { 'config.json', 'vocab.txt', 'model.safetensors' } (Uint8Arrays): run's current model, loadable by
    // transformers.BertModel.from_pretrained and by the CLI.
    exportModel(run) { return this.request({ type: 'export', run }); }

    // Ends the worker; every later call rejects. Calling it again does nothing.
    terminate() {
        if (this.#terminated) return;
        this.#terminated = true;
        this.#port?.terminate();
        this.#dead = 'the lab was terminated';
        for (const p of this.#pending.values()) p.reject(new Error(this.#dead));
        this.#pending.clear();
    }
}

// options: baseUrl (the folder of dissipate-mt.* / dissipate-st.*; default: beside this file), threads (per run),
// maxRuns (runs the threaded build can hold at once, default 4: it sizes the pthread pool), variant (force
// 'threads-simd' or 'single-simd'). lab.info = { variant, threads, simd, crossOriginIsolated, reason, fallback }.
// When the threaded build was chosen (not forced) and does not start (a file of it missing or damaged, its pthread
// workers not answering), the single-threaded build is started instead: info.fallback holds why, and info.reason
// says so.
export async function createLab(options = {}) {
    const info = await detect(options);
    if (!info.simd)
        throw new Error('this browser lacks WebAssembly SIMD, which the engine needs (Chrome/Edge 91+, Firefox 89+, ' +
                        'Safari 16.4+)');
    const buildUrl = await folderUrl(options.baseUrl ?? new URL('./', import.meta.url));
    try {
        return await openLab(info, buildUrl, options.maxRuns ?? 4);
    } catch (e) {
        if (info.variant !== 'threads-simd' || options.variant) throw e;
        const fallback = e.cause?.message ?? e.message; // (without the build's folder, which reason needs not repeat)
        const single = { ...info, variant: 'single-simd', threads: 1, fallback,
            reason: `the threaded build did not start (${fallback}), so the single-threaded build runs` };
        try {
            return await openLab(single, buildUrl, 0);
        } catch (e2) {
            throw new Error(`${e.message}; the single-threaded build did not start either: ${e2.cause?.message ?? e2.message}`);
        }
    }
}

// A lab on the build info.variant; rejects naming the build and the file that failed.
async function openLab(info, buildUrl, maxRuns) {
    const poolSize = info.variant === 'threads-simd' ? Math.max(1, (info.threads - 1) * maxRuns) : 0;
    const lab = new Lab(spawnWorker, info);
    try {
        const ready = await lab.open({ buildUrl: buildUrl.href, variant: info.variant, poolSize });
        lab.info = { ...info, version: ready.version, poolSize };
    } catch (e) {
        lab.terminate();
        throw new Error(`loading the ${info.variant} engine from ${buildUrl.href}: ${e.message}`, { cause: e });
    }
    return lab;
}

export { detect };
