#!/usr/bin/env node
// serve.mjs — a small static server for the site, with the headers that make a page cross-origin isolated
// (COOP same-origin + COEP require-corp, and CORP same-origin on every response) so that the threaded wasm build
// gets SharedArrayBuffer. --no-isolation omits all three, like a plain static host (GitHub Pages), to test the
// single-thread fallback and the coi-serviceworker path. Binds 127.0.0.1 by default; --port 0 picks a free port.
// The first line on stdout is "serving DIR at http://HOST:PORT/ …", which the browser tests read. Only regular files
// are served (a socket, FIFO or device is 403): no request, and no file the site holds, can crash or hang it.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import stream from 'node:stream';
import { fileURLToPath } from 'node:url';

const USAGE = `usage: node tools/serve.mjs [DIR] [--port N] [--host ADDR] [--no-isolation] [--quiet]

Serves DIR over HTTP (default: the repository's site/, wherever you run it from; a DIR you give is relative to the
current folder).
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

// The default is the site tools/build-site.mjs writes by default, so it does not depend on the current folder.
const DEFAULT_SITE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../site');

function parseArgs(argv) {
  const o = { dir: DEFAULT_SITE, port: 8080, host: '127.0.0.1', isolation: true, quiet: false };
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

/** The redirect target for a folder asked for without its trailing slash: the normalised path below the root,
 *  percent-encoded segment by segment. Built from the resolved file, never from the request, so a decoded
 *  character cannot make an invalid header and a path like /%2Fevil.com%2F.. cannot become //evil.com/ (another host). */
function folderLocation(base, dir) {
  const segments = path.relative(base, dir).split(path.sep).filter(Boolean);
  return `/${segments.map(encodeURIComponent).join('/')}${segments.length ? '/' : ''}`;
}

/** Opens `file` for serving: { handle, size } for a regular file, or an HTTP status (404 missing, 403 anything else:
 *  a folder, socket, FIFO or device). O_NONBLOCK so that opening a FIFO cannot hang; the type is checked on the open
 *  descriptor, so a file replaced or deleted between a look and the read cannot slip through. */
async function openRegular(file) {
  let handle;
  try {
    handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    return { status: e.code === 'ENOENT' || e.code === 'ENOTDIR' ? 404 : 403 };
  }
  const st = await handle.stat().catch(() => null);
  if (st && st.isFile()) return { handle, size: st.size };
  await handle.close().catch(() => {});
  return { status: 403 };
}

/** Creates (does not start) the server. opts: { root, isolation, quiet } */
export function createServer({ root, isolation = true, quiet = true }) {
  const base = path.resolve(root);
  const handle = async (req, res) => {
    const done = (status, headers, body) => {
      const h = { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...headers };
      if (isolation) {
        h['Cross-Origin-Opener-Policy'] = 'same-origin';
        h['Cross-Origin-Embedder-Policy'] = 'require-corp';
        h['Cross-Origin-Resource-Policy'] = 'same-origin';
      }
      res.writeHead(status, h);
      if (!quiet) console.log(`${status} ${req.method} ${req.url}`);
      if (body instanceof stream.Readable) {
        // A read error (or the client going away) ends both sides; the client sees a cut response, not a hang.
        stream.pipeline(body, res, (e) => { if (e) res.destroy(); });
      } else res.end(body === undefined || req.method === 'HEAD' ? undefined : body);
    };
    const text = (status, msg) => done(status, { 'Content-Type': 'text/plain; charset=utf-8' }, `${msg}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return done(405, { Allow: 'GET, HEAD' }, 'method not allowed\n');
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return text(400, 'bad request path');
    }
    if (rel.includes('\0')) return text(400, 'bad request path');
    let file = path.resolve(base, `.${rel}`);
    if (file !== base && !file.startsWith(base + path.sep)) return text(403, 'forbidden');
    const st = await fs.promises.stat(file).catch(() => null);
    if (st && st.isDirectory()) {
      // Relative URLs in index.html need the trailing slash.
      if (!rel.endsWith('/')) return done(301, { Location: folderLocation(base, file) });
      file = path.join(file, 'index.html');
    }
    const opened = await openRegular(file);
    if (opened.status) return text(opened.status, opened.status === 404 ? `not found: ${rel}` : `forbidden: ${rel}`);
    const { handle: fh, size } = opened;
    const type = MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
    if (req.method === 'HEAD') {
      await fh.close();
      return done(200, { 'Content-Type': type, 'Content-Length': size });
    }
    done(200, { 'Content-Type': type, 'Content-Length': size }, fh.createReadStream());
  };
  return http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      // One bad request must not take the server down: answer 500 if nothing was sent yet, else cut the response.
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`internal error: ${e.message}\n`);
      } else res.destroy();
      if (!quiet) console.error(`serve: ${req.method} ${req.url}: ${e.message}`);
    });
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
  // server.close() alone waits for every open connection (a slow download, a keep-alive socket), so Ctrl-C would
  // seem to do nothing: close the sockets too. A second signal exits at once whatever is still pending.
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    server.close(() => process.exit(0));
    for (const s of sockets) s.destroy();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('serve.mjs')) main();
