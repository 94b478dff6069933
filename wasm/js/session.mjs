// session.mjs — the worker side of the lab: owns the engine and the runs, and trains them in lockstep.
//
// Host-neutral: worker.mjs connects it to a browser Worker's or a node worker_threads' message port. The protocol
// (page → worker, worker → page) is documented in wasm/README.md. Requests carrying an `id` are answered with
// {type: 'result', id, ok, value | error}; training posts 'step', 'eval', 'status' and 'error' events.
//
// Lockstep: step k of run 0, step k of run 1, …, then step k+1. All runs were created from the same base weights,
// configuration and seed, so they see the same batches and dropout masks and differ only by their objective.
// Between two lockstep rounds the loop yields to the event loop, so pause/resume/reset/similarity/export messages
// are handled there — never in the middle of a step.

import { isNode, loadEngine } from './engine.mjs';

// Keys of lab.start() that belong to the loop rather than to the engine's run configuration.
const LOOP_KEYS = new Set(['runs', 'evalEvery']);
const STATUS_INTERVAL_MS = 250;

// A value as an error message shows it: strings quoted, with their type when that is the problem.
const shown = (v) => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list'
    : v && typeof v === 'object' ? 'an object' : String(v));

// steps and evalEvery: an integer >= min, given as a number or a numeric string (the engine's keys take both).
function loopInteger(key, value, min) {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (!Number.isInteger(n) || n < min) throw new Error(`${key} must be an integer >= ${min}, got ${shown(value)}`);
    return n;
}

// The run configurations of lab.start: a list of objects (none, or an empty list: one run of the common keys).
function runList(runs) {
    if (runs === undefined) return [{}];
    if (!Array.isArray(runs)) throw new Error(`runs must be a list of run configurations ({ objective, … }), got ${shown(runs)}`);
    runs.forEach((rc, i) => {
        if (rc === null || typeof rc !== 'object' || Array.isArray(rc))
            throw new Error(`runs[${i}] must be an object of run settings ({ objective, … }), got ${shown(rc)}`);
        for (const key of ['steps', 'evalEvery'])
            if (key in rc) throw new Error(`runs[${i}].${key}: runs train in lockstep, so ${key} is set once, beside runs`);
    });
    return runs.length ? runs : [{}];
}

// A sentence for similarity: a non-empty string (anything else would be encoded as its String() form).
function sentence(s, which) {
    if (typeof s !== 'string' || s.trim() === '')
        throw new Error(`similarity: sentence ${which} must be a non-empty string, got ${shown(s)}`);
    return s;
}

// A macrotask boundary: lets queued messages run. setImmediate in node; a MessageChannel in browsers (setTimeout
// is clamped to >= 4 ms once nested).
function makeYield() {
    if (isNode) return () => new Promise((resolve) => setImmediate(resolve));
    const channel = new MessageChannel();
    const waiting = [];
    channel.port1.onmessage = () => waiting.shift()?.();
    return () => new Promise((resolve) => {
        waiting.push(resolve);
        channel.port2.postMessage(0);
    });
}

// A result whose buffers move to the page instead of being copied.
class Transferred {
    constructor(value, transfer) {
        this.value = value;
        this.transfer = transfer;
    }
}

export class Session {
    // post(message, transferList) sends to the page.
    constructor(post) {
        this.post = post;
        this.engine = null;
        this.state = 'idle';
        this.generation = 0;   // bumped by start/reset: a loop of an older generation stops at its next yield
        this.tag = 0;          // the page's id of the current run (start/reset messages carry it): every step,
                               // eval, status and run error is posted with it, so the page can drop the records
                               // of a run it has reset that were already on their way
        this.runs = [];        // { config, stopped }
        this.resume = null;    // resolves a paused loop
        this.yieldNow = makeYield();
        this.timing = { rounds: 0, stepMs: 0, stepCount: 0, since: 0 };
        this.queue = Promise.resolve();
    }

