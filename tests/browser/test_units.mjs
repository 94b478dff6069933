// test_units.mjs — the page's pure modules under node (no browser): configuration validation, the URL form and
// its round trip, the model card, the store-method zip, CSV quoting, the decimated series, and the static server's headers.

import { runTest, REPO } from './lib.mjs';
import path from 'node:path';

const web = (f) => import(path.join(REPO, 'web/js', f));

await runTest('units', async (t) => {
  const C = await web('config.mjs');

  // ---------------------------------------------------------------- validation
  const def = C.defaultConfig();
  t.ok('the default configuration is valid', C.validateConfig(def).ok, JSON.stringify(C.validateConfig(def).errors));
  t.ok('defaults compare infonce with au', def.runs.map((r) => r.objective).join() === 'infonce,au');
  const bad = (mut, pathKey) => {
    const c = C.cloneConfig(def);
    mut(c);
    const r = C.validateConfig(c);
    return !r.ok && typeof r.errors[pathKey] === 'string' && r.errors[pathKey].length > 0;
  };
  t.ok('τ = 0 is refused', bad((c) => { c.runs[0].tau = '0'; }, 'runs.0.tau'));
  t.ok('τ = -0.1 is refused', bad((c) => { c.runs[0].tau = '-0.1'; }, 'runs.0.tau'));
  t.ok('batch 1 is refused', bad((c) => { c.batch = '1'; }, 'batch'));
  t.ok('batch 2.5 is refused', bad((c) => { c.batch = '2.5'; }, 'batch'));
  t.ok('lr "abc" is refused', bad((c) => { c.lr = 'abc'; }, 'lr'));
  t.ok('lr "" is refused', bad((c) => { c.lr = ''; }, 'lr'));
  t.ok('lr "1e-4x" is refused', bad((c) => { c.lr = '1e-4x'; }, 'lr'));
  t.ok('lr Infinity is refused', bad((c) => { c.lr = '1e999'; }, 'lr'));
  t.ok('λ = 1.5 is refused', bad((c) => { c.runs[1].lambda = '1.5'; }, 'runs.1.lambda'));
  t.ok('steps 0 is refused', bad((c) => { c.steps = '0'; }, 'steps'));
  t.ok('evaluating less often than the run is long is refused', bad((c) => { c.steps = '10'; c.evalEvery = '20'; }, 'evalEvery'));
  t.ok('a single objective is refused', bad((c) => { c.runs.pop(); }, 'runs'));
  t.ok('an unknown optimizer is refused', bad((c) => { c.optimizer = 'lbfgs'; }, 'optimizer'));
  t.ok('momentum 1 is refused (must be < 1)', bad((c) => { c.momentum = '1'; }, 'momentum'));
  const negSeed = C.checkValue(C.FIELD_BY_ID.seed, '-1');
  t.ok('seed -1 says what is wrong (must be ≥ 0), not "not a whole number"', !negSeed.ok && /≥ 0/.test(negSeed.error), negSeed.error);
  const longLr = C.checkValue(C.FIELD_BY_ID.lr, 'x'.repeat(150));
  t.ok('a 150-character value is quoted shortened', !longLr.ok && longLr.error.length < 60 && /x…"/.test(longLr.error), longLr.error);
  const anyCase = C.fromUrlParams('#r1=InfoNCE&r2=AU');
  t.ok('objective names are case-insensitive', anyCase.notices.length === 0 && anyCase.config.runs.map((r) => r.objective).join() === 'infonce,au', anyCase.notices.join());
  const ctor = C.fromUrlParams('#r1=constructor&r2=au&r3=dcl');
  t.ok('"constructor" is no objective', ctor.config.runs.map((r) => r.objective).join() === 'au,dcl' && ctor.notices.some((n) => /constructor/.test(n)), ctor.notices.join());
  const good = C.cloneConfig(def);
  good.lr = '3E-5'; good.runs[0].tau = '.1'; good.batch = '2';
  t.ok('3E-5, .1 and batch 2 are accepted', C.validateConfig(good).ok, JSON.stringify(C.validateConfig(good).errors));

  // ---------------------------------------------------------------- lab arguments
  const args = C.toLabStart({ ...C.cloneConfig(def), runs: [C.defaultRun('met'), C.defaultRun('au')] });
  t.ok('met gets its own default margin 0.44', args.runs[0].margin === 0.44 && args.runs[0].perAnchor === false);
  t.ok('au gets λ, α, t and no τ', args.runs[1].lambda === 0.5 && args.runs[1].alpha === 2 && args.runs[1].t === 2 && !('tau' in args.runs[1]));
  t.ok('numbers are numbers', typeof args.lr === 'number' && args.lr === 1e-4 && args.batch === 32 && args.evalEvery === 25);

  // ---------------------------------------------------------------- URL round trip
  const url = 'r1=dclp&r1.tau=0.1&r2=au&r2.lambda=0.7&r2.alpha=2&r2.t=6&r3=mat&r3.margin=0.2&r3.perAnchor=1' +
    '&opt=sgd&mom=0.8&lr=3e-3&batch=32&steps=120&eval=10&seed=1234&threads=1&maxlen=40&pool=cls';
  const parsed = C.fromUrlParams(`#${url}`);
  t.ok('a full URL parses without notices', parsed.notices.length === 0, parsed.notices.join('; '));
  t.ok('the URL round-trips exactly', C.toUrlParams(parsed.config) === url, C.toUrlParams(parsed.config));
  t.ok('the parsed values are the URL\'s', parsed.config.runs[2].margin === '0.2' && parsed.config.optimizer === 'sgd' && parsed.config.lr === '3e-3');
  const fallback = C.fromUrlParams('#r1=infonce&r1.tau=0&r2=au&lr=abc&batch=1&steps=50&bogus=3');
  t.ok('invalid URL values fall back to defaults', fallback.config.runs[0].tau === '0.05' && fallback.config.lr === '1e-4' && fallback.config.batch === '32');
  t.ok('valid values next to invalid ones are kept', fallback.config.steps === '50');
  t.ok('each fallback has a notice', fallback.notices.length === 4 && fallback.notices.some((n) => /tau/.test(n)) && fallback.notices.some((n) => /bogus/.test(n)),
    fallback.notices.join(' | '));
  const oneRun = C.fromUrlParams('#r1=infonce&r2=nonsense');
  t.ok('fewer than 2 valid objectives falls back to the default pair', oneRun.config.runs.map((r) => r.objective).join() === 'infonce,au' && oneRun.notices.length >= 2);
  t.ok('an eval interval above the steps is corrected with a notice',
    (() => { const r = C.fromUrlParams('#steps=10&eval=50'); return r.config.evalEvery === '10' && r.notices.length === 1; })());
  t.ok('an eval interval the link does not give is shortened to a short run without a notice',
    (() => { const r = C.fromUrlParams('#steps=5'); return r.config.evalEvery === '5' && r.notices.length === 0; })());
  t.ok('page flags (fake, coi) are not notices', C.fromUrlParams('?fake=1&coi=0').notices.length === 0);
  // Two kinds of notice (audit finding 4): an unknown key was ignored, nothing fell back to a default.
  const onlyUnknown = C.fromUrlParams('#r1=au&r2=dcl&steps=40&zzz=1');
  t.ok('an unknown key is listed as ignored, not as a value that fell back', onlyUnknown.fellBack.length === 0 &&
    onlyUnknown.ignored.length === 1 && /zzz/.test(onlyUnknown.ignored[0]), JSON.stringify(onlyUnknown));
  const both = C.fromUrlParams('#r1=au&r2=dcl&r3=bogus&lr=-3&zzz=1');
  t.ok('a bad value falls back, an unknown key and objective are ignored; notices holds both kinds',
    both.fellBack.length === 1 && /lr=-3/.test(both.fellBack[0]) && both.ignored.length === 2 && both.ignored.some((n) => /bogus/.test(n)) &&
    both.notices.length === 3, JSON.stringify(both));
  t.ok('labels tell apart two runs of one objective',
    C.runLabels([{ ...C.defaultRun('au'), t: '2' }, { ...C.defaultRun('au'), t: '6' }]).join('|') === 'au (t=2)|au (t=6)');

  // ---------------------------------------------------------------- try-it: what a sentence takes at least
  t.ok('minTokens counts words and punctuation, with [CLS] and [SEP]', C.minTokens('A man is playing a guitar.') === 9 &&
    C.minTokens("don't-stop!! ok") === 10 && C.minTokens('word '.repeat(20)) === 22, String(C.minTokens('A man is playing a guitar.')));

  // ---------------------------------------------------------------- run colours (audit finding 6)
  const Ch = await web('charts.mjs');
  const colours = (objs) => Ch.runStyles(objs.map((objective) => ({ objective }))).map((s) => s.color);
  const dup = colours(['infonce', 'au', 'infonce']);
  t.ok('every run has its own colour, two infonce runs too', new Set(dup).size === 3, dup.join());
  t.ok('the first run of an objective keeps its objective\'s colour', dup[0] === Ch.OBJECTIVE_COLORS.infonce && dup[1] === Ch.OBJECTIVE_COLORS.au, dup.join());
  const many = [['au', 'au'], ['dcl', 'dcl', 'dcl', 'dcl'], ['infonce', 'au', 'infonce', 'au'], ['mat', 'met', 'mat', 'mpt']].map(colours);
  t.ok('2–4 runs of one or two objectives: all colours differ', many.every((c) => new Set(c).size === c.length), JSON.stringify(many));

  // ---------------------------------------------------------------- export file names (audit finding 10)
  const E = await web('exports.mjs');
  const tauRuns = { ...C.cloneConfig(def), runs: [{ ...C.defaultRun('infonce'), tau: '0.05' }, C.defaultRun('au'), { ...C.defaultRun('infonce'), tau: '0.1' }] };
  t.ok('file stem: the labels\' parameters spelled out, no "_" at an end', E.stem(tauRuns) === 'dissipate-infonce_tau0.05-au-infonce_tau0.1-seed42', E.stem(tauRuns));
  t.ok('file stem of distinct objectives is unchanged', E.stem(def) === 'dissipate-infonce-au-seed42', E.stem(def));
  t.ok('file labels: λ and α spelled out, "#2" kept as a number', E.fileLabel('au (λ=0.7, α=3)') === 'au_lambda0.7_alpha3' &&
    E.fileLabel('au #2') === 'au_2' && E.fileLabel('infonce (τ=1e-2)') === 'infonce_tau1e-2', [E.fileLabel('au (λ=0.7, α=3)'), E.fileLabel('au #2')].join());

  // ---------------------------------------------------------------- model card
  const cardOf = (pooler) => E.modelCard({
    config: { ...C.cloneConfig(def), pooler }, info: null, meta: () => ({ url: '#r1=infonce' }),
    store: { runs: [{ label: 'infonce', objective: 'infonce', params: {}, evals: [{ step: 0, spearman: 50 }] }] },
  }, 0, 'https://example.org/');
  t.ok('model card, mean pooler: says to mean-pool', /Pooling: mean\./.test(cardOf('mean')) && /attention_mask/.test(cardOf('mean')));
  t.ok('model card, cls_mlp pooler: [CLS] row, the mlp.* tensors are the SimCSE MLP that BertModel does not load',
    /\[CLS\] \+ MLP/.test(cardOf('cls_mlp')) && /mlp\.dense\.weight/.test(cardOf('cls_mlp')) && /does not load/.test(cardOf('cls_mlp')) &&
    !/mean-pool/.test(cardOf('cls_mlp')), cardOf('cls_mlp'));

  // ---------------------------------------------------------------- zip
  const Z = await web('zip.mjs');
  // The CRC-32 check value of "123456789" is 0xCBF43926 (the standard test vector of the IEEE polynomial).
  t.ok('crc32("123456789") = 0xCBF43926', Z.crc32(new TextEncoder().encode('123456789')) === 0xcbf43926);
  const big = new Uint8Array(70000).map((_, i) => (i * 31) & 0xff);
  const zip = Z.makeZip([{ name: 'folder/config.json', data: '{"a":1}' }, { name: 'folder/model.safetensors', data: big }]);
  const back = Z.readStoredZip(zip);
  t.ok('the zip reads back: names', back.map((e) => e.name).join() === 'folder/config.json,folder/model.safetensors');
  t.ok('the zip reads back: bytes and CRCs', back[1].data.length === big.length && back[1].data.every((b, i) => b === big[i]) && back.every((e) => e.crcOk));
  t.ok('the zip starts with a local file header', zip[0] === 0x50 && zip[1] === 0x4b && zip[2] === 3 && zip[3] === 4);
  const { execFileSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-zip-'));
  fs.writeFileSync(path.join(tmp, 'a.zip'), zip);
  let listing = '';
  try { listing = execFileSync('/usr/bin/python3', ['-c', 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(z.testzip(), *z.namelist())', path.join(tmp, 'a.zip')]).toString(); } catch (e) { listing = String(e); }
  t.ok('Python\'s zipfile accepts the archive (testzip finds no bad CRC)', /^None folder\/config.json folder\/model.safetensors/.test(listing), listing);
  fs.rmSync(tmp, { recursive: true, force: true });

  // ---------------------------------------------------------------- records
  const R = await web('records.mjs');
  const store = new R.RecordStore([{ label: 'au, "quoted", x', objective: 'au', params: {} }]);
  store.addStep(0, { step: 1, loss: 0.5, gd: NaN, grad_h: 1, lr: 1e-4 });
  store.addEval(0, { step: 1, spearman: 40.5, align: 0.3, uniform: -2, pairs: 1500 });
  const lines = store.toCSV().trim().split('\n');
  const head = R.parseCSVLine(lines[0]);
  const row = R.parseCSVLine(lines[1]);
  t.ok('CSV: header and rows have the same width', lines.every((l) => R.parseCSVLine(l).length === head.length));
  t.ok('CSV: a label with quotes and commas survives', row[head.indexOf('label')] === 'au, "quoted", x');
  t.ok('CSV: NaN is an empty cell', row[head.indexOf('gd')] === '' && row[head.indexOf('loss')] === '0.5');
  const json = JSON.parse(store.toJSON({ config: def }));
  t.ok('JSON: NaN becomes null', json.runs[0].steps[0].gd === null && json.runs[0].evals[0].spearman === 40.5);

  // ---------------------------------------------------------------- decimation
  const S = await web('series.mjs');
  const s = new S.DecimatedSeries(100);
  let sum = 0;
  for (let i = 1; i <= 20000; i++) { s.push(i, i % 7); sum += i % 7; }
  t.ok('20,000 points are drawn as at most 100', s.points.length <= 100 && s.points.length >= 50, String(s.points.length));
  t.ok('decimated x stays increasing', s.points.every((p, i) => i === 0 || p.x > s.points[i - 1].x));
  const meanDrawn = s.points.reduce((a, p) => a + p.y, 0) / s.points.length;
  t.ok('bucket means keep the series mean', Math.abs(meanDrawn - sum / 20000) < 0.05, String(meanDrawn));
  s.push(20001, NaN);
  t.ok('NaN is skipped', s.points.every((p) => Number.isFinite(p.y)));

  // ---------------------------------------------------------------- server headers and MIME types
  const { createServer } = await import(path.join(REPO, 'tools/serve.mjs'));
  // the served root is a folder inside a parent that holds a secret file: a path that escapes the root must not
  // reach it (fetch would normalise /../ away, so those requests go out raw)
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-serve-'));
  const root = path.join(parent, 'site');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(parent, 'secret.txt'), 'SECRET-42');
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html>');
  fs.writeFileSync(path.join(root, 'a.wasm'), new Uint8Array([0, 97, 115, 109]));
  fs.writeFileSync(path.join(root, 'b.mjs'), 'export {}');
  fs.mkdirSync(path.join(root, 'sub'));
  // request(port) against a server started for it alone
  const withServer = async (isolation, request) => {
    const srv = createServer({ root, isolation });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    try { return await request(srv.address().port); } finally { srv.close(); }
  };
  const get = (isolation, p) => withServer(isolation, async (port) => {
    const res = await fetch(`http://127.0.0.1:${port}${p}`, { redirect: 'manual' });
    await res.arrayBuffer();
    return res;
  });
  const r1 = await get(true, '/');
  t.ok('serve: COOP/COEP/CORP with isolation', r1.headers.get('cross-origin-opener-policy') === 'same-origin' &&
    r1.headers.get('cross-origin-embedder-policy') === 'require-corp' && r1.headers.get('cross-origin-resource-policy') === 'same-origin');
  const r2 = await get(false, '/index.html');
  t.ok('serve: no isolation headers with --no-isolation', r2.status === 200 && !r2.headers.get('cross-origin-opener-policy') && !r2.headers.get('cross-origin-embedder-policy'));
  t.ok('serve: .wasm is application/wasm', (await get(true, '/a.wasm')).headers.get('content-type') === 'application/wasm');
  t.ok('serve: .mjs is JavaScript', /^text\/javascript/.test((await get(true, '/b.mjs')).headers.get('content-type')));
  const http = await import('node:http');
  // the path as given (options, not a URL string, which http would normalise too)
  const getRaw = (p) => withServer(true, (port) => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p }, (r) => {
      let body = '';
      r.on('data', (c) => { body += c; });
      r.on('end', () => resolve({ status: r.statusCode, body }));
    }).on('error', reject);
  }));
  // a literal /../ is resolved by URL parsing to a path inside the root (404); an encoded slash survives it and
  // must be stopped by the server's own check (403)
  const escapes = { '/../secret.txt': 404, '/..%2fsecret.txt': 403, '/%2e%2e%2fsecret.txt': 403, '/sub/..%2f..%2fsecret.txt': 403 };
  for (const [p, want] of Object.entries(escapes)) {
    const r = await getRaw(p);
    t.ok(`serve: ${p} does not escape the root (${want})`, r.status === want && !r.body.includes('SECRET-42'), `${r.status} ${r.body}`);
  }
  t.ok('serve: a folder without slash redirects', (await get(true, '/sub')).status === 301);
  t.ok('serve: missing file is 404', (await get(true, '/nope.js')).status === 404);
  fs.rmSync(parent, { recursive: true, force: true });

  // ---------------------------------------------------------------- download sizes, the reason threads are off
  const A = await web('assets.mjs');
  t.ok('sizes in powers of ten', A.formatBytes(999) === '999 B' && A.formatBytes(1500) === '2 kB' &&
       A.formatBytes(15415842) === '15.4 MB', [999, 1500, 15415842].map(A.formatBytes).join());
  const St = await web('status.mjs');
  const single = { threads: 1, crossOriginIsolated: false, reason: 'the page is not cross-origin isolated' };
  const top = globalThis.window;
  globalThis.window = { self: {}, top: {} }; // a frame: its top is another window
  const framed = St.threadsOffReason(single, new URLSearchParams(''));
  globalThis.window = top;
  t.ok('a framed figure blames the page around it', /in a frame of a page that is not cross-origin isolated/.test(framed), framed);
  const own = St.threadsOffReason(single, new URLSearchParams(''));
  t.ok('an unframed page gives the engine its reason', own.startsWith(single.reason), own);
});
