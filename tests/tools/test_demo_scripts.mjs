// test_demo_scripts.mjs — tools/demo.sh and tools/setup.sh stop before any work on --help, an unknown argument, a
// data folder without the corpus, a bad or busy PORT; and demo.sh passes on a relative DSP_DATA_DIR resolved against
// the caller's folder. They run as copies in a fake repository, with stubs for setup.sh, cmake, apt-get and npm that
// only leave a mark: a check that let the script through would never install or build anything. Needs node and bash.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runTest } from '../browser/lib.mjs';
import { tempDir, fakeRepo, writeFiles, run } from './fixtures.mjs';

const stub = (mark) => `#!/bin/sh\necho "$0 $*" >> '${mark}'\nexit 1\n`;

/** A port taken by a listening server (closed at the end), and one that was free a moment ago. */
async function ports(cleanup) {
  const busy = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => busy.on('listening', r));
  cleanup(() => busy.close());
  const probe = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.on('listening', r));
  const free = probe.address().port;
  await new Promise((r) => probe.close(r));
  return { busy: busy.address().port, free };
}

await runTest('tools_demo_scripts', async (t, cleanup) => {
  const tmp = tempDir(cleanup, 'dsp-demo-');
  const repo = fakeRepo(tmp, ['demo.sh', 'setup.sh', 'only_help.sh']);
  const mark = path.join(tmp, 'ran');
  const bin = path.join(tmp, 'bin');
  // setup.sh's package managers, and demo.sh's first build step: each records that it ran, and fails
  for (const c of ['dpkg-query', 'apt-get', 'sudo', 'npm', 'cmake']) writeFiles(bin, { [c]: stub(mark) });
  for (const c of fs.readdirSync(bin)) fs.chmodSync(path.join(bin, c), 0o755);
  const PATH = `${bin}:${process.env.PATH}`;
  const ran = () => (fs.existsSync(mark) ? fs.readFileSync(mark, 'utf8') : '');
  const script = (name, args, { env = {}, cwd = tmp } = {}) => {
    fs.rmSync(mark, { force: true });
    return run('bash', [path.join(repo, 'tools', name), ...args], { cwd, env: { PATH, DSP_DATA_DIR: undefined, PORT: undefined, ...env } });
  };

  // ---------------------------------------------------------------- setup.sh: --help and unknown arguments
  const setupHelp = await script('setup.sh', ['--help']);
  t.ok('setup.sh --help prints its usage', setupHelp.code === 0 && /^usage: tools\/setup\.sh/.test(setupHelp.out), setupHelp.err);
  t.ok('… and runs nothing', ran() === '', ran());
  const setupBad = await script('setup.sh', ['--yes']);
  t.ok('setup.sh refuses an unknown argument with its usage', setupBad.code === 2 && /unknown argument '--yes'/.test(setupBad.err) && /usage:/.test(setupBad.err), setupBad.err);
  t.ok('… and runs nothing', ran() === '', ran());

  // demo.sh from here on: its setup.sh is a stub too
  writeFiles(repo, { 'tools/setup.sh': `#!/bin/sh\necho setup >> '${mark}'\n` });
  const data = path.join(tmp, 'caller/mydata');
  writeFiles(data, { 'corpus/a.txt': 'x.\n', 'stsb/dev.tsv': 'a\tb\t1\n' });
  const { busy, free } = await ports(cleanup);

  // ---------------------------------------------------------------- demo.sh: --help and unknown arguments
  const help = await script('demo.sh', ['--help']);
  t.ok('demo.sh --help prints its usage and environment', help.code === 0 && /^usage: tools\/demo\.sh/.test(help.out) &&
       /DSP_DATA_DIR/.test(help.out) && /PORT/.test(help.out), help.err);
  t.ok('… and runs nothing', ran() === '', ran());
  const bad = await script('demo.sh', ['--port', '9000']);
  t.ok('demo.sh refuses an unknown argument with its usage', bad.code === 2 && /unknown argument '--port'/.test(bad.err) && /usage:/.test(bad.err), bad.err);
  t.ok('… and runs nothing', ran() === '', ran());

  // ---------------------------------------------------------------- demo.sh: the data folder and the port, up front
  const noData = await script('demo.sh', [], { env: { DSP_DATA_DIR: path.join(tmp, 'nowhere'), PORT: String(free) } });
  t.ok('a data folder without the corpus is named at once', noData.code === 1 && noData.err.includes(path.join(tmp, 'nowhere')) &&
       /corpus\/\*\.txt and stsb\/dev\.tsv/.test(noData.err), noData.err);
  t.ok('… before setup or any build', ran() === '', ran());
  writeFiles(path.join(tmp, 'half'), { 'corpus/a.txt': 'x.\n' });
  const half = await script('demo.sh', [], { env: { DSP_DATA_DIR: path.join(tmp, 'half'), PORT: String(free) } });
  t.ok('a data folder without stsb/dev.tsv is refused too', half.code === 1 && ran() === '', half.err);
  const busyRun = await script('demo.sh', [], { env: { DSP_DATA_DIR: data, PORT: String(busy) } });
  t.ok('a busy PORT is named at once', busyRun.code === 1 && busyRun.err.includes(`port ${busy}`) && /EADDRINUSE/.test(busyRun.err), busyRun.err);
  t.ok('… before setup or any build', ran() === '', ran());
  const notPort = await script('demo.sh', [], { env: { DSP_DATA_DIR: data, PORT: '80a' } });
  t.ok('a PORT that is not a number is refused', notPort.code === 1 && /PORT=80a/.test(notPort.err) && ran() === '', notPort.err);

  // ---------------------------------------------------------------- demo.sh: a relative DSP_DATA_DIR
  const rel = await script('demo.sh', [], { cwd: path.join(tmp, 'caller'), env: { DSP_DATA_DIR: 'mydata', PORT: String(free) } });
  t.ok('a relative DSP_DATA_DIR is the caller\'s: the checks pass and setup runs', /^setup$/m.test(ran()), `${rel.code} ${rel.err}`);
  t.ok('… and the build gets it as an absolute path', ran().split('\n').some((l) => l.endsWith(` -DDSP_DATA_DIR=${data}`)), ran());
});
