#!/usr/bin/env node
// build-site.mjs — packs the demo into one static folder (default: site/) that any static host can serve:
//   web/ (page, widgets, css, js) · wasm/js/*.mjs and both engine builds → wasm/ · Chart.js → vendor/ ·
//   coi-serviceworker.js at the root (its scope must cover the page) · the default model → model/ ·
//   the training sentences and STS-B dev → data/ · manifest.json with every file's size (and the checksums of the
//   model and data), so the page can show download sizes before it fetches anything.
// Relative flags are relative to the current folder; defaults are relative to the repository. The site is built in a
// temporary folder beside --out and swapped in only when complete, so a failed build leaves the old site as it was.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: node tools/build-site.mjs [--out DIR] [--model DIR] [--data DIR] [--wasm-mt DIR] [--wasm-st DIR]
                                [--web DIR] [--wasm-js DIR] [--allow-missing-engine]

  --out DIR         the site folder to (re)create (default: site; an existing folder is replaced only if it is
                    empty or a site this tool built, holding no file its manifest.json does not list; it may not
                    be, hold or lie inside an input folder)
  --model DIR       model folder with config.json, vocab.txt, model.safetensors (default: models/tiny)
  --data DIR        data folder with corpus/*.txt and stsb/dev.tsv (default: $DSP_DATA_DIR, else ../shared/data)
  --wasm-mt DIR     Emscripten build with the threads + SIMD engine, dissipate-mt.* (default: build-wasm)
  --wasm-st DIR     Emscripten build with the single-thread SIMD engine, dissipate-st.* (default: build-wasm-st)
  --web DIR         the page sources (default: web)
  --wasm-js DIR     the engine's JS runtime, lab.mjs and worker.mjs (default: wasm/js)
  --allow-missing-engine   build even if an engine build is missing (the page then reports it; UI work only)`;

class UsageError extends Error {}

function parseArgs(argv, env = process.env) {
  const o = {
    out: path.join(REPO, 'site'), model: path.join(REPO, 'models/tiny'),
    // like every other tool: the flag, else DSP_DATA_DIR (relative to the current folder), else the shared default
    data: env.DSP_DATA_DIR ? path.resolve(env.DSP_DATA_DIR) : path.join(REPO, '../shared/data'),
    wasmMt: path.join(REPO, 'build-wasm'), wasmSt: path.join(REPO, 'build-wasm-st'),
    web: path.join(REPO, 'web'), wasmJs: path.join(REPO, 'wasm/js'), allowMissingEngine: false,
  };
  const keys = { '--out': 'out', '--model': 'model', '--data': 'data', '--wasm-mt': 'wasmMt', '--wasm-st': 'wasmSt',
                 '--web': 'web', '--wasm-js': 'wasmJs' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    if (a === '--allow-missing-engine') { o.allowMissingEngine = true; continue; }
    if (!keys[a]) throw new UsageError(`unknown argument ${a}`);
    if (i + 1 >= argv.length) throw new UsageError(`${a} needs a folder`);
    o[keys[a]] = path.resolve(argv[++i]);
  }
  return o;
}

const NODE_MODULES = path.join(REPO, 'node_modules');

function need(file, what) {
  if (!fs.existsSync(file)) throw new Error(`${what} not found: ${file}`);
  return file;
}

/** Files under dir whose name starts with `prefix.` (e.g. dissipate-mt.wasm), searched recursively, build
 *  system folders skipped. The engine's CMake may put them in a subfolder (wasm/). */
function findArtefacts(dir, prefix) {
  const out = [];
  const walk = (d, depth) => {
    if (depth > 3) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) { if (!/^(CMakeFiles|test-tmp|tests|_deps)$/.test(e.name)) walk(path.join(d, e.name), depth + 1); }
      else if (e.name.startsWith(`${prefix}.`)) out.push(path.join(d, e.name));
    }
  };
  if (fs.existsSync(dir)) walk(dir, 0);
  return out;
}

