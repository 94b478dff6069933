// stamp.mjs — the build stamp that ties an Emscripten module script (.mjs) to its own .wasm.
//
// Why: the two files of a build are downloaded separately, so a partial deploy or a stale cache can pair a .mjs with
// the .wasm of another build. Emscripten's import and export names are minified to a, b, c…, so such a pair often
// instantiates without complaint and then calls the wrong functions: an empty error, garbage, or a hang. After each
// link tools/stamp-wasm.mjs writes one stamp into both files: a custom section `dissipate.build` appended to the
// .wasm, and a property of the module factory, set at the end of the .mjs. The loader compares them before it
// instantiates anything (wasm/js/engine.mjs).

export const STAMP_SECTION = 'dissipate.build';
export const STAMP_PROPERTY = 'dissipateBuild';

// Reads an unsigned LEB128 at bytes[at]: [value, next offset].
function leb(bytes, at) {
    let value = 0, shift = 0, b;
    do {
        if (at >= bytes.length) throw new Error('truncated LEB128');
        b = bytes[at++];
        value += (b & 0x7f) * 2 ** shift;
        shift += 7;
    } while (b & 0x80);
    return [value, at];
}

/** The module's sections: [{ id, start, end, name, payload }] (start: the id byte; for custom sections, id 0, the
 *  name and where the bytes after it start). Throws on bytes that are not a wasm module's sections. */
export function wasmSections(bytes) {
    if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
        throw new Error('not a WebAssembly module');
    const sections = [];
    for (let at = 8; at < bytes.length;) {
        const start = at, id = bytes[at];
        const [size, body] = leb(bytes, at + 1);
        const end = body + size;
        if (end > bytes.length) throw new Error('a section runs past the end of the module');
        let name, payload;
        if (id === 0) {
            const [len, text] = leb(bytes, body);
            name = new TextDecoder().decode(bytes.subarray(text, text + len));
            payload = text + len;
        }
        sections.push({ id, start, end, name, payload });
        at = end;
    }
    return sections;
}

/** The stamp of a .wasm's bytes, or null if it has none. */
export function wasmStamp(bytes) {
    const s = wasmSections(bytes).find((x) => x.id === 0 && x.name === STAMP_SECTION);
    return s ? new TextDecoder().decode(bytes.subarray(s.payload, s.end)) : null;
}

/** Why a module factory and a .wasm's bytes cannot run together (they come from different builds), or null. */
export function stampMismatch(factory, bytes, scriptName, wasmName) {
    const expected = factory?.[STAMP_PROPERTY] ?? null, found = wasmStamp(bytes);
    if (expected === found) return null;
    const what = (stamp) => (stamp ? `build ${stamp}` : 'a build without a stamp');
    return `${wasmName} (${what(found)}) is not the .wasm of ${scriptName} (${what(expected)}): the two files come ` +
        'from different builds (a partial deploy, or a stale cached copy of one of them); deploy the whole folder again ' +
        'and reload';
}
