// test_api_misuse.mjs — the page API (wasm/js/lab.mjs) as a script author misuses it, for every built variant: calls
// out of order, values of the wrong type or range, a non-list `runs`, empty or non-string sentences, calls after
// terminate() and after a failed download. Each gives an Error (or an 'error' event) naming the problem, never a
// hang or a silently different training. Then the worker side (session.mjs) meets a real wasm trap: it stops, says
// so once with fatal: true, and refuses every later call on that engine.
//
// Usage: node test_api_misuse.mjs   (exit 77 = skipped: no wasm build or no data)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { check, collect, createLab, DATA, done, modelFiles, skip, SOURCE, wasmBuilds } from './harness.mjs';

const builds = wasmBuilds();
if (builds.length === 0) skip('no WebAssembly build (run tools/build-wasm.sh)');
const corpusPath = join(DATA, 'corpus/wiki1m_head.txt');
const devPath = join(DATA, 'stsb/dev.tsv');
const modelDir = join(SOURCE, 'models/tiny');
if (!existsSync(corpusPath) || !existsSync(devPath)) skip(`no data at ${DATA}`);
if (!existsSync(join(modelDir, 'model.safetensors'))) skip('no models/tiny');
const model = modelFiles(modelDir);
const corpus = Buffer.from(readFileSync(corpusPath, 'utf8').split('\n').slice(0, 500).join('\n'));
const dev = Buffer.from(readFileSync(devPath, 'utf8').split('\n').slice(0, 50).join('\n'));
const SMALL = { batch: 8, maxLen: 16, steps: 3, evalEvery: 0 };

// A call that must settle within ms: its rejection message, or 'resolved: …', or 'HANG'.
async function outcome(fn, ms = 15000) {
    let timer;
    const hang = new Promise((resolve) => { timer = setTimeout(() => resolve('HANG'), ms); });
    try {
        return await Promise.race([Promise.resolve().then(fn).then((v) => `resolved: ${JSON.stringify(v)}`), hang]);
    } catch (e) {
        return e.message;
    } finally {
        clearTimeout(timer);
    }
}

// start(config) that must be refused: resolves null and the 'error' event's message matches.
async function refused(lab, name, config, pattern) {
    const errors = [];
    const off = lab.on('error', (e) => errors.push(e.message));
    const r = await lab.start(config);
    off();
    check(r === null && errors.some((m) => pattern.test(m)), `${name}: start(${JSON.stringify(config)}) → ${JSON.stringify(r)}, ` +
        `errors ${JSON.stringify(errors)}, expected ${pattern}`);
}