function copy(src, dst) {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.copyFileSync(src, dst);
}

function copyTree(src, dst, skip = () => false) {
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, e.name), d = path.join(dst, e.name);
    if (skip(s, e)) continue;
    if (e.isDirectory()) copyTree(s, d, skip);
    else copy(s, d);
  }
}

/** p with symbolic links resolved as far as it exists (the rest appended), so that two spellings of one folder compare equal. */
function realish(p) {
  const rest = [];
  let q = path.resolve(p);
  for (;;) {
    try { return path.join(fs.realpathSync(q), ...rest); } catch { /* not there (yet): try its parent */ }
    const up = path.dirname(q);
    if (up === q) return path.resolve(p);
    rest.unshift(path.basename(q));
    q = up;
  }
}

const within = (a, b) => a === b || a.startsWith(b.endsWith(path.sep) ? b : b + path.sep);

/** Refuses an --out that is, holds or lies inside an input: replacing it would delete the input, and building into
 *  it would copy the site into its own sources. Checked before anything is written or deleted. */
function checkOutAgainstInputs(o) {
  const out = realish(o.out);
  const inputs = [['--model', o.model], ['--data', o.data], ['--web', o.web], ['--wasm-js', o.wasmJs],
                  ['--wasm-mt', o.wasmMt], ['--wasm-st', o.wasmSt], ['the npm packages', NODE_MODULES]];
  for (const [what, dir] of inputs) {
    const d = realish(dir);
    if (within(d, out)) throw new Error(`--out ${o.out} ${d === out ? 'is' : 'holds'} the ${what} folder ${dir}: replacing it would delete that input. Choose another --out.`);
    if (within(out, d)) throw new Error(`--out ${o.out} lies inside the ${what} folder ${dir}: the site would be built into its own input. Choose another --out.`);
  }
}

/** Refuses an --out that is a file, or lies below one (a raw ENOTDIR otherwise). */
function checkOutIsFolder(out) {
  for (let q = out; ; q = path.dirname(q)) {
    let st;
    try { st = fs.statSync(q); } catch { if (path.dirname(q) === q) return; continue; }
    if (!st.isDirectory()) throw new Error(q === out ? `--out ${out} is a file, not a folder` : `--out ${out}: ${q} is a file, not a folder`);
    return;
  }
}

const GENERATOR = 'dissipate tools/build-site.mjs';

/** Why an existing --out may not be replaced, or null if it may: only an empty folder, or a site this tool built
 *  (its manifest's own fields; sites of before the `generator` field are known by the rest) that holds nothing but
 *  the files its manifest lists. Anything else there would be lost. */
function notReplaceable(out) {
  const entries = fs.readdirSync(out);
  if (!entries.length) return null;
  let m = null;
  try { m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')); } catch { /* judged below */ }
  const ours = m && typeof m === 'object' && m.format === 1 && typeof m.files === 'object' && m.files !== null &&
    (m.generator === GENERATOR || (typeof m.generated === 'string' && m.model && m.wasm && Array.isArray(m.missing)));
  if (!ours) return `${out} is not empty and is not a site built by tools/build-site.mjs (no manifest.json of its own): not replacing it`;
  const extra = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name), r = path.relative(out, p).split(path.sep).join('/');
      if (e.isDirectory()) walk(p);
      else if (r !== 'manifest.json' && !Object.hasOwn(m.files, r)) extra.push(r);
    }
  };
  walk(out);
  if (extra.length) {
    return `${out} holds ${extra.length} file(s) the last build did not write (${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}): ` +
           'not replacing it; move them out first';
  }
  return null;
}

/** Whether process `pid` is alive (signal 0 checks without signalling; EPERM: alive, another user's). */
function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

/** Removes what builds of out that were killed left beside it: `.NAME.building-PID-…` folders (and their `.old`)
 *  whose PID is no longer running. A live build's folder is left alone. */
