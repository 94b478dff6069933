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

/** The hex SHA-256 of bytes, or null where the browser has no crypto.subtle (a page served over plain HTTP from
 *  another host than localhost is not a secure context). */
async function sha256Hex(bytes) {
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (!subtle) return null;
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Refuses a download whose size or SHA-256 differs from the manifest's: a truncated or damaged file would otherwise
 *  load (a cut dev set scores fewer pairs, flipped weights train) or fail later with a less useful message. */
async function verify(url, bytes, expected) {
  const name = expected.path || url;
  const again = 'a truncated or damaged download (reload the page), or a site whose files changed after it was built';
  if (expected.bytes && bytes.byteLength !== expected.bytes)
    throw new Error(`${name}: downloaded ${bytes.byteLength} bytes, the manifest lists ${expected.bytes}: ${again}`);
  if (expected.sha256) {
    const got = await sha256Hex(bytes);
    if (got !== null && got !== expected.sha256)
      throw new Error(`${name}: its SHA-256 differs from the manifest's: ${again}`);
  }
}

/** Fetches url as an ArrayBuffer, reporting onProgress(loaded, total). expected: the manifest's entry ({ bytes,
 *  sha256, path }, each optional): total falls back to its bytes, and a download that does not match it is refused. */
export function download(url, expected, onProgress) {
  if (typeof expected === 'number') expected = { bytes: expected };
  expected = expected || {};
  let d = downloads.get(url);
  if (!d) {
    d = { loaded: 0, total: expected.bytes || 0, listeners: new Set(), promise: null };
    downloads.set(url, d);
    d.promise = (async () => {
      let res;
      try {
        res = await fetch(url);
      } catch (e) {
        throw new Error(`could not download ${url}: ${e.message || e}`);
      }
      if (!res.ok) throw new Error(`could not download ${url}: HTTP ${res.status}`);
      const len = Number(res.headers.get('content-length')) || 0;
      if (len) d.total = len;
      let out;
      if (!res.body || !res.body.getReader) {
        out = new Uint8Array(await res.arrayBuffer());
        d.loaded = out.byteLength;
      } else {
        const reader = res.body.getReader();
        const chunks = [];
        for (;;) {
          let step;
          try {
            step = await reader.read();
          } catch (e) { // the connection broke off mid-file
            throw new Error(`could not download ${url}: ${e.message || e} after ${d.loaded} bytes`);
          }
          if (step.done) break;
          chunks.push(step.value);
          d.loaded += step.value.byteLength;
          d.listeners.forEach((f) => f(d.loaded, Math.max(d.total, d.loaded)));
        }
        out = new Uint8Array(d.loaded);
        let p = 0;
        for (const c of chunks) { out.set(c, p); p += c.byteLength; }
      }
      await verify(url, out, expected);
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
  const f = (e) => ({ url: new URL(e.path, siteBase).href, bytes: e.bytes, path: e.path, sha256: e.sha256 });
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
    got[g.id] = await Promise.all(g.files.map((file, i) => download(file.url, file, (l, t) => {
      loaded[i] = l; total[i] = t || total[i]; report();
    })));
  }));
  // The corpus stays a list of files, concatenated by the engine exactly as the CLI's --corpus FILE... does. Each
  // goes with its path on the site, which the engine's messages then name ("model/model.safetensors: …").
  const named = (id, i) => ({ bytes: got[id][i], name: groups.find((g) => g.id === id).files[i].path });
  return {
    model: { config: named('vocab', 1), vocab: named('vocab', 0), weights: named('weights', 0) },
    corpus: got.corpus.map((_, i) => named('corpus', i)),
    dev: named('dev', 0),
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
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(0)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}
