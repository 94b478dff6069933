// safetensors.mjs — write and read the safetensors container (F32 tensors only; enough for the builder).
//
// Layout: 8-byte little-endian header length N, then N bytes of JSON {name: {dtype, shape, data_offsets},
// "__metadata__": {string: string}}, padded with spaces so the data starts on an 8-byte boundary, then the
// tensors' raw little-endian bytes. Tensors are written in the order given (offsets ascending).

import fs from 'node:fs';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// tensors: [{name, shape: [..], data: Float32Array}], metadata: {key: string}
export function writeSafetensors(path, tensors, metadata = {}) {
    if (!LITTLE_ENDIAN) throw new Error('safetensors writer: big-endian hosts are not supported');
    const header = {};
    if (Object.keys(metadata).length) header.__metadata__ = metadata;
    let offset = 0;
    for (const t of tensors) {
        const count = t.shape.reduce((a, b) => a * b, 1);
        if (!(t.data instanceof Float32Array) || t.data.length !== count)
            throw new Error(`safetensors writer: tensor ${t.name} has ${t.data.length} values, shape needs ${count}`);
        header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
        offset += 4 * count;
    }
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    const fd = fs.openSync(path, 'w');
    try {
        fs.writeSync(fd, head);
        fs.writeSync(fd, Buffer.from(json));
        for (const t of tensors) fs.writeSync(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    } finally {
        fs.closeSync(fd);
    }
}

// Returns {metadata, tensors: {name: {shape, data: Float32Array}}}; checks every offset against the file.
export function readSafetensors(path) {
    const buf = fs.readFileSync(path);
    if (buf.length < 8) throw new Error(`${path}: shorter than the 8-byte header length`);
    const n = Number(buf.readBigUInt64LE(0));
    if (n > buf.length - 8) throw new Error(`${path}: header length ${n} exceeds the file`);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
    const base = 8 + n, out = { metadata: header.__metadata__ || {}, tensors: {} };
    for (const [name, t] of Object.entries(header)) {
        if (name === '__metadata__') continue;
        if (t.dtype !== 'F32') throw new Error(`${path}: tensor ${name} has dtype ${t.dtype}, only F32 is read here`);
        const [b, e] = t.data_offsets, count = t.shape.reduce((a, c) => a * c, 1);
        if (e - b !== 4 * count || base + e > buf.length) throw new Error(`${path}: tensor ${name} offsets ${b}..${e} do not fit`);
        const data = new Float32Array(count);
        new Uint8Array(data.buffer).set(buf.subarray(base + b, base + e));
        out.tensors[name] = { shape: t.shape, data };
    }
    return out;
}