function removeStaleTemps(out) {
  const dir = path.dirname(out), prefix = `.${path.basename(out)}.building-`;
  let names = [];
  try { names = fs.readdirSync(dir); } catch { return; }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    console.error(`build-site: removed ${path.join(dir, name)}, left by an interrupted build (process ${pid})`);
  }
}

/** A new empty folder beside out (same parent, so the final rename is atomic and never crosses a filesystem).
 *  Not mkdtemp: its 0700 would become the site's mode, unreadable to a web server running as another user. */
function tempBeside(out) {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  removeStaleTemps(out);
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.building-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tmp);
  return tmp;
}

/** Puts the finished build `tmp` in place of `out`; the old site is removed only once the new one is there. */
function swapIn(tmp, out) {
  if (!fs.existsSync(out)) { fs.renameSync(tmp, out); return; }
  const why = notReplaceable(out);   // again: something may have been added to it during the build
  if (why) throw new Error(why);
  const old = `${tmp}.old`;
  fs.renameSync(out, old);
  try { fs.renameSync(tmp, out); } catch (e) { fs.renameSync(old, out); throw e; }
  fs.rmSync(old, { recursive: true, force: true });
}

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function build(o) {
  // Check everything before touching the output folder.
  checkOutIsFolder(o.out);
  checkOutAgainstInputs(o);
  const why = fs.existsSync(o.out) && notReplaceable(o.out);
  if (why) throw new Error(why);
  const model = ['config.json', 'vocab.txt', 'model.safetensors'].map((f) => need(path.join(o.model, f), `model file ${f}`));
  const corpusDir = need(path.join(o.data, 'corpus'), 'training corpus folder');
  const corpus = fs.readdirSync(corpusDir).filter((f) => f.endsWith('.txt')).sort();
  if (!corpus.length) throw new Error(`no *.txt training sentences in ${corpusDir}`);
  const dev = need(path.join(o.data, 'stsb/dev.tsv'), 'STS-B dev');
  need(path.join(o.web, 'index.html'), 'the page');
  const chartJs = need(path.join(NODE_MODULES, 'chart.js/dist/chart.umd.min.js'), 'Chart.js (npm install)');
  const coi = need(path.join(NODE_MODULES, 'coi-serviceworker/coi-serviceworker.js'), 'coi-serviceworker (npm install)');
  const variants = { 'threads-simd': findArtefacts(o.wasmMt, 'dissipate-mt'), 'single-simd': findArtefacts(o.wasmSt, 'dissipate-st') };
  const missing = [];
  if (!fs.existsSync(path.join(o.wasmJs, 'lab.mjs'))) missing.push(`the engine's JS runtime (${o.wasmJs}/lab.mjs)`);
  for (const [v, files] of Object.entries(variants)) {
    if (!files.some((f) => f.endsWith('.wasm'))) missing.push(`the ${v} engine build (${v === 'threads-simd' ? o.wasmMt : o.wasmSt}, dissipate-${v === 'threads-simd' ? 'mt' : 'st'}.wasm)`);
  }
  if (missing.length && !o.allowMissingEngine)
    throw new Error(`missing ${missing.join('; ')}. Build the engine (see wasm/README.md) or pass --allow-missing-engine for UI work.`);

  const out = tempBeside(o.out);
  try {
    const rel = (f) => path.relative(out, f).split(path.sep).join('/');
    const entry = (f, hash = false) => {
      const e = { path: rel(f), bytes: fs.statSync(f).size };
      if (hash) e.sha256 = sha256(f);
      return e;
    };

    // Page, widgets and their sources. web/README.md documents embedding; it is shipped too (harmless, useful).
    copyTree(o.web, out);
    copy(chartJs, path.join(out, 'vendor/chart.umd.min.js'));
    copy(path.join(NODE_MODULES, 'chart.js/LICENSE.md'), path.join(out, 'vendor/chart.js-LICENSE.md'));
    copy(coi, path.join(out, 'coi-serviceworker.js'));
    copy(path.join(NODE_MODULES, 'coi-serviceworker/LICENSE'), path.join(out, 'vendor/coi-serviceworker-LICENSE'));

    // Engine: the JS runtime and both builds side by side in wasm/.
    const wasmOut = path.join(out, 'wasm');
    fs.mkdirSync(wasmOut, { recursive: true });
    if (fs.existsSync(o.wasmJs)) {
      for (const f of fs.readdirSync(o.wasmJs)) if (/\.(mjs|js)$/.test(f)) copy(path.join(o.wasmJs, f), path.join(wasmOut, f));
    }
    const wasm = {};
    for (const [v, files] of Object.entries(variants)) {
      wasm[v] = files.map((f) => { const d = path.join(wasmOut, path.basename(f)); copy(f, d); return entry(d); });
    }

    // Model and data.
    const [cfg, vocab, weights] = model.map((f) => { const d = path.join(out, 'model', path.basename(f)); copy(f, d); return d; });
    for (const extra of ['README.md', 'LICENSE', 'LICENSE.md']) {
      if (fs.existsSync(path.join(o.model, extra))) copy(path.join(o.model, extra), path.join(out, 'model', extra));
    }
    const corpusOut = corpus.map((f) => { const d = path.join(out, 'data/corpus', f); copy(path.join(corpusDir, f), d); return d; });
    const devOut = path.join(out, 'data/stsb/dev.tsv');
    copy(dev, devOut);
    const stsbLicence = path.join(o.data, 'stsb/original/LICENSE.txt');
    if (fs.existsSync(stsbLicence)) copy(stsbLicence, path.join(out, 'data/stsb/LICENSE.txt'));
    if (fs.existsSync(path.join(o.data, 'README.md'))) copy(path.join(o.data, 'README.md'), path.join(out, 'data/README.md'));

    const files = {};
    const walk = (d) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p); else files[rel(p)] = fs.statSync(p).size;
      }
    };
    walk(out);
    const manifest = {
      format: 1,
      generator: GENERATOR,
      generated: new Date().toISOString(),
      model: { name: path.basename(o.model), config: entry(cfg, true), vocab: entry(vocab, true), weights: entry(weights, true) },
      corpus: corpusOut.map((f) => entry(f, true)),
      dev: entry(devOut, true),
      wasm,
      missing,
      files,
    };
    fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    swapIn(out, o.out);
    return manifest;
  } catch (e) {
    fs.rmSync(out, { recursive: true, force: true });
    throw e;
  }
}

