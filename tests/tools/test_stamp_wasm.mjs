// test_stamp_wasm.mjs — tools/stamp-wasm.mjs and wasm/js/stamp.mjs on small hand-made modules: one stamp lands in
// both files of a build (and the .wasm stays valid WebAssembly); stamping again changes nothing; the loader's check
// accepts a build's own pair and refuses, naming both files, another build's .wasm or one without a stamp; bad
// input is refused with a message. Needs only node.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runTest } from '../browser/lib.mjs';
import { REPO, tempDir, run } from './fixtures.mjs';
import { stampMismatch, wasmStamp } from '../../wasm/js/stamp.mjs';

const TOOL = path.join(REPO, 'tools/stamp-wasm.mjs');

// The smallest valid module, plus a custom section whose payload makes two "builds" differ.
const tinyWasm = (tag) => {
  const name = Buffer.from('x'), payload = Buffer.from(tag);
  return Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 1 + name.length + payload.length, name.length]),
                        name, payload]);
};
// minified: Emscripten 6.0.5 puts more code after the export on the same line (3.1.6 ends with the export alone)
const tinyScript = (tag, minified = false) => `var createDissipate = (() => function () { return ${JSON.stringify(tag)}; })();\n` +
  (minified ? 'export default createDissipate;var isPthread=false;isPthread&&createDissipate();\n' : 'export default createDissipate;\n');

// A build folder dir/name with name.mjs and name.wasm, stamped; returns their paths.
async function build(dir, name, tag, minified = false) {
  fs.mkdirSync(path.join(dir, name), { recursive: true });
  const mjs = path.join(dir, name, `${name}.mjs`), wasm = path.join(dir, name, `${name}.wasm`);
  fs.writeFileSync(mjs, tinyScript(tag, minified));
  fs.writeFileSync(wasm, tinyWasm(tag));
  const r = await run(process.execPath, [TOOL, mjs, wasm]);
  return { mjs, wasm, r };
}

await runTest('stamp_wasm', async (t, cleanup) => {
  const dir = tempDir(cleanup, 'dsp-stamp-');
  const a = await build(dir, 'a', 'first'), b = await build(dir, 'b', 'second');
  t.ok('stamp-wasm exits 0 and names the stamp', a.r.code === 0 && /build [0-9a-f]{16}/.test(a.r.out), a.r.out + a.r.err);
  const factory = (await import(pathToFileURL(a.mjs).href)).default;
  const bytes = fs.readFileSync(a.wasm);
  t.ok('the .wasm stays valid WebAssembly', WebAssembly.validate(bytes));
  t.ok('one stamp in both files', /^[0-9a-f]{16}$/.test(factory.dissipateBuild) && wasmStamp(bytes) === factory.dissipateBuild,
    `${factory.dissipateBuild} / ${wasmStamp(bytes)}`);
  t.ok('the module script still works', factory() === 'first');
  const c = await build(dir, 'c', 'third', true);
  const minified = (await import(pathToFileURL(c.mjs).href)).default;
  t.ok("a minified script's export is found and stamped", c.r.code === 0 &&
    minified.dissipateBuild === wasmStamp(fs.readFileSync(c.wasm)) && minified() === 'third', c.r.out + c.r.err);

  const before = [fs.readFileSync(a.mjs), bytes];
  const again = await run(process.execPath, [TOOL, a.mjs, a.wasm]);
  t.ok('stamping again changes neither file', again.code === 0 && before[0].equals(fs.readFileSync(a.mjs)) &&
    before[1].equals(fs.readFileSync(a.wasm)), again.err);

  t.ok("a build's own pair passes", stampMismatch(factory, bytes, 'a.mjs', 'a.wasm') === null);
  const other = stampMismatch(factory, fs.readFileSync(b.wasm), 'a.mjs', 'b.wasm');
  t.ok("another build's .wasm is refused, naming both files", /b\.wasm/.test(other ?? '') && /a\.mjs/.test(other) &&
    /different builds/.test(other), other);
  const bare = stampMismatch(factory, tinyWasm('first'), 'a.mjs', 'old.wasm');
  t.ok('a .wasm without a stamp is refused', /old\.wasm \(a build without a stamp\)/.test(bare ?? ''), bare);
  t.ok('neither stamped (a build not made by this tree): no check', stampMismatch(() => {}, tinyWasm('x'), 's', 'w') === null);

  // bad input
  const usage = await run(process.execPath, [TOOL, a.mjs]);
  t.ok('one argument: usage, exit 2', usage.code === 2 && /usage/.test(usage.err), usage.err);
  const notWasm = path.join(dir, 'not.wasm');
  fs.writeFileSync(notWasm, 'hello');
  const r1 = await run(process.execPath, [TOOL, a.mjs, notWasm]);
  t.ok('a file that is not WebAssembly is refused by name', r1.code === 1 && r1.err.includes(notWasm) &&
    /not a WebAssembly module/.test(r1.err), r1.err);
  const plain = path.join(dir, 'plain.mjs');
  fs.writeFileSync(plain, 'export const x = 1;\n');
  const r2 = await run(process.execPath, [TOOL, plain, b.wasm]);
  t.ok('a script without "export default NAME;" is refused', r2.code === 1 && /export default/.test(r2.err), r2.err);
  const cut = path.join(dir, 'cut.wasm');
  fs.writeFileSync(cut, tinyWasm('first').subarray(0, 12));
  const r3 = await run(process.execPath, [TOOL, b.mjs, cut]);
  t.ok('a module cut inside a section is refused', r3.code === 1 && /past the end/.test(r3.err), r3.err);
});
