// test_api_start.mjs — the page API (wasm/js/lab.mjs) when the engine cannot start, and the names its load errors
// give the files:
//   1. a threaded build whose .wasm is missing, cut short, or another build's: createLab starts the single-threaded
//      build instead,
//      and lab.info.fallback / lab.info.reason name the file that failed (it used to reject: no engine at all);
//      both builds broken: createLab rejects naming both files;
//   2. a damaged model, corpus or dev file: the engine's message names the file as the caller knows it (the name
//      given with the bytes, the URL, or else the model file's name or its place in the assets), never its path in
//      the worker's in-memory file system (/dsp/in/…), and the rest of the engine's message is unchanged.
//
// Usage: node test_api_start.mjs   (exit 77 = skipped: no wasm build or no data)
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { check, createLab, DATA, done, modelFiles, skip, SOURCE, TMP, wasmBuilds } from './harness.mjs';

const builds = wasmBuilds();
if (builds.length === 0) skip('no WebAssembly build (run tools/build-wasm.sh)');
const mt = builds.find((b) => b.variant === 'threads-simd');
const st = builds.find((b) => b.variant === 'single-simd');
const needed = [join(DATA, 'corpus/wiki1m_head.txt'), join(DATA, 'stsb/dev.tsv'), join(SOURCE, 'models/tiny/model.safetensors')];
const absent = needed.filter((f) => !existsSync(f));
if (absent.length) skip(`missing ${absent.join(', ')}`);
const head = (file, n) => Buffer.from(readFileSync(file, 'utf8').split('\n').slice(0, n).join('\n'));
const [corpus, dev] = [head(needed[0], 500), head(needed[1], 50)];
const model = modelFiles(join(SOURCE, 'models/tiny'));

// ---------------------------------------------------------------- 1. a threaded build that does not start
// One folder with both builds (as a site lays them out), then fault() applied to it.
function buildFolder(fault) {
    const dir = mkdtempSync(join(TMP, 'dsp-start-'));
    for (const b of [mt, st])
        for (const f of readdirSync(b.dir).filter((f) => /^dissipate-(mt|st)\./.test(f))) copyFileSync(join(b.dir, f), join(dir, f));
    fault(dir);
    return dir;
}