/** A path as the user can paste it into a shell here: relative to the current folder if below it, quoted if needed. */
function shellPath(p) {
  const r = path.relative(process.cwd(), p);
  const outside = r === '..' || r.startsWith(`..${path.sep}`) || path.isAbsolute(r);
  const shown = r === '' ? '.' : outside ? p : r.startsWith('-') ? `./${r}` : r;   // ./ : not read as an option
  return /^[\w@%+=:,./-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`;
}

try {
  let o;
  try { o = parseArgs(process.argv.slice(2)); } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`build-site: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  const m = build(o);
  const total = Object.values(m.files).reduce((a, b) => a + b, 0);
  console.log(`built ${o.out}: ${Object.keys(m.files).length} files, ${(total / 1e6).toFixed(1)} MB` +
              ` (model ${m.model.name}, ${m.corpus.length} corpus files, engine builds: ${Object.entries(m.wasm).filter(([, f]) => f.length).map(([v]) => v).join(', ') || 'none'})`);
  if (m.missing.length) console.log(`warning: missing ${m.missing.join('; ')}`);
  console.log(`serve it with: node ${shellPath(path.join(REPO, 'tools/serve.mjs'))} ${shellPath(o.out)}`);
} catch (e) {
  console.error(`build-site: ${e.message}`);
  process.exit(1);
}
