// test_lab.mjs — the page API (wasm/js/lab.mjs → worker.mjs → session.mjs → api.c) under node, for every built
// variant: feature detection, downloads with progress over HTTP, refused inputs and configurations with messages,
// lockstep records, pause/resume, a NaN stop in one run while the other finishes, similarity, export and re-import,
// and reset.
//
// Usage: node test_lab.mjs   (exit 77 = skipped: no wasm build or no data)
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { check, collect, createLab, DATA, done, modelFiles, skip, SOURCE, tmpDir, train, wasmBuilds } from './harness.mjs';

const builds = wasmBuilds();
if (builds.length === 0) skip('no WebAssembly build (run tools/build-wasm.sh)');
const corpusPath = join(DATA, 'corpus/wiki1m_head.txt');
const devPath = join(DATA, 'stsb/dev.tsv');
if (!existsSync(corpusPath) || !existsSync(devPath)) skip(`no data at ${DATA}`);

// A small model keeps this test fast: the tiny preset's shape with the tokenizer fixture's vocabulary, made by the
// native CLI when it is there, else the bundled tiny model.
const work = tmpDir('wasm-lab');
let modelDir = join(SOURCE, 'models/tiny');
const cli = process.argv[2];
if (cli && existsSync(cli)) {
    modelDir = join(work, 'model');
    rmSync(modelDir, { recursive: true, force: true });
    execFileSync(cli, ['init', '--vocab', join(SOURCE, 'tests/fixtures/tokenizer/vocab.txt'), '--out', modelDir]);
}
if (!existsSync(join(modelDir, 'model.safetensors'))) skip('no model: pass the dissipate binary or build models/tiny');
const model = modelFiles(modelDir);
// 2,000 sentences and 200 dev pairs are plenty here.
const corpus = Buffer.from(readFileSync(corpusPath, 'utf8').split('\n').slice(0, 2000).join('\n'));
const dev = Buffer.from(readFileSync(devPath, 'utf8').split('\n').slice(0, 200).join('\n'));
const BASE = { batch: 8, maxLen: 24, seed: 5, lr: 1e-4 };

// Serves the assets over HTTP, so that load() streams them with fetch as in a browser.
const assets = { '/config.json': model.config, '/vocab.txt': model.vocab, '/model.safetensors': model.weights,
    '/corpus.txt': corpus, '/dev.tsv': dev };