    // Messages are handled one at a time, in order; training itself runs outside this queue.
    handle(msg) {
        this.queue = this.queue.then(() => this.#dispatch(msg));
        return this.queue;
    }

    async #dispatch(msg) {
        try {
            let value = await this.#apply(msg);
            let transfer = [];
            if (value instanceof Transferred) ({ value, transfer } = value);
            if (msg.id !== undefined) this.post({ type: 'result', id: msg.id, ok: true, value }, transfer);
        } catch (e) {
            const message = e?.message ?? String(e);
            if (msg.id !== undefined) this.post({ type: 'result', id: msg.id, ok: false, error: message });
            else if (!e?.fatal) this.post({ type: 'error', message });
            if (e?.fatal) this.#crash(e);
        }
    }

    // The engine crashed (a wasm trap or abort: engine.mjs marks the error fatal). Its memory and threads are in an
    // unknown state, so nothing more runs on it: the loop stops and the page is told once, with fatal: true; the
    // page's lab then ends this worker (and its pthreads) and starts a new one at its next load().
    #crash(e) {
        if (this.state === 'error') return;
        this.generation++;
        this.runs = [];
        this.resume?.();
        this.resume = null;
        this.state = 'error';
        this.post({ type: 'error', fatal: true, message: e.message });
    }

    async #apply(msg) {
        switch (msg.type) {
        case 'init':
            this.engine = await loadEngine(msg);
            return { variant: this.engine.variant, threaded: this.engine.threaded, version: this.engine.version };
        case 'load': return this.#load(msg);
        case 'start':
            this.#retag(msg);
            return this.#start(msg.config ?? {});
        case 'pause':
            if (this.state === 'training') this.#setState('paused');
            return undefined;
        case 'resume':
            if (this.state === 'paused') {
                this.#setState('training');
                this.resume?.();
            }
            return undefined;
        case 'reset':
            this.#retag(msg);
            return this.#reset();
        case 'similarity':
            return this.#need().similarity(this.#runIndex(msg.run), sentence(msg.s1, 1), sentence(msg.s2, 2));
        case 'memory':
            return this.#need().memory();
        case 'export': {
            const files = this.#need().exportRun(this.#runIndex(msg.run));
            return new Transferred(files, Object.values(files).map((f) => f.buffer));
        }
        default:
            throw new Error(`unknown message type '${msg.type}'`);
        }
    }

    #retag(msg) {
        if (msg.generation !== undefined) this.tag = msg.generation;
    }

    #need() {
        if (!this.engine) throw new Error('the engine is not initialised');
        if (this.engine.crashed) throw this.engine.crashed;
        return this.engine;
    }

    #runIndex(run) {
        const n = this.runs.length;
        if (!Number.isInteger(run)) throw new Error(`the run must be an integer index (0 … ${n - 1}), got ${shown(run)}`);
        if (run < 0 || run >= n) throw new Error(`no run ${run} (there are ${n}${n ? '' : '; start training first'})`);
        return run;
    }

    #setState(state) {
        this.state = state;
        this.#postStatus();
    }

    #postStatus() {
        const t = this.timing;
        const wall = t.since ? performance.now() - t.since : 0;
        this.post({
            type: 'status',
            generation: this.tag,
            state: this.state,
            step: this.step ?? 0,
            steps: this.steps ?? 0,
            msPerStep: t.stepCount ? t.stepMs / t.stepCount : null,          // engine time of one run's step
            stepsPerSecond: wall > 0 && t.rounds ? (1000 * t.rounds) / wall : null, // lockstep rounds, wall time
        });
    }

    // names: what the engine's messages call the files ({ config, vocab, weights, corpus: […], dev }, from lab.load).
    async #load({ model, corpus, dev, names = {} }) {
        const engine = this.#need();
        await this.#reset();
        this.#setState('loading');
        const bytes = (b) => (b instanceof Uint8Array ? b : new Uint8Array(b));
        try {
            const info = engine.loadModel({ config: bytes(model.config), vocab: bytes(model.vocab),
                weights: bytes(model.weights) }, names);
            info.sentences = engine.loadCorpus((Array.isArray(corpus) ? corpus : [corpus]).map(bytes), names.corpus);
            info.pairs = dev ? engine.loadDev(bytes(dev), names.dev) : 0;
            return info;
        } finally {
            this.#setState('idle');
        }
    }

    async #reset() {
        this.generation++;
        this.runs = [];
        this.engine?.clearRuns();
        this.resume?.();
        this.resume = null;
        this.step = 0;
        this.steps = 0;
        if (this.state !== 'idle') this.#setState('idle');
    }

    // config: the global settings of lab.start plus runs: [RunConfig…] (each overrides the global keys).
    async #start(config) {
        const engine = this.#need();
        await this.#reset();
        const runConfigs = runList(config.runs);
        const common = {};
        for (const [k, v] of Object.entries(config)) if (!LOOP_KEYS.has(k)) common[k] = v;
        const steps = loopInteger('steps', common.steps ?? 1000, 1);
        const evalEvery = loopInteger('evalEvery', config.evalEvery ?? 50, 0);
        const threads = common.threads ?? 1;
        if (engine.threaded && runConfigs.length * (threads - 1) > engine.poolSize)
            throw new Error(`${runConfigs.length} runs of ${threads} threads need ${runConfigs.length * (threads - 1)} ` +
                `pthreads, the pool has ${engine.poolSize} (createLab({ maxRuns }))`);
        this.steps = steps;
        try {
            for (const rc of runConfigs) {
                const merged = { ...common, ...rc, steps: this.steps };
                engine.createRun(merged);
                this.runs.push({ config: merged, stopped: false });
            }
        } catch (e) {
            await this.#reset();
            throw e;
        }
        const generation = this.generation;
        this.timing = { rounds: 0, stepMs: 0, stepCount: 0, since: performance.now() };
        this.#setState('training');
        // Not awaited: the loop runs beside the message queue, which it lets through at every yield.
        this.#train(generation, evalEvery).catch((e) => (e?.fatal ? this.#crash(e)
            : this.post({ type: 'error', message: e?.message ?? String(e) })));
        return { runs: this.runs.length, steps: this.steps };
    }

    // Stops run i with a message (a NaN/Inf stop or an engine error); the other runs go on.
    #stop(i, e) {
        if (e.fatal) return this.#crash(e);
        this.runs[i].stopped = true;
        this.post({ type: 'error', generation: this.tag, run: i, message: `run ${i} (${this.runs[i].config.objective ?? 'infonce'}): ${e.message}` });
    }

    // initial: at step 0 every run holds the base weights, so runs that evaluate alike (same pooler and kernel set)
    // share one evaluation: 3 of 4 runs' encodings of the dev set saved at the start.
    #evaluateAll(initial = false) {
        const shared = new Map();
        this.runs.forEach((r, i) => {
            if (r.stopped) return;
            try {
                const key = `${r.config.pooler ?? ''}|${r.config.kernels ?? ''}`;
                let record = initial ? shared.get(key) : undefined;
                if (!record) {
                    record = this.engine.evaluate(i);
                    if (initial) shared.set(key, record);
                }
                this.post({ type: 'eval', generation: this.tag, run: i, record: { ...record } });
            } catch (e) {
                this.#stop(i, e);
            }
        });
    }

    async #train(generation, evalEvery) {
        const live = () => generation === this.generation;
        const hasDev = this.engine.info().pairs > 0;
        this.step = 0;
        if (hasDev) this.#evaluateAll(true);
        let lastStatus = performance.now();
        while (live() && this.step < this.steps && this.runs.some((r) => !r.stopped)) {
            await this.yieldNow();
            while (live() && this.state === 'paused') {
                await new Promise((resolve) => { this.resume = resolve; });
                // a pause is not training time: the rate restarts its window
                this.timing.since = performance.now();
                this.timing.rounds = 0;
            }
            if (!live()) return;
            this.runs.forEach((r, i) => {
                if (r.stopped) return;
                try {
                    const record = this.engine.step(i);
                    this.timing.stepMs += record.ms;
                    this.timing.stepCount++;
                    this.post({ type: 'step', generation: this.tag, run: i, record });
                } catch (e) {
                    this.#stop(i, e);
                }
            });
            this.step++;
            this.timing.rounds++;
            const last = this.step === this.steps;
            if (hasDev && ((evalEvery > 0 && this.step % evalEvery === 0) || last)) this.#evaluateAll();
            if (performance.now() - lastStatus >= STATUS_INTERVAL_MS) {
                lastStatus = performance.now();
                this.#postStatus();
            }
        }
        if (live()) this.#setState('done');
    }
}
