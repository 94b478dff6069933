// test_build_site.mjs — tools/build-site.mjs on a fake repository of tiny inputs (no engine build, no data folder):
// an --out that is, holds or lies inside an input is refused before anything is deleted; only an empty folder or
// the tool's own site (nothing in it beyond its manifest's files) is replaced; a failed build leaves the old site
// whole; a killed build's temporary folder is removed by the next build (a running build's is not); DSP_DATA_DIR
// is honoured; bad arguments and an --out that is a file get clear messages; the printed serve command works from
// any folder. Needs only node.

import fs from 'node:fs';
import path from 'node:path';
import { runTest } from '../browser/lib.mjs';
import { tempDir, fakeRepo, writeFiles, run } from './fixtures.mjs';

const DATA = { 'corpus/wiki-a.txt': 'one sentence.\n', 'stsb/dev.tsv': 'a\tb\t1\n' };

/** A fake repository with every input build-site needs at its default place, and the data at ../shared/data. */
function makeRepo(tmp) {
  const repo = fakeRepo(tmp, ['build-site.mjs']);
  writeFiles(repo, {
    'web/index.html': '<!doctype html>', 'web/js/app.mjs': 'export {}',
    'wasm/js/lab.mjs': 'export {}', 'wasm/js/worker.mjs': 'export {}',
    'build-wasm/wasm/dissipate-mt.wasm': 'MT', 'build-wasm/wasm/dissipate-mt.mjs': 'export {}',
    'build-wasm-st/wasm/dissipate-st.wasm': 'ST', 'build-wasm-st/wasm/dissipate-st.mjs': 'export {}',
    'models/tiny/config.json': '{}', 'models/tiny/vocab.txt': '[PAD]\n', 'models/tiny/model.safetensors': 'W',
    'node_modules/chart.js/dist/chart.umd.min.js': '//', 'node_modules/chart.js/LICENSE.md': 'MIT',
    'node_modules/coi-serviceworker/coi-serviceworker.js': '//', 'node_modules/coi-serviceworker/LICENSE': 'MIT',
  });
  writeFiles(path.join(tmp, 'shared/data'), DATA);
  return repo;
}

