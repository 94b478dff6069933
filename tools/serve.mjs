#!/usr/bin/env node
// serve.mjs — a small static server for the site, with the headers that make a page cross-origin isolated
// (COOP same-origin + COEP require-corp, and CORP same-origin on every response) so that the threaded wasm build
// gets SharedArrayBuffer. --no-isolation omits all three, like a plain static host (GitHub Pages), to test the
// single-thread fallback and the coi-serviceworker path. Binds 127.0.0.1 by default; --port 0 picks a free port.
// The first line on stdout is "serving DIR at http://HOST:PORT/ …", which the browser tests read.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const USAGE = `usage: node tools/serve.mjs [DIR] [--port N] [--host ADDR] [--no-isolation] [--quiet]

Serves DIR (default: site) over HTTP.
  --port N          port to listen on (default 8080; 0 picks a free one)
  --host ADDR       address to bind (default 127.0.0.1)
  --no-isolation    omit Cross-Origin-Opener-Policy, -Embedder-Policy and -Resource-Policy
  --quiet           do not log requests`;

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.safetensors': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.zip': 'application/zip',
};

function parseArgs(argv) {
  const o = { dir: 'site', port: 8080, host: '127.0.0.1', isolation: true, quiet: false };
  let dirSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    else if (a === '--port') {
      const v = next();
      if (!/^\d+$/.test(v) || Number(v) > 65535) throw new Error(`--port ${v}: expected a number 0 … 65535`);
      o.port = Number(v);
    } else if (a === '--host') o.host = next();
    else if (a === '--no-isolation') o.isolation = false;
    else if (a === '--quiet') o.quiet = true;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else if (!dirSeen) { o.dir = a; dirSeen = true; }
    else throw new Error(`unexpected argument ${a}`);
  }
  return o;
}

/** Creates (does not start) the server. opts: { root, isolation, quiet } */
export function createServer({ root, isolation = true, quiet = true }) {
  const base = path.resolve(root);
  return http.createServer((req, res) => {
    const done = (status, headers, body) => {
      const h = { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...headers };
      if (isolation) {
        h['Cross-Origin-Opener-Policy'] = 'same-origin';
        h['Cross-Origin-Embedder-Policy'] = 'require-corp';
        h['Cross-Origin-Resource-Policy'] = 'same-origin';
      }
      res.writeHead(status, h);
      if (!quiet) console.log(`${status} ${req.method} ${req.url}`);
      if (body === undefined || req.method === 'HEAD') res.end();
      else if (body instanceof fs.ReadStream) body.pipe(res);
      else res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return done(405, { Allow: 'GET, HEAD' }, 'method not allowed\n');
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return done(400, { 'Content-Type': 'text/plain' }, 'bad request path\n');
    }
    if (rel.includes('\0')) return done(400, { 'Content-Type': 'text/plain' }, 'bad request path\n');
    let file = path.resolve(base, `.${rel}`);
    if (file !== base && !file.startsWith(base + path.sep)) return done(403, { 'Content-Type': 'text/plain' }, 'forbidden\n');
    let st;
    try { st = fs.statSync(file); } catch { return done(404, { 'Content-Type': 'text/plain' }, `not found: ${rel}\n`); }
    if (st.isDirectory()) {
      // Relative URLs in index.html need the trailing slash.
      if (!rel.endsWith('/')) return done(301, { Location: `${rel}/` });
      file = path.join(file, 'index.html');
      try { st = fs.statSync(file); } catch { return done(404, { 'Content-Type': 'text/plain' }, `no index.html in ${rel}\n`); }
    }
    const type = MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
    done(200, { 'Content-Type': type, 'Content-Length': st.size }, fs.createReadStream(file));
  });
}

async function main() {
  let o;
  try { o = parseArgs(process.argv.slice(2)); } catch (e) { console.error(`serve: ${e.message}\n${USAGE}`); process.exit(2); }
  if (!fs.existsSync(o.dir) || !fs.statSync(o.dir).isDirectory()) {
    console.error(`serve: ${o.dir} is not a folder (build the site first: node tools/build-site.mjs)`);
    process.exit(2);
  }
  const server = createServer({ root: o.dir, isolation: o.isolation, quiet: o.quiet });
  server.on('error', (e) => { console.error(`serve: ${e.message}`); process.exit(1); });
  server.listen(o.port, o.host, () => {
    const { port } = server.address();
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    console.log(`serving ${path.resolve(o.dir)} at http://${host}:${port}/ (${o.isolation ? 'COOP/COEP on: cross-origin isolated' : 'no isolation headers'})`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('serve.mjs')) main();
