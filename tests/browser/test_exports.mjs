// test_exports.mjs — every export produces a valid file: the CSV parses (same width on every line, numbers where
// expected), the JSON parses and holds the records and the configuration, each chart's PNG has the PNG signature,
// and the trained weights (a zip with the Hugging Face folder, and the three separate files) have a safetensors
// header that parses, names the expected tensors, and holds weights that differ from the untrained model. The runs
// use the cls_mlp pooler: the try-it hint and the model card must name it, and the weights carry the MLP.

import fs from 'node:fs';
import path from 'node:path';
import { browserTest, parseArgs, openLab, trainToDone, smallConfigHash, REPO } from './lib.mjs';

const opts = parseArgs();
const { readStoredZip } = await import(path.join(REPO, 'web/js/zip.mjs'));
const { parseCSVLine } = await import(path.join(REPO, 'web/js/records.mjs'));
const STEPS = 6, EVAL = 3;

async function download(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click(selector)]);
  return { name: dl.suggestedFilename(), bytes: new Uint8Array(fs.readFileSync(await dl.path())) };
}

/** Parses a safetensors image: { header, dataStart } or throws. */
function parseSafetensors(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n <= 0 || 8 + n > bytes.length) throw new Error(`header length ${n} does not fit a ${bytes.length}-byte file`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const dataLen = bytes.length - 8 - n;
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = e.data_offsets;
    const width = { F32: 4, F16: 2, BF16: 2 }[e.dtype];
    if (!width) throw new Error(`${name}: dtype ${e.dtype}`);
    if (!(a >= 0 && b <= dataLen && b - a === width * e.shape.reduce((x, y) => x * y, 1))) throw new Error(`${name}: offsets ${a}..${b} vs shape ${e.shape}`);
  }
  // Hugging Face's own reader also wants the tensors back to back from 0 to the end of the file.
  const spans = Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, e]) => e.data_offsets)
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let at = 0;
  for (const [a, b] of spans) {
    if (a !== at) throw new Error(`a tensor begins at byte ${a} of the data section where the one before ends at ${at}`);
    at = b;
  }
  if (at !== dataLen) throw new Error(`the tensors cover ${at} of the data section's ${dataLen} bytes`);
  return { header, dataStart: 8 + n };
}

/** A tensor's values as floats, whatever its dtype (the shipped model may be F16, exports are F32). */
function tensor(st, bytes, name) {
  const e = st.header[name];
  const [a, b] = e.data_offsets;
  const raw = bytes.slice(st.dataStart + a, st.dataStart + b);
  const dv = new DataView(raw.buffer);
  const n = e.shape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  const f16 = (h) => {
    const s = h & 0x8000 ? -1 : 1, ex = (h >> 10) & 0x1f, m = h & 0x3ff;
    return ex === 0 ? s * m * 2 ** -24 : ex === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (ex - 15);
  };
  for (let i = 0; i < n; i++) {
    if (e.dtype === 'F32') out[i] = dv.getFloat32(4 * i, true);
    else if (e.dtype === 'F16') out[i] = f16(dv.getUint16(2 * i, true));
    else { const t = new DataView(new ArrayBuffer(4)); t.setUint32(0, dv.getUint16(2 * i, true) << 16); out[i] = t.getFloat32(0); }
  }
  return out;
}