/** Every file below dir (relative, sorted) with its content: a folder's state to compare before and after. */
function snapshot(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${path.relative(dir, p)}=${e.isFile() ? fs.readFileSync(p, 'utf8') : 'link'}`);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.join('\n');
}

await runTest('tools_build_site', async (t, cleanup) => {
  const tmp = tempDir(cleanup, 'dsp-build-site-');
  const repo = makeRepo(tmp);
  const script = path.join(repo, 'tools/build-site.mjs');
  const build = (args, { cwd = repo, env = {} } = {}) =>
    run(process.execPath, [script, ...args], { cwd, env: { DSP_DATA_DIR: undefined, ...env } });
  const site = path.join(repo, 'site');
  const leftovers = (dir) => fs.readdirSync(dir).filter((f) => f.includes('.building-'));

  // ---------------------------------------------------------------- a build, and a rebuild over it
  const first = await build([]);
  t.ok('builds the fake repository with the defaults', first.code === 0, first.err);
  const manifest = JSON.parse(fs.readFileSync(path.join(site, 'manifest.json'), 'utf8'));
  t.ok('its manifest names its generator and lists its files', manifest.generator === 'dissipate tools/build-site.mjs' &&
       manifest.files['model/config.json'] === 2 && manifest.files['wasm/dissipate-mt.wasm'] === 2, JSON.stringify(manifest.files));
  t.ok('the hint run in the repository is the short command', /^serve it with: node tools\/serve\.mjs site$/m.test(first.out), first.out);
  const again = await build([]);
  t.ok('a rebuild replaces its own site', again.code === 0, again.err);
  t.ok('… leaving no temporary folder', leftovers(repo).length === 0, leftovers(repo).join());
  // a build killed midway leaves its folder; the next build removes it once its process is gone, never a live one's
  const gone = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { cwd: repo });
  const dead = path.join(repo, `.site.building-${gone.out.trim()}-0a1b2c3d`);
  const live = path.join(repo, `.site.building-${process.pid}-0a1b2c3d`);
  writeFiles(dead, { 'index.html': 'half' });
  writeFiles(live, { 'index.html': 'busy' });
  const cleaned = await build([]);
  t.ok('a build removes a killed build\'s temporary folder', cleaned.code === 0 && !fs.existsSync(dead) &&
       /removed .*left by an interrupted build/.test(cleaned.err), cleaned.err);
  t.ok('… and leaves a running build\'s alone', fs.existsSync(path.join(live, 'index.html')));
  fs.rmSync(live, { recursive: true });

  // ---------------------------------------------------------------- 4: --out against the inputs
  fs.cpSync(site, path.join(repo, 's2'), { recursive: true });
  const s2 = snapshot(path.join(repo, 's2'));
  const holds = await build(['--out', 's2', '--model', 's2/model']);
  t.ok('an --out holding the --model is refused', holds.code === 1 && /holds the --model folder/.test(holds.err), holds.err);
  t.ok('… before anything in it is deleted', snapshot(path.join(repo, 's2')) === s2);
  const same = await build(['--out', 'models/tiny']);
  t.ok('an --out that is the model folder is refused', same.code === 1 && /is the --model folder/.test(same.err), same.err);
  const nested = await build(['--web', 'web', '--out', 'web/site']);
  t.ok('an --out inside --web is refused', nested.code === 1 && /inside the --web folder/.test(nested.err), nested.err);
  t.ok('… and creates nothing there', !fs.existsSync(path.join(repo, 'web/site')) && leftovers(path.join(repo, 'web')).length === 0);
  const viaLink = path.join(tmp, 'link-to-repo');
  fs.symlinkSync(repo, viaLink);
  const linked = await build(['--out', path.join(viaLink, 'models')]);
  t.ok('… also when spelled through a symbolic link', linked.code === 1 && /holds the --model folder/.test(linked.err), linked.err);
  const dataOut = await build(['--out', path.join(tmp, 'shared')]);
  t.ok('an --out holding the data folder is refused', dataOut.code === 1 && /holds the --data folder/.test(dataOut.err), dataOut.err);

  // ---------------------------------------------------------------- 5: a failed build leaves the old site whole
  const before = snapshot(site);
  fs.symlinkSync(path.join(tmp, 'nowhere'), path.join(repo, 'web/broken.js'));   // copying it fails mid-build
  const failed = await build([]);
  fs.rmSync(path.join(repo, 'web/broken.js'));
  t.ok('a build failing half way reports the error', failed.code === 1 && /broken\.js/.test(failed.err), failed.err);
  t.ok('… and the old site is still whole', snapshot(site) === before);
  t.ok('… and its temporary folder is gone', leftovers(repo).length === 0, leftovers(repo).join());
  const after = await build([]);
  t.ok('… and the next build replaces it', after.code === 0, after.err);

  // ---------------------------------------------------------------- 6: only its own site is replaced
  writeFiles(path.join(tmp, 'mypwa'), { 'manifest.json': '{"name":"my app"}', 'app.js': 'x' });
  const pwa = snapshot(path.join(tmp, 'mypwa'));
  const other = await build(['--out', path.join(tmp, 'mypwa')]);
  t.ok('a folder with another manifest.json is refused', other.code === 1 && /not a site built by/.test(other.err), other.err);
  t.ok('… and keeps its files', snapshot(path.join(tmp, 'mypwa')) === pwa);
  fs.writeFileSync(path.join(site, 'CNAME'), 'example.org');
  const extra = await build([]);
  t.ok('its own site with a file added is refused, naming the file', extra.code === 1 && /CNAME/.test(extra.err), extra.err);
  t.ok('… and keeps it', fs.readFileSync(path.join(site, 'CNAME'), 'utf8') === 'example.org');
  fs.rmSync(path.join(site, 'CNAME'));
  const legacy = JSON.parse(fs.readFileSync(path.join(site, 'manifest.json'), 'utf8'));
  delete legacy.generator;
  fs.writeFileSync(path.join(site, 'manifest.json'), JSON.stringify(legacy));
  const old = await build([]);
  t.ok('a site built before the generator field is still replaced', old.code === 0, old.err);
  fs.mkdirSync(path.join(tmp, 'empty'));
  const empty = await build(['--out', path.join(tmp, 'empty')]);
  t.ok('an empty folder is built into', empty.code === 0 && fs.existsSync(path.join(tmp, 'empty/manifest.json')), empty.err);
  t.ok('… with the usual mode, not a temporary folder\'s 0700',
       (fs.statSync(path.join(tmp, 'empty')).mode & 0o777) === (fs.statSync(site).mode & 0o777));

  // ---------------------------------------------------------------- 7: DSP_DATA_DIR, arguments, --out a file, the hint
  const elsewhere = path.join(tmp, 'my place');
  writeFiles(path.join(elsewhere, 'otherdata'), { ...DATA, 'corpus/from-env.txt': 'env.\n' });
  fs.renameSync(path.join(tmp, 'shared'), path.join(tmp, 'shared-moved'));   // the default is gone now
  const fromEnv = await build(['--out', 'env site'], { cwd: elsewhere, env: { DSP_DATA_DIR: 'otherdata' } });
  t.ok('DSP_DATA_DIR (relative to the current folder) is the data folder', fromEnv.code === 0 &&
       fs.existsSync(path.join(elsewhere, 'env site/data/corpus/from-env.txt')), fromEnv.err);
  const hint = fromEnv.out.match(/^serve it with: (.*)$/m)?.[1];
  t.ok('the hint from outside the repository names serve.mjs by its path and quotes a path with spaces',
       hint === `node ${repo}/tools/serve.mjs 'env site'`, hint);
  const flagWins = await build(['--out', 'flag site', '--data', 'otherdata'], { cwd: elsewhere, env: { DSP_DATA_DIR: 'nowhere' } });
  t.ok('--data beats DSP_DATA_DIR', flagWins.code === 0, flagWins.err);
  const noData = await build(['--out', 'x'], { cwd: elsewhere, env: { DSP_DATA_DIR: 'nowhere' } });
  t.ok('a DSP_DATA_DIR without the corpus is named in the error', noData.code === 1 && noData.err.includes(path.join(elsewhere, 'nowhere')), noData.err);
  fs.renameSync(path.join(tmp, 'shared-moved'), path.join(tmp, 'shared'));
  fs.writeFileSync(path.join(tmp, 'afile'), 'keep me');
  const isFile = await build(['--out', path.join(tmp, 'afile')]);
  t.ok('an --out that is a file is refused clearly', isFile.code === 1 && /afile is a file, not a folder/.test(isFile.err) &&
       !/ENOTDIR/.test(isFile.err) && fs.readFileSync(path.join(tmp, 'afile'), 'utf8') === 'keep me', isFile.err);
  const below = await build(['--out', path.join(tmp, 'afile/site')]);
  t.ok('an --out below a file is refused clearly', below.code === 1 && /afile is a file, not a folder/.test(below.err) && !/ENOTDIR/.test(below.err), below.err);
  const unknown = await build(['--outt', 'x']);
  t.ok('an unknown argument prints the usage', unknown.code === 2 && /unknown argument --outt/.test(unknown.err) && /usage: node tools\/build-site\.mjs/.test(unknown.err), unknown.err);
  const noValue = await build(['--out']);
  t.ok('a flag without its value prints the usage', noValue.code === 2 && /usage:/.test(noValue.err), noValue.err);
});
