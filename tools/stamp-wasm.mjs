#!/usr/bin/env node
// stamp-wasm.mjs — writes one build stamp into an Emscripten module script and its .wasm, after each link
// (wasm/CMakeLists.txt runs it), so that the loader can refuse a .mjs paired with another build's .wasm by name
// (wasm/js/stamp.mjs says why). The stamp is the first 16 hex digits of the SHA-256 of both files as linked: the
// same sources and flags give the same stamp. Running it again on stamped files replaces the stamp, not adds one.
//
// usage: node tools/stamp-wasm.mjs MODULE.mjs MODULE.wasm
import crypto from 'node:crypto';
import fs from 'node:fs';
import { STAMP_PROPERTY, STAMP_SECTION, wasmSections } from '../wasm/js/stamp.mjs';

const [mjsPath, wasmPath, ...extra] = process.argv.slice(2);
if (!mjsPath || !wasmPath || extra.length) {
  console.error('usage: node tools/stamp-wasm.mjs MODULE.mjs MODULE.wasm');
  process.exit(2);
}

function fail(msg) {
  console.error(`stamp-wasm: ${msg}`);
  process.exit(1);
}

const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};

let wasm, script;
try {
  wasm = fs.readFileSync(wasmPath);
  script = fs.readFileSync(mjsPath, 'utf8');
} catch (e) {
  fail(e.message);
}
let sections;
try {
  sections = wasmSections(wasm);
} catch (e) {
  fail(`${wasmPath}: ${e.message}`);
}
// Emscripten 3.1.6 ends the script with this statement on a line of its own; 6.0.5 may minify it into a longer line
const factory = script.match(/\bexport default ([A-Za-z_$][\w$]*)\s*;/)?.[1];
if (!factory) fail(`${mjsPath}: no "export default NAME;": not an Emscripten ES module (-sEXPORT_ES6)`);

// without an earlier stamp
const old = sections.find((s) => s.id === 0 && s.name === STAMP_SECTION);
const bare = old ? Buffer.concat([wasm.subarray(0, old.start), wasm.subarray(old.end)]) : wasm;
const stampLine = new RegExp(`\\n${factory.replace(/\$/g, '\\$')}\\.${STAMP_PROPERTY} = "[0-9a-f]*";\\n$`);
const bareScript = `${script.replace(stampLine, '\n').trimEnd()}\n`;

const stamp = crypto.createHash('sha256').update(bare).update(bareScript).digest('hex').slice(0, 16);
const name = Buffer.from(STAMP_SECTION), value = Buffer.from(stamp);
const body = Buffer.concat([Buffer.from(leb(name.length)), name, value]);
fs.writeFileSync(wasmPath, Buffer.concat([bare, Buffer.from([0, ...leb(body.length)]), body]));
fs.writeFileSync(mjsPath, `${bareScript}${factory}.${STAMP_PROPERTY} = "${stamp}";\n`);
console.log(`stamp-wasm: ${mjsPath} and ${wasmPath}: build ${stamp}`);