async function startCase(what, fault, expectFile, expectWhy = null) {
    const dir = buildFolder(fault);
    try {
        let lab = null, error = null;
        try { lab = await createLab({ baseUrl: dir, threads: 2 }); } catch (e) { error = e; }
        const info = lab?.info ?? {};
        check(lab && info.variant === 'single-simd' && info.threads === 1,
            `${what}: the single-threaded build runs (${error ? `createLab rejected: ${error.message}` : JSON.stringify(info)})`);
        check(typeof info.fallback === 'string' && info.fallback.includes(expectFile),
            `${what}: lab.info.fallback names ${expectFile}: ${info.fallback}`);
        if (expectWhy) check(expectWhy.test(info.fallback ?? ''), `${what}: lab.info.fallback says ${expectWhy}: ${info.fallback}`);
        check(typeof info.reason === 'string' && /threaded build did not start/.test(info.reason) && info.reason.includes(expectFile),
            `${what}: lab.info.reason says why threads are off: ${info.reason}`);
        if (lab) {
            const loaded = await lab.load({ model, corpus, dev });
            check(loaded.sentences > 0, `${what}: the fallback engine loads the assets`);
            lab.terminate();
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

if (mt && st) {
    await startCase('dissipate-mt.wasm missing', (d) => rmSync(join(d, 'dissipate-mt.wasm')), 'dissipate-mt.wasm');
    // Valid WebAssembly of another build: without the build stamp it instantiated (minified import names match) and
    // failed later with an empty message.
    await startCase('dissipate-mt.wasm of another build', (d) => copyFileSync(join(d, 'dissipate-st.wasm'), join(d, 'dissipate-mt.wasm')),
        'dissipate-mt.wasm', /dissipate-mt\.mjs .*different builds/);
    await startCase('dissipate-mt.wasm cut short', (d) => truncateSync(join(d, 'dissipate-mt.wasm'), statSync(join(d, 'dissipate-mt.wasm')).size >> 1),
        'dissipate-mt.wasm');
    const dir = buildFolder((d) => {
        rmSync(join(d, 'dissipate-mt.wasm'));
        writeFileSync(join(d, 'dissipate-st.wasm'), '');
    });
    try {
        let message = 'resolved';
        try { (await createLab({ baseUrl: dir, threads: 2 })).terminate(); } catch (e) { message = e.message; }
        check(/dissipate-mt\.wasm/.test(message) && /dissipate-st\.wasm/.test(message) && /single-threaded build did not start/.test(message),
            `both builds broken: createLab rejects naming both files: ${message}`);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
    // A forced variant does not fall back: the caller asked for that build.
    const forced = buildFolder((d) => rmSync(join(d, 'dissipate-mt.wasm')));
    try {
        let message = 'resolved';
        try { (await createLab({ baseUrl: forced, threads: 2, variant: 'threads-simd' })).terminate(); } catch (e) { message = e.message; }
        check(/threads-simd/.test(message) && /dissipate-mt\.wasm/.test(message), `variant forced: no fallback, the file named: ${message}`);
    } finally {
        rmSync(forced, { recursive: true, force: true });
    }
} else {
    console.log('(the fallback cases need both builds: skipped)');
}

// ---------------------------------------------------------------- 2. the names in load errors
const cut = (b) => b.subarray(0, 100);
const bad = {
    weights: { ...model, weights: cut(model.weights) },
    config: { ...model, config: Buffer.from('{"hidden_size": 128,') },
};
const tmp = mkdtempSync(join(TMP, 'dsp-names-'));
const weightsFile = join(tmp, 'model.safetensors');
writeFileSync(weightsFile, cut(model.weights));
const weightsUrl = pathToFileURL(weightsFile).href;
for (const build of builds) {
    const lab = await createLab({ baseUrl: build.dir, variant: build.variant, threads: build.threads });
    const refusal = async (assets) => {
        try { await lab.load(assets); return 'resolved'; } catch (e) { return e.message; }
    };
    const name = build.variant;
    const clean = (m) => !/\/dsp\//.test(m);
    let m = await refusal({ model: { ...bad.weights, weights: { bytes: bad.weights.weights, name: 'model/model.safetensors' } }, corpus, dev });
    check(/^model\/model\.safetensors: safetensors: the header length \d+ exceeds the 92 bytes that follow it$/.test(m) && clean(m),
        `${name}: weights given with a name: the message names it, the engine's text unchanged: ${m}`);
    m = await refusal({ model: bad.weights, corpus, dev });
    check(/^model\.safetensors: safetensors: /.test(m) && clean(m), `${name}: weights as bare bytes: the file's own name: ${m}`);
    m = await refusal({ model: { ...model, weights: weightsUrl }, corpus, dev });
    check(m.startsWith(`${weightsUrl}: safetensors: `) && clean(m), `${name}: weights as a URL: the URL: ${m}`);
    m = await refusal({ model: { ...bad.config, config: { bytes: bad.config.config, name: 'model/config.json' } }, corpus, dev });
    check(/^model\/config\.json: JSON error at line 1, column \d+: /.test(m) && clean(m), `${name}: config.json: ${m}`);
    m = await refusal({ model, corpus: [corpus, { bytes: Buffer.from('\n \n'), name: 'data/corpus/empty.txt' }], dev });
    check(/^data\/corpus\/empty\.txt: no sentences/.test(m) && clean(m), `${name}: the second corpus file: ${m}`);
    m = await refusal({ model, corpus: [corpus, Buffer.from('')], dev });
    check(/^corpus\[1\]: no sentences/.test(m) && clean(m), `${name}: the second corpus file, bare bytes: ${m}`);
    m = await refusal({ model, corpus, dev: { bytes: Buffer.from('x\ty\n'), name: 'data/stsb/dev.tsv' } });
    check(/^data\/stsb\/dev\.tsv:1: expected 3 tab-separated fields/.test(m) && clean(m), `${name}: dev.tsv with its line: ${m}`);
    // Messages that name no file stay as they are, and good named assets load.
    m = await refusal({ model: { ...model, config: Buffer.from(JSON.stringify({ ...JSON.parse(model.config), num_attention_heads: 7 })) }, corpus, dev });
    check(/^config\.json: hidden_size \d+ is not divisible by num_attention_heads 7$/.test(m), `${name}: a config value refused: ${m}`);
    const named = (bytes, n) => ({ bytes, name: n });
    const loaded = await lab.load({ model: { config: named(model.config, 'c'), vocab: named(model.vocab, 'v'), weights: named(model.weights, 'w') },
        corpus: [named(corpus, 'a')], dev: named(dev, 'd') });
    check(loaded.sentences > 0 && loaded.pairs > 0, `${name}: named assets load: ${JSON.stringify(loaded)}`);
    m = await refusal({ model: { ...model, weights: { bytes: 5, name: 'x' } }, corpus, dev });
    check(/'weights' must be a URL or bytes .* or \{ bytes, name \}/.test(m), `${name}: { bytes: 5 } refused by name: ${m}`);
    lab.terminate();
}
rmSync(tmp, { recursive: true, force: true });
done('test_api_start');
