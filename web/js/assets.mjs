// assets.mjs — the site's manifest and the downloads it lists (model, training sentences, STS-B dev), with
// byte-level progress. Downloads are shared by every figure on a page: two widgets fetch the model once.

const downloads = new Map(); // absolute URL → { promise, loaded, total, listeners }

/** Fetches the site's manifest.json (written by tools/build-site.mjs). */
export async function loadManifest(siteBase) {
  const url = new URL('manifest.json', siteBase).href;
  const res = await fetch(url, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status} (was the site built with tools/build-site.mjs?)`);
  return res.json();
}

/** Fetches url as an ArrayBuffer, reporting onProgress(loaded, total). total falls back to expectedBytes. */
export function download(url, expectedBytes, onProgress) {
  let d = downloads.get(url);
  if (!d) {
    d = { loaded: 0, total: expectedBytes || 0, listeners: new Set(), promise: null };
    downloads.set(url, d);
    d.promise = (async () => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`could not download ${url}: HTTP ${res.status}`);
      const len = Number(res.headers.get('content-length')) || 0;
      if (len) d.total = len;
      if (!res.body || !res.body.getReader) {
        const buf = await res.arrayBuffer();
        d.loaded = d.total = buf.byteLength;
        d.listeners.forEach((f) => f(d.loaded, d.total));
        return buf;
      }
      const reader = res.body.getReader();
      const chunks = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        d.loaded += value.byteLength;
        d.listeners.forEach((f) => f(d.loaded, Math.max(d.total, d.loaded)));
      }
      const out = new Uint8Array(d.loaded);
      let p = 0;
      for (const c of chunks) { out.set(c, p); p += c.byteLength; }
      d.total = d.loaded;
      d.listeners.forEach((f) => f(d.loaded, d.total));
      return out.buffer;
    })();
    d.promise.catch(() => downloads.delete(url)); // a failed download may be retried
  }
  if (onProgress) {
    d.listeners.add(onProgress);
    onProgress(d.loaded, d.total);
    d.promise.finally(() => d.listeners.delete(onProgress)).catch(() => {});
  }
  return d.promise;
}

/** The asset groups the page shows a progress bar for, from the manifest: [{ id, label, files: [{ url, bytes }] }]. */
export function assetGroups(manifest, siteBase) {
  const f = (e) => ({ url: new URL(e.path, siteBase).href, bytes: e.bytes, path: e.path });
  return [
    { id: 'weights', label: 'model weights', files: [f(manifest.model.weights)] },
    { id: 'vocab', label: 'vocabulary + config', files: [f(manifest.model.vocab), f(manifest.model.config)] },
    { id: 'corpus', label: 'training sentences (Wikipedia)', files: manifest.corpus.map(f) },
    { id: 'dev', label: 'STS-B dev pairs', files: [f(manifest.dev)] },
  ];
}

/** Downloads every group; onProgress(groupId, loaded, total). Returns the buffers lab.load wants. */
export async function downloadAssets(manifest, siteBase, onProgress) {
  const groups = assetGroups(manifest, siteBase);
  const got = {};
  await Promise.all(groups.map(async (g) => {
    const loaded = g.files.map(() => 0);
    const total = g.files.map((x) => x.bytes || 0);
    const report = () => onProgress?.(g.id, loaded.reduce((a, b) => a + b, 0), total.reduce((a, b) => a + b, 0));
    got[g.id] = await Promise.all(g.files.map((file, i) => download(file.url, file.bytes, (l, t) => {
      loaded[i] = l; total[i] = t || total[i]; report();
    })));
  }));
  // The corpus stays a list of files, concatenated by the engine exactly as the CLI's --corpus FILE... does.
  return {
    model: { config: got.vocab[1], vocab: got.vocab[0], weights: got.weights[0] },
    corpus: got.corpus,
    dev: got.dev[0],
  };
}

/** Total bytes the page downloads before training can start (the engine build included, for the chosen variant). */
export function downloadSize(manifest, variant) {
  const sum = (list) => list.reduce((s, e) => s + (e.bytes || 0), 0);
  const m = manifest.model;
  const engine = (manifest.wasm && manifest.wasm[variant]) || [];
  return sum([m.weights, m.vocab, m.config, manifest.dev, ...manifest.corpus, ...engine]);
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '?';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