await browserTest('exports', { isolation: true }, async (t, { server, browser, cleanup }) => {
  const { page, problems } = await openLab(browser.context, `${server.url}index.html${smallConfigHash({ steps: STEPS, evalEvery: EVAL })}&pool=cls_mlp`);
  await trainToDone(page);
  const hint = await page.textContent('.tryit .hint');
  t.ok('try it: the hint names the pooler trained ([CLS], not mean pooling)', /\[CLS\]/.test(hint) && !/mean pooling/.test(hint), hint);
  await page.waitForTimeout(400);

  // CSV
  const csv = await download(page, '#export-csv');
  const lines = new TextDecoder().decode(csv.bytes).trim().split('\n');
  const head = parseCSVLine(lines[0]);
  const rows = lines.slice(1).map(parseCSVLine);
  t.ok('CSV: named .csv', csv.name.endsWith('.csv'), csv.name);
  t.ok('CSV: a header with type, step, loss, spearman', ['run', 'type', 'step', 'loss', 'gd', 'grad_h', 'spearman', 'align', 'uniform'].every((c) => head.includes(c)), head.join());
  t.ok('CSV: every line as wide as the header', rows.every((r) => r.length === head.length));
  t.ok(`CSV: ${2 * STEPS} step rows and ${2 * (STEPS / EVAL + 1)} eval rows`,
    rows.filter((r) => r[head.indexOf('type')] === 'step').length === 2 * STEPS && rows.filter((r) => r[head.indexOf('type')] === 'eval').length === 2 * (STEPS / EVAL + 1));
  t.ok('CSV: losses and Spearmans are numbers', rows.every((r) => (r[head.indexOf('type')] === 'step' ? Number.isFinite(Number(r[head.indexOf('loss')])) : Number.isFinite(Number(r[head.indexOf('spearman')])))));

  // JSON
  const js = await download(page, '#export-json');
  let doc = null;
  try { doc = JSON.parse(new TextDecoder().decode(js.bytes)); } catch (e) { t.ok('JSON parses', false, e.message); }
  t.ok('JSON: parses, with two runs', doc && doc.runs.length === 2);
  t.ok('JSON: every step and evaluation', doc && doc.runs.every((r) => r.steps.length === STEPS && r.evals.length === STEPS / EVAL + 1));
  t.ok('JSON: the configuration and its URL', doc && doc.config && doc.config.steps === String(STEPS) && /^#r1=infonce&/.test(doc.url), doc && doc.url);
  t.ok('JSON: the build that ran it', doc && doc.build && /simd/.test(doc.build.variant));

  // PNG of each chart
  const charts = await page.evaluate(() => [...document.querySelectorAll('#export-png-row button')].map((b) => b.dataset.chart));
  t.ok('a PNG button per chart (6)', charts.length === 6, charts.join());
  for (const c of charts) {
    const png = await download(page, `#export-png-row button[data-chart="${c}"]`);
    const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    const dv = new DataView(png.bytes.buffer, png.bytes.byteOffset);
    t.ok(`PNG ${c}: signature, IHDR and a sensible size`, sig.every((b, i) => png.bytes[i] === b) &&
      new TextDecoder().decode(png.bytes.subarray(12, 16)) === 'IHDR' && dv.getUint32(16) >= 300 && dv.getUint32(20) >= 200,
      `${png.name} ${png.bytes.length} bytes`);
  }

  // The trained weights
  const site = (f) => fs.readFileSync(path.join(opts.site, f));
  const cfg0 = JSON.parse(site('model/config.json'));
  const initial = new Uint8Array(site('model/model.safetensors'));
  const st0 = parseSafetensors(initial);
  const L = cfg0.num_hidden_layers;
  const expected = ['embeddings.word_embeddings.weight', 'embeddings.position_embeddings.weight', 'embeddings.token_type_embeddings.weight',
    'embeddings.LayerNorm.weight', 'embeddings.LayerNorm.bias'];
  for (let l = 0; l < L; l++) {
    for (const n of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense', 'intermediate.dense', 'output.dense'])
      expected.push(`encoder.layer.${l}.${n}.weight`, `encoder.layer.${l}.${n}.bias`);
    for (const n of ['attention.output.LayerNorm', 'output.LayerNorm']) expected.push(`encoder.layer.${l}.${n}.weight`, `encoder.layer.${l}.${n}.bias`);
  }
  const checkFolder = (what, files) => {
    const config = JSON.parse(new TextDecoder().decode(files['config.json']));
    t.ok(`${what}: config.json parses and matches the model`, config.hidden_size === cfg0.hidden_size && config.vocab_size === cfg0.vocab_size && config.num_hidden_layers === L);
    const vocab = new TextDecoder().decode(files['vocab.txt']).split('\n').filter((l, i, a) => l !== '' || i < a.length - 1);
    t.ok(`${what}: vocab.txt has vocab_size lines`, vocab.length === config.vocab_size, `${vocab.length} vs ${config.vocab_size}`);
    let st = null;
    try { st = parseSafetensors(files['model.safetensors']); } catch (e) { t.ok(`${what}: safetensors header parses`, false, e.message); return; }
    t.ok(`${what}: safetensors header parses`, true);
    const missing = expected.filter((n) => !st.header[n]);
    t.ok(`${what}: the ${expected.length} expected BERT tensors are there (HF names)`, missing.length === 0, missing.join());
    const we = st.header['embeddings.word_embeddings.weight'];
    t.ok(`${what}: word embeddings are [vocab, hidden]`, we && we.shape[0] === config.vocab_size && we.shape[1] === config.hidden_size);
    const name = 'encoder.layer.0.attention.self.query.weight';
    // Trained: some weight moved by more than F16 rounding of the downloaded model could explain (|w| ~ 0.02 → ~1e-5).
    const trained = st.header[name] && st0.header[name] &&
      ((a, b) => a.length === b.length && a.some((x, i) => Math.abs(x - b[i]) > 1e-4 * Math.max(1, Math.abs(b[i]))))(tensor(st, files['model.safetensors'], name), tensor(st0, initial, name));
    t.ok(`${what}: ${name} was trained (differs from the downloaded model)`, trained);
  };
  await page.selectOption('#export-run', '0');
  const zip = await download(page, '#export-zip');
  t.ok('zip: named .zip', zip.name.endsWith('.zip'), zip.name);
  let entries = [];
  try { entries = readStoredZip(zip.bytes); } catch (e) { t.ok('zip: readable', false, e.message); }
  t.ok('zip: every CRC matches', entries.length > 0 && entries.every((e) => e.crcOk));
  const inZip = Object.fromEntries(entries.map((e) => [e.name.split('/').pop(), e.data]));
  t.ok('zip: one folder with config.json, vocab.txt, model.safetensors, README.md', ['config.json', 'vocab.txt', 'model.safetensors', 'README.md'].every((f) => inZip[f]) &&
    new Set(entries.map((e) => e.name.split('/')[0])).size === 1, entries.map((e) => e.name).join());
  if (inZip['model.safetensors']) checkFolder('zip', inZip);
  const card = inZip['README.md'] ? new TextDecoder().decode(inZip['README.md']) : '';
  t.ok('zip: the model card names the pooler and how to reproduce it', /\[CLS\] \+ MLP/.test(card) && /last_hidden_state\[:, 0\]/.test(card) &&
    /mlp\.dense\.weight/.test(card) && !/mean-pool/.test(card), card);
  t.ok('zip: the weights hold the SimCSE MLP the card describes', inZip['model.safetensors'] && !!parseSafetensors(inZip['model.safetensors']).header['mlp.dense.weight']);

  const files = {};
  const got = new Promise((resolve) => {
    page.on('download', async (dl) => {
      files[dl.suggestedFilename()] = new Uint8Array(fs.readFileSync(await dl.path()));
      if (Object.keys(files).length === 3) resolve();
    });
  });
  await page.selectOption('#export-run', '1');
  await page.click('#export-files');
  await Promise.race([got, new Promise((r) => setTimeout(r, 30000))]);
  // Plain names, so that a folder of them loads with from_pretrained as it is; the message says what was saved.
  t.ok('3 files: config.json, vocab.txt, model.safetensors under exactly those names', Object.keys(files).sort().join() === 'config.json,model.safetensors,vocab.txt', Object.keys(files).join());
  await page.waitForFunction(() => /Saved/.test(document.getElementById('export-msg').textContent), null, { timeout: 10000 }).catch(() => {});
  const saved = await page.textContent('#export-msg');
  t.ok('3 files: the message names the files saved', /config\.json/.test(saved) && /vocab\.txt/.test(saved) && /model\.safetensors/.test(saved), saved);
  if (files['model.safetensors']) checkFolder('3 files (run 2)', files);

  // The try-it box: a cosine per run, 1 for a sentence against itself.
  const compare = async (a, b) => {
    await page.fill('#s1', a);
    await page.fill('#s2', b);
    await page.click('#compare');
    await page.waitForFunction(() => /At step/.test(document.getElementById('tryit-msg').textContent), null, { timeout: 30000 });
    return page.evaluate(() => [...document.querySelectorAll('#tryit-out tbody tr')].map((tr) => Number(tr.cells[1].firstChild.textContent)));
  };
  const cos = await compare('A man is playing a guitar.', 'A woman is slicing an onion.');
  t.ok('try it: one cosine in [-1, 1] per run', cos.length === 2 && cos.every((c) => Number.isFinite(c) && Math.abs(c) <= 1), cos.join());
  const same = await compare('A man is playing a guitar.', 'A man is playing a guitar.');
  t.ok('try it: a sentence against itself has cosine 1', same.length === 2 && same.every((c) => Math.abs(c - 1) < 1e-3), same.join());

  // Two runs of one objective (audit findings 6 and 10): every export's name keeps the parameter that tells them
  // apart, spelled out and without a stray "_", by one rule for CSV, JSON, PNG and zip (and the folder in the zip);
  // the plane chart, which the PNG draws, gives each run its own colour.
  await page.evaluate(() => { location.hash = '#r1=infonce&r1.tau=0.05&r2=au&r3=infonce&r3.tau=0.1&batch=8&steps=2&eval=2&seed=7&maxlen=12'; });
  await page.waitForFunction(() => window.dissipate.form.getConfig().runs.length === 3, null, { timeout: 10000 });
  await trainToDone(page);
  await page.waitForTimeout(400);
  const STEM = 'dissipate-infonce_tau0.05-au-infonce_tau0.1-seed7';
  const names3 = [];
  for (const sel of ['#export-csv', '#export-json', '#export-png-row button[data-chart="plane"]']) names3.push((await download(page, sel)).name);
  await page.selectOption('#export-run', '0');
  const zip3 = await download(page, '#export-zip');
  names3.push(zip3.name);
  const folder3 = readStoredZip(zip3.bytes)[0]?.name.split('/')[0];
  t.ok('file names: τ kept, no trailing "_", one stem for CSV, JSON, PNG and zip',
    names3.join() === [`${STEM}.csv`, `${STEM}.json`, `${STEM}-plane.png`, `${STEM}-infonce_tau0.05.zip`].join() && folder3 === `${STEM}-infonce_tau0.05`,
    `${names3.join()} ${folder3}`);
  const planeColours = await page.evaluate(() => window.dissipate.charts.charts.plane.data.datasets.map((d) => d.borderColor));
  t.ok('plane chart (and its PNG): three runs, three colours, the two infonce runs included', planeColours.length === 3 && new Set(planeColours).size === 3, planeColours.join());
  t.ok('no console errors', problems.length === 0, problems.join('\n'));
});
