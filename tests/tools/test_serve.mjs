// test_serve.mjs — tools/serve.mjs against requests and files that used to crash or wedge it: a redirect built from
// a decoded path (invalid header, or //other.host), a socket, a FIFO, a vanished file, a read error, Ctrl-C during
// a download; and its default folder (the repository's site/, from any current folder). Needs only node.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runTest } from '../browser/lib.mjs';
import { tempDir, fakeRepo, writeFiles, run } from './fixtures.mjs';

/** Starts serve.mjs (args as given, in cwd); resolves { port, dir, child, exited } once it prints its address. */
function startServe(script, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args, '--port', '0', '--quiet'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal, err })));
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^serving (.*) at http:\/\/127\.0\.0\.1:(\d+)\//m);
      if (m) resolve({ dir: m[1], port: Number(m[2]), child, exited });
    });
    exited.then(({ code }) => reject(new Error(`serve.mjs exited (${code}) before serving: ${err}`)));
  });
}

/** One raw request (the path as given, not normalised): { status, headers, body } or { error }. */
function request(port, p, { method = 'GET', timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', (e) => resolve({ status: res.statusCode, error: e.message }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolve({ error: e.message }));
    req.end();
  });
}

await runTest('tools_serve', async (t, cleanup) => {
  const tmp = tempDir(cleanup, 'dsp-serve-');
  const repo = fakeRepo(tmp, ['serve.mjs']);
  const script = path.join(repo, 'tools/serve.mjs');
  const site = path.join(repo, 'site');
  writeFiles(site, { 'index.html': 'FAKE-SITE', 'sub/index.html': 'SUB', 'a b/index.html': 'SPACE', 'big.bin': '' });
  fs.truncateSync(path.join(site, 'big.bin'), 256 << 20);   // sparse: a download that outlasts a paused client
  fs.symlinkSync(path.join(tmp, 'gone.txt'), path.join(site, 'vanished.txt'));   // deleted after it was linked
  execFileSync('mkfifo', [path.join(site, 'fifo')]);
  const sock = net.createServer().listen(path.join(site, 'sock'));
  cleanup(() => sock.close());
  await new Promise((r) => sock.on('listening', r));
  const elsewhere = path.join(tmp, 'elsewhere');
  writeFiles(elsewhere, { 'mine/index.html': 'MINE' });

  // ---------------------------------------------------------------- the default folder and --help
  const help = await run(process.execPath, [script, '--help'], { cwd: elsewhere });
  t.ok('--help says the default is the repository\'s site/', help.code === 0 && /repository's site\//.test(help.out), help.out);
  const s = await startServe(script, [], elsewhere);
  cleanup(() => s.child.kill('SIGKILL'));
  t.ok('with no DIR it serves the repository\'s site/, not ./site', s.dir === site, s.dir);
  t.ok('… and its index', (await request(s.port, '/')).body === 'FAKE-SITE');
  const mine = await startServe(script, ['mine'], elsewhere);
  cleanup(() => mine.child.kill('SIGKILL'));
  t.ok('a DIR given is relative to the current folder', mine.dir === path.join(elsewhere, 'mine') &&
       (await request(mine.port, '/')).body === 'MINE', mine.dir);
  mine.child.kill('SIGKILL');

  // ---------------------------------------------------------------- redirects: normalised, encoded, same host
  const alive = async () => (await request(s.port, '/index.html')).body === 'FAKE-SITE';
  const redirects = {
    '/%E2%80%A6%2F..': '/',                 // decoded to a non-Latin-1 path: once an invalid header and a crash
    '/%2Fevil.com%2F..%2Fsub': '/sub/',     // once "//evil.com/../sub/": another host
    '/sub': '/sub/',
    '/a%20b': '/a%20b/',
    '/x/..%2Fsub': '/sub/',
  };
  for (const [p, want] of Object.entries(redirects)) {
    const r = await request(s.port, p);
    t.ok(`${p} redirects to ${want}`, r.status === 301 && r.headers.location === want, JSON.stringify(r));
    t.ok(`… and the server lives on`, await alive());
  }
  t.ok('/sub/ serves the sub-folder\'s index', (await request(s.port, '/sub/')).body === 'SUB');

  // ---------------------------------------------------------------- files that are not regular files
  const sockR = await request(s.port, '/sock');
  t.ok('a socket file is refused (403), not an unhandled ENXIO', sockR.status === 403, JSON.stringify(sockR));
  t.ok('… and the server lives on', await alive());
  const fifoR = await request(s.port, '/fifo', { timeoutMs: 3000 });
  t.ok('a FIFO is refused (403) at once, not a hang', fifoR.status === 403, JSON.stringify(fifoR));
  t.ok('… and the server lives on', await alive());
  const goneR = await request(s.port, '/vanished.txt');
  t.ok('a file gone before it is opened is 404', goneR.status === 404, JSON.stringify(goneR));
  t.ok('… and the server lives on', await alive());
  if (fs.existsSync('/proc/self/mem')) {
    // a regular file whose read fails (EIO at address 0): the response is cut, the server stays up
    fs.symlinkSync('/proc/self/mem', path.join(site, 'unreadable.bin'));
    await request(s.port, '/unreadable.bin');
    t.ok('a read error mid-response leaves the server up', await alive());
  }
  const head = await request(s.port, '/big.bin', { method: 'HEAD' });
  t.ok('HEAD gives the size without a body', head.status === 200 && head.headers['content-length'] === String(256 << 20) && head.body === '');

  // ---------------------------------------------------------------- Ctrl-C during a download a client does not read
  const stalled = await new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: s.port, path: '/big.bin', agent: false }, (res) => { res.pause(); resolve(req); });
    req.on('error', () => resolve(req));   // a server already down must fail the check below, not hang the test
  });
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  s.child.kill('SIGINT');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 5000);
  const end = await s.exited;
  clearTimeout(timer);
  stalled.destroy();
  t.ok('SIGINT during a stalled download stops the server at once', end.code === 0 && Date.now() - t0 < 4000,
       `${JSON.stringify(end)} after ${Date.now() - t0} ms`);
});