const server = createServer((req, res) => {
    const body = assets[req.url];
    if (!body) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}`;

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

async function testBuild(build) {
    const name = build.variant;
    const lab = await createLab({ baseUrl: build.dir, variant: build.variant, threads: build.threads });
    try {
        check(lab.info.variant === name && lab.info.simd === true, `${name}: info ${JSON.stringify(lab.info)}`);
        check(lab.info.threads === build.threads, `${name}: ${lab.info.threads} threads, asked ${build.threads}`);
        check((name === 'single-simd') === (lab.info.reason !== null), `${name}: reason ${lab.info.reason}`);

        // Refused inputs: the engine's message comes back, naming the file.
        const bad = await lab.load({ model: { ...model, config: Buffer.from('{"hidden_size": 128') }, corpus, dev })
            .then(() => null, (e) => e.message);
        check(bad !== null && bad.includes('config.json'), `${name}: a broken config.json: ${bad}`);
        const empty = await lab.load({ model, corpus: Buffer.from('\n\n'), dev }).then(() => null, (e) => e.message);
        check(empty !== null && /no sentences/.test(empty), `${name}: an empty corpus: ${empty}`);
        const missing = await lab.load({ model: { config: model.config }, corpus, dev }).then(() => null, (e) => e.message);
        check(missing !== null && missing.includes('vocab'), `${name}: a missing file: ${missing}`);

        // A download over HTTP with progress.
        const progress = [];
        const info = await lab.load({ model: { config: `${url}/config.json`, vocab: `${url}/vocab.txt`,
            weights: `${url}/model.safetensors` }, corpus: `${url}/corpus.txt`, dev: `${url}/dev.tsv` },
        (p) => progress.push(p));
        const total = Object.values(assets).reduce((s, b) => s + b.length, 0);
        check(progress.length >= 5 && progress.at(-1).allLoaded === total && progress.at(-1).allTotal === total,
            `${name}: progress ends at ${JSON.stringify(progress.at(-1))}, expected ${total} bytes`);
        check(info.sentences === 2000 && info.pairs === 200 && info.hidden_size > 0, `${name}: ${JSON.stringify(info)}`);
        const http404 = await lab.load({ model: { ...model, weights: `${url}/nope` }, corpus, dev })
            .then(() => null, (e) => e.message);
        check(http404 !== null && http404.includes('404'), `${name}: a 404: ${http404}`);
        await lab.load({ model, corpus, dev });

        // Refused configurations.
        const errors = [];
        const off = lab.on('error', (e) => errors.push(e.message));
        check(await lab.start({ ...BASE, runs: [{ objective: 'simclr' }] }) === null &&
              errors.some((m) => m.includes("unknown objective 'simclr'")), `${name}: a bad objective: ${errors}`);
        check(await lab.start({ ...BASE, runs: [{ objective: 'au', temprature: 2 }] }) === null &&
              errors.some((m) => m.includes('temprature')), `${name}: an unknown key: ${errors}`);
        check(await lab.start({ ...BASE, batch: 1 }) === null && errors.some((m) => m.includes('batch size')),
            `${name}: batch 1: ${errors}`);
        if (name === 'threads-simd')
            check(await lab.start({ ...BASE, runs: Array(9).fill({}) }) === null &&
                  errors.some((m) => m.includes('pthreads')), `${name}: more runs than the pool: ${errors}`);
        off();

        // Lockstep with a NaN stop: run 1's SGD step of 1e30 without clipping overflows; runs 0 and 2 go on.
        const steps = 12;
        const res = await train(lab, { ...BASE, steps, evalEvery: 4, runs: [{ objective: 'infonce' },
            { objective: 'au', optimizer: 'sgd', lr: 1e30, clip: 0 }, { objective: 'dcl', tau: 0.1 }] });
        check(res.steps[0]?.length === steps && res.steps[2]?.length === steps, `${name}: runs 0 and 2 did ${steps} steps`);
        check((res.steps[1]?.length ?? 0) < steps, `${name}: run 1 stopped early (${res.steps[1]?.length} steps)`);
        check(res.errors.length === 1 && res.errors[0].run === 1 && /run 1 \(au\): step \d+/.test(res.errors[0].message),
            `${name}: one error, for run 1: ${JSON.stringify(res.errors)}`);
        check(res.steps[0].every((r, i) => r.step === i + 1 && r.loss > 0 && r.ms > 0 && r.gd !== undefined),
            `${name}: step records are complete and in order`);
        check(res.steps[0].every((r, i) => r.tokens === res.steps[2][i].tokens),
            `${name}: runs in lockstep see the same batches`);
        check(res.steps[0][0].loss !== res.steps[2][0].loss, `${name}: different objectives, different losses`);
        check(JSON.stringify(res.evals[0].map((e) => e.step)) === '[0,4,8,12]', `${name}: evals at 0, 4, 8, 12: ` +
            JSON.stringify(res.evals[0].map((e) => e.step)));
        check(res.evals[0][0].spearman === res.evals[2][0].spearman, `${name}: the same initial weights for every run`);
        check(res.evals[0].every((e) => e.pairs === 200 && Math.abs(e.spearman) <= 100), `${name}: eval records`);
        const st = res.statuses.at(-1);
        check(st.state === 'done' && st.msPerStep > 0 && st.stepsPerSecond > 0, `${name}: final status ${JSON.stringify(st)}`);

        // Similarity and export under the trained weights; the exported model scores the same after a reload.
        const same = await lab.similarity(0, 'A man is playing a guitar.', 'A man is playing a guitar.');
        const other = await lab.similarity(0, 'A man is playing a guitar.', 'The stock market fell sharply today.');
        check(Math.abs(same - 1) < 1e-6 && other < same && other >= -1, `${name}: similarity ${same}, ${other}`);
        const noRun = await lab.similarity(7, 'a', 'b').then(() => null, (e) => e.message);
        check(noRun !== null && noRun.includes('no run 7'), `${name}: similarity of a missing run: ${noRun}`);
        const files = await lab.exportModel(0);
        check(Object.keys(files).sort().join() === 'config.json,model.safetensors,vocab.txt', `${name}: exported files`);
        check(JSON.parse(new TextDecoder().decode(files['config.json'])).hidden_size === info.hidden_size,
            `${name}: the exported config.json`);
        check(Buffer.from(files['vocab.txt']).equals(model.vocab), `${name}: the exported vocab.txt`);
        await lab.load({ model: { config: files['config.json'], vocab: files['vocab.txt'],
            weights: files['model.safetensors'] }, corpus, dev });
        const again = await train(lab, { ...BASE, steps: 1, evalEvery: 1, runs: [{ objective: 'infonce' }] });
        check(again.evals[0][0].spearman === res.evals[0].at(-1).spearman,
            `${name}: the re-imported model scores ${again.evals[0][0].spearman}, ` +
            `the trained run scored ${res.evals[0].at(-1).spearman}`);
        await lab.load({ model, corpus, dev });

        // Pause stops the steps between two rounds; resume continues; reset ends the training.
        const c = collect(lab);
        let paused = null;
        const offPause = lab.on('step', ({ record }) => { if (record.step === 2 && !paused) { paused = true; lab.pause(); } });
        await lab.start({ ...BASE, steps: 40, evalEvery: 0, runs: [{}, { objective: 'au' }] });
        for (let i = 0; i < 200 && lab.state !== 'paused'; i++) await wait(20);
        offPause();
        const atPause = c.out.steps[0]?.length ?? 0;
        await wait(400);
        check(lab.state === 'paused' && (c.out.steps[0]?.length ?? 0) === atPause && atPause >= 2 && atPause < 40,
            `${name}: paused at ${atPause} steps, state ${lab.state}, now ${c.out.steps[0]?.length}`);
        lab.resume();
        for (let i = 0; i < 500 && (c.out.steps[0]?.length ?? 0) < atPause + 3; i++) await wait(10);
        check((c.out.steps[0]?.length ?? 0) > atPause, `${name}: resumed`);
        lab.reset();
        for (let i = 0; i < 200 && lab.state !== 'idle'; i++) await wait(10);
        const atReset = c.out.steps[0].length;
        await wait(300);
        check(lab.state === 'idle' && c.out.steps[0].length === atReset && atReset < 40,
            `${name}: reset stops training at ${atReset} steps (state ${lab.state})`);
        const gone = await lab.similarity(0, 'a', 'b').then(() => null, (e) => e.message);
        check(gone !== null, `${name}: no runs after a reset`);
    } finally {
        lab.terminate();
    }
}

try {
    for (const build of builds) await testBuild(build);
} finally {
    server.close();
}
done('test_lab');
