// zip.mjs — a minimal ZIP writer (store method, no compression) for exporting a model folder as one download.
// Safetensors weights barely compress, so "store" loses little and needs no dependency. Pure module (node-testable).

let CRC_TABLE = null;

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) of a Uint8Array, as an unsigned 32-bit number. */
export function crc32(bytes) {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// MS-DOS date/time fields of a JS Date (local time, 2-second resolution, years from 1980).
function dosDateTime(d) {
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
  const date = (Math.max(0, d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  return { time, date };
}

/** Builds a ZIP archive. files: [{ name, data: Uint8Array | string }]. Returns a Uint8Array.
 *  Names are stored as UTF-8 (flag bit 11). Limited to 4 GiB and 65535 entries (no ZIP64). */
export function makeZip(files, when = new Date()) {
  const te = new TextEncoder();
  const { time, date } = dosDateTime(when);
  const entries = files.map((f) => {
    const name = te.encode(f.name);
    const data = typeof f.data === 'string' ? te.encode(f.data) : f.data;
    return { name, data, crc: crc32(data) };
  });
  const localSize = entries.reduce((s, e) => s + 30 + e.name.length + e.data.length, 0);
  const centralSize = entries.reduce((s, e) => s + 46 + e.name.length, 0);
  const total = localSize + centralSize + 22;
  if (localSize > 0xffffffff || entries.length > 0xffff) throw new Error('zip: archive too large for the store writer');
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let p = 0;
  const u16 = (v) => { dv.setUint16(p, v, true); p += 2; };
  const u32 = (v) => { dv.setUint32(p, v >>> 0, true); p += 4; };
  const offsets = [];
  for (const e of entries) {
    offsets.push(p);
    u32(0x04034b50); u16(20); u16(0x0800); u16(0); u16(time); u16(date);
    u32(e.crc); u32(e.data.length); u32(e.data.length); u16(e.name.length); u16(0);
    out.set(e.name, p); p += e.name.length;
    out.set(e.data, p); p += e.data.length;
  }
  const centralStart = p;
  entries.forEach((e, i) => {
    u32(0x02014b50); u16(20); u16(20); u16(0x0800); u16(0); u16(time); u16(date);
    u32(e.crc); u32(e.data.length); u32(e.data.length); u16(e.name.length); u16(0); u16(0); u16(0); u16(0);
    u32(0); u32(offsets[i]);
    out.set(e.name, p); p += e.name.length;
  });
  const centralBytes = p - centralStart; // before the end record moves p
  u32(0x06054b50); u16(0); u16(0); u16(entries.length); u16(entries.length);
  u32(centralBytes); u32(centralStart); u16(0);
  return out;
}

/** Reads back the entries of a store-method ZIP made by makeZip (for tests and self-checks).
 *  Returns [{ name, data, crcOk }]. Throws on a malformed archive. */
export function readStoredZip(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const td = new TextDecoder();
  let eocd = -1;
  for (let i = bytes.length - 22; i >= 0; i--) if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) throw new Error('zip: no end-of-central-directory record');
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  if (p + dv.getUint32(eocd + 12, true) !== eocd) throw new Error('zip: central directory size and offset disagree with its end record');
  const out = [];
  for (let k = 0; k < count; k++) {
    if (dv.getUint32(p, true) !== 0x02014b50) throw new Error('zip: bad central directory entry');
    const method = dv.getUint16(p + 10, true), crc = dv.getUint32(p + 16, true);
    const size = dv.getUint32(p + 20, true), nlen = dv.getUint16(p + 28, true);
    const xlen = dv.getUint16(p + 30, true), clen = dv.getUint16(p + 32, true), off = dv.getUint32(p + 42, true);
    const name = td.decode(bytes.subarray(p + 46, p + 46 + nlen));
    if (method !== 0) throw new Error(`zip: ${name} is not stored`);
    if (dv.getUint32(off, true) !== 0x04034b50) throw new Error(`zip: bad local header for ${name}`);
    const start = off + 30 + dv.getUint16(off + 26, true) + dv.getUint16(off + 28, true);
    const data = bytes.subarray(start, start + size);
    out.push({ name, data, crcOk: crc32(data) === crc });
    p += 46 + nlen + xlen + clen;
  }
  return out;
}
