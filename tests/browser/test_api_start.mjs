// test_api_start.mjs — the page when its engine cannot start, on copies of the site with one file of the threaded
// build deleted, cut short, emptied or replaced by another build's (a partial deploy to a static host, a stale cache):
//   1. the threaded .wasm missing, cut short or another build's, and (Emscripten before 3.1.58, whose threaded build
//      has one) the pthread worker script missing or empty: the page does not hang or stop; it falls back to the
//      single-threaded build and says, where it says why threads are off, which file failed. An empty worker
//      script has no error event: the engine's start timeout (20 s) catches it. The fallback then trains with
//      2 threads asked without trying the threaded build again.
//   2. both builds broken: the page is in error and names both files.
//   3. a damaged model that the manifest vouches for (a site built from a bad file): the engine's message names
//      model/model.safetensors, not its path in the worker's in-memory file system (/dsp/in/…).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { browserTest, records, smallConfigHash, startServer, trainToDone, waitFor, watchPage } from './lib.mjs';

const halve = (f) => fs.truncateSync(f, fs.statSync(f).size >> 1);
const empty = (f) => fs.writeFileSync(f, '');

await browserTest('api_start', { isolation: true }, async (t, { opts, browser, cleanup }) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(opts.site, 'manifest.json'), 'utf8'));
  const threaded = manifest.wasm['threads-simd'].map((e) => e.path);
  const wasmFile = threaded.find((p) => p.endsWith('.wasm'));
  const workerFile = threaded.find((p) => p.endsWith('.worker.js')); // none since Emscripten 3.1.58
  const stWasm = manifest.wasm['single-simd'].map((e) => e.path).find((p) => p.endsWith('.wasm'));

  // A copy of the site with change(copy) applied, served isolated; opens the page and waits until it is ready or
  // in error (or 90 s: the page hangs). Returns { page, state, … what it shows }.
  async function open(name, change) {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-site-start-'));
    cleanup(() => fs.rmSync(copy, { recursive: true, force: true }));
    fs.cpSync(opts.site, copy, { recursive: true });
    change(copy);
    const server = await startServer(copy);
    cleanup(server.close);
    const page = await browser.context.newPage();
    watchPage(page);
    const t0 = Date.now();
    await page.goto(`${server.url}index.html${smallConfigHash({ steps: 4, evalEvery: 2, threads: 2 })}`);
    let hung = false;
    await waitFor(page, () => window.dissipate && ['ready', 'error'].includes(window.dissipate.state), null,
      { timeout: 90000, what: `${name}: the page to start or fail` }).catch(() => { hung = true; });
    const seen = await page.evaluate(() => ({ state: window.dissipate.state, info: window.dissipate.info,
      error: window.dissipate.session.error, shown: document.getElementById('errors').textContent,
      why: document.getElementById('why').hidden ? '' : document.getElementById('why').textContent,
      status: document.getElementById('status').textContent }));
    console.log(`${name}: ${hung ? 'HUNG' : seen.state} after ${Date.now() - t0} ms; ${seen.why || seen.error}`);
    return { page, hung, ...seen };
  }

  // 1. One file of the threaded build broken: the single-threaded build runs, and the page says which file failed.
  const cases = [
    ['the threaded .wasm missing', wasmFile, fs.rmSync],
    ['the threaded .wasm cut short', wasmFile, halve],
    // valid WebAssembly, but the single-threaded build's: without the build stamp it instantiated and failed later
    // with the message "Error"
    ['the threaded .wasm of another build', wasmFile, (f) => fs.copyFileSync(path.join(path.dirname(f), path.basename(stWasm)), f),
      /different builds/],
  ];
  if (workerFile) cases.push(['the pthread worker script missing', workerFile, fs.rmSync],
    ['the pthread worker script empty', workerFile, empty]);
  else cases.push(['the threaded module script empty', threaded.find((p) => p.endsWith('.mjs')), empty]);
  for (const [name, file, breakIt, why] of cases) {
    const seen = await open(name, (copy) => breakIt(path.join(copy, file)));
    t.ok(`${name}: the page does not hang`, !seen.hung);
    t.ok(`${name}: the page is ready on the single-threaded build`, seen.state === 'ready' && seen.info?.variant === 'single-simd' &&
      /single-thread SIMD/.test(seen.status), JSON.stringify({ state: seen.state, error: seen.error, status: seen.status }));
    t.ok(`${name}: "Threads are off" names ${file} and says the threaded build did not start`,
      seen.why.includes(file) && /threaded build did not start/.test(seen.why), seen.why);
    if (why) t.ok(`${name}: the page says ${why}`, why.test(seen.why), seen.why);
    if (name === cases[0][0] && seen.state === 'ready') {
      await trainToDone(seen.page);
      const runs = await records(seen.page);
      t.ok(`${name}: the fallback trains both runs to the end`, runs.length === 2 && runs.every((r) => r.steps.length === 4));
      t.ok(`${name}: 2 threads asked: still the single-threaded build, not a restart into the broken one`,
        await seen.page.evaluate(() => window.dissipate.info.variant === 'single-simd'));
    }
    await seen.page.close();
  }

  // 2. Both builds broken.
  const both = await open('both builds broken', (copy) => { fs.rmSync(path.join(copy, wasmFile)); halve(path.join(copy, stWasm)); });
  t.ok('both builds broken: the page says so, naming both files', both.state === 'error' && both.shown.includes(wasmFile) &&
    both.shown.includes(stWasm), JSON.stringify({ state: both.state, shown: both.shown }));
  await both.page.close();

  // 3. A damaged model the manifest vouches for.
  const model = await open('a damaged model.safetensors', (copy) => {
    const file = path.join(copy, manifest.model.weights.path);
    const bytes = fs.readFileSync(file).subarray(0, 100);
    fs.writeFileSync(file, bytes);
    const m = JSON.parse(fs.readFileSync(path.join(copy, 'manifest.json'), 'utf8'));
    Object.assign(m.model.weights, { bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') });
    fs.writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify(m));
  });
  t.ok('a damaged model: the error names model/model.safetensors, not /dsp/in/…', model.state === 'error' &&
    model.shown.includes(`${manifest.model.weights.path}: safetensors:`) && !/\/dsp\//.test(model.shown), model.shown);
  await model.page.close();
});