async function testLab(build) {
    const name = build.variant;
    const lab = await createLab({ baseUrl: build.dir, variant: build.variant, threads: build.threads });
    try {
        // Out of order.
        await refused(lab, name, SMALL, /load a model/);
        check(/no run 0 \(there are 0; start training first\)/.test(await outcome(() => lab.similarity(0, 'a', 'b'))),
            `${name}: similarity before any run`);
        check(/expected \{ model/.test(await outcome(() => lab.load())), `${name}: load() without assets`);
        const badSource = await outcome(() => lab.load({ model: { ...model, weights: 123 }, corpus, dev }));
        check(/'weights' must be a URL or bytes/.test(badSource), `${name}: a number as weights: ${badSource}`);
        // A download that fails leaves the lab as it was, not 'loading' for ever.
        const states = [];
        const offStatus = lab.on('status', (s) => states.push(s.state));
        const gone = await outcome(() => lab.load({ model: { ...model, weights: 'http://127.0.0.1:9/none' }, corpus, dev }));
        offStatus();
        check(/loading weights/.test(gone) && lab.state === 'idle' && states.at(-1) === 'idle',
            `${name}: a failed download: ${gone}; state ${lab.state}, statuses ${states}`);
        await lab.load({ model, corpus, dev });

        // Values of the wrong type or range, and configurations that would train something else than asked.
        await refused(lab, name, { ...SMALL, evalEvery: -1 }, /evalEvery must be an integer >= 0, got -1/);
        await refused(lab, name, { ...SMALL, evalEvery: 0.5 }, /evalEvery must be an integer >= 0, got 0.5/);
        await refused(lab, name, { ...SMALL, evalEvery: 'often' }, /evalEvery must be an integer >= 0, got "often"/);
        await refused(lab, name, { ...SMALL, steps: '3x' }, /steps must be an integer >= 1, got "3x"/);
        await refused(lab, name, { ...SMALL, runs: { objective: 'au' } }, /runs must be a list/);
        await refused(lab, name, { ...SMALL, runs: 'au' }, /runs must be a list/);
        await refused(lab, name, { ...SMALL, runs: [{}, null] }, /runs\[1\] must be an object/);
        await refused(lab, name, { ...SMALL, runs: [{ objective: 'au', steps: 9 }] }, /runs\[0\]\.steps: runs train in lockstep/);
        await refused(lab, name, { ...SMALL, batch: NaN }, /batch: 'NaN' is not a finite number/);
        await refused(lab, name, { ...SMALL, lr: Infinity }, /lr: 'Infinity' is not a finite number/);
        // The CLI's ranges: a negative dropout is no "use the model's own" (that is the engine's inner default),
        // and a warm-up as long as the run would never reach its peak rate.
        await refused(lab, name, { ...SMALL, dropout: -0.5 }, /dropout -0\.5 must be in \[0, 1\)/);
        await refused(lab, name, { ...SMALL, warmup: 3 }, /warmup 3 must be fewer than steps 3/);
        check(lab.state === 'idle', `${name}: refused starts leave the lab idle (${lab.state})`);

        // steps as a numeric string trains that many steps and evaluates the last one, as a number would.
        const c = collect(lab);
        const started = await lab.start({ ...SMALL, steps: '3' });
        const res = await c.finished;
        check(started?.steps === 3 && res.steps[0]?.length === 3 && res.evals[0]?.map((e) => e.step).join() === '0,3',
            `${name}: steps '3': ${JSON.stringify(started)}, evals at ${res.evals[0]?.map((e) => e.step)}`);

        // Sentences: non-empty strings, and a run index that is an integer.
        for (const [s1, s2, pattern] of [['', 'a', /sentence 1 must be a non-empty string, got ""/],
            ['a', '   ', /sentence 2 must be a non-empty string, got "   "/],
            [undefined, 'a', /sentence 1 must be a non-empty string, got undefined/],
            [42, 'a', /sentence 1 must be a non-empty string, got 42/],
            [{}, 'a', /sentence 1 must be a non-empty string, got an object/]]) {
            const got = await outcome(() => lab.similarity(0, s1, s2));
            check(pattern.test(got), `${name}: similarity(0, ${JSON.stringify(s1)}, ${JSON.stringify(s2)}) → ${got}`);
        }
        const byString = await outcome(() => lab.similarity('0', 'a', 'b'));
        check(/the run must be an integer index \(0 … 0\), got "0"/.test(byString), `${name}: run '0': ${byString}`);
        const long = await outcome(() => lab.similarity(0, 'a man plays a guitar. '.repeat(50000), 'a man plays a guitar.'));
        check(/^resolved: 0\.\d+|^resolved: 1$/.test(long), `${name}: a 1.1 M character sentence: ${long}`);
    } finally {
        lab.terminate();
    }
    // After terminate: every call rejects at once (it used to wait for ever), and terminate() again does nothing.
    lab.terminate();
    for (const [what, fn] of [['similarity', () => lab.similarity(0, 'a', 'b')], ['exportModel', () => lab.exportModel(0)],
        ['load', () => lab.load({ model, corpus, dev })], ['memory', () => lab.memory()]]) {
        const got = await outcome(fn, 3000);
        check(got === 'the lab was terminated', `${name}: ${what} after terminate → ${got}`);
    }
}

// The worker side on a real trap: a ccall that reads outside the wasm memory, in place of a step.
async function testCrash(build) {
    const name = build.variant;
    const { Session } = await import(join(SOURCE, 'wasm/js/session.mjs'));
    const posted = [];
    const session = new Session((msg) => posted.push(msg));
    const ask = async (msg) => {
        const id = posted.length + 1000;
        await session.handle({ ...msg, id });
        const r = posted.find((m) => m.type === 'result' && m.id === id);
        if (!r?.ok) throw new Error(r?.error);
        return r.value;
    };
    await ask({ type: 'init', buildUrl: pathToFileURL(`${build.dir}/`).href, variant: build.variant, poolSize: 2 });
    await ask({ type: 'load', model: { config: model.config, vocab: model.vocab, weights: model.weights }, corpus: [corpus], dev });
    const mod = session.engine.mod;
    const ccall = mod.ccall;
    let trapped = 0;
    mod.ccall = (fn, ...rest) => {
        if (fn === 'dsp_wasm_run_step' && !trapped++) return ccall('dsp_wasm_load_corpus', 'number', ['number'], [0xfffffff0]);
        return ccall(fn, ...rest);
    };
    await ask({ type: 'start', generation: 1, config: { ...SMALL, steps: 50, threads: build.threads, runs: [{}, { objective: 'au' }] } });
    for (let i = 0; i < 200 && !posted.some((m) => m.fatal); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    const fatal = posted.filter((m) => m.type === 'error');
    check(fatal.length === 1 && fatal[0].fatal === true && /the engine crashed in dsp_wasm_run_step \(.*memory access out of bounds/i.test(fatal[0].message),
        `${name}: a trap is one fatal error: ${JSON.stringify(fatal)}`);
    check(!posted.some((m) => m.type === 'step'), `${name}: no step record after the trap`);
    check(!posted.some((m) => m.type === 'status' && m.state === 'done'), `${name}: the training is not reported done`);
    const later = await ask({ type: 'similarity', run: 0, s1: 'a', s2: 'b' }).then(() => 'resolved', (e) => e.message);
    check(/the engine crashed in dsp_wasm_run_step/.test(later), `${name}: a call after the trap: ${later}`);
    check(posted.filter((m) => m.type === 'error').length === 1, `${name}: the crash is reported once`);
}

for (const build of builds) {
    await testLab(build);
    await testCrash(build);
}
done('test_api_misuse');
