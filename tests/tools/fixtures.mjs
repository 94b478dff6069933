// fixtures.mjs — what the tools tests share: a temporary folder removed at the end, a copy of some of tools/ in a
// fake repository (so a tool's repository-relative defaults point at fixtures, never at the real checkout's site or
// builds), and running a command to completion with its output.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../browser/lib.mjs';

export { REPO };

/** A new temporary folder; `cleanup` (runTest's second argument) removes it at the end. */
export function tempDir(cleanup, prefix = 'dsp-tools-') {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes files { 'rel/path': content } below dir, creating folders. */
export function writeFiles(dir, files) {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
}

/** A fake repository at dir/repo holding copies of the named tools (e.g. ['serve.mjs']); returns its path. */
export function fakeRepo(dir, tools) {
  const repo = path.join(dir, 'repo');
  for (const t of tools) {
    fs.mkdirSync(path.join(repo, 'tools'), { recursive: true });
    fs.copyFileSync(path.join(REPO, 'tools', t), path.join(repo, 'tools', t));
  }
  return repo;
}

/** Runs cmd args to its end (killed after timeoutMs): { code, signal, out, err, ms }. */
export function run(cmd, args, { cwd, env, timeoutMs = 30000, input } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, err, ms: Date.now() - t0 }); });
    child.stdin.end(input);
  });
}
