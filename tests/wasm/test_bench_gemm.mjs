// test_bench_gemm.mjs — the WebAssembly GEMM table (wasm/bench_gemm_main.c, run by tools/bench-wasm.mjs) runs in node
// and prints all 12 products of the SIMD128 kernels as "fastest/median" (fastest >= median > 0), and no other set.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { check, done, skip, wasmBuilds } from './harness.mjs';

const st = wasmBuilds().find((b) => b.variant === 'single-simd' && existsSync(join(b.dir, 'bench-gemm.js')));
if (!st) skip('no single-threaded wasm build with bench-gemm.js (run tools/build-wasm.sh)');
const out = execFileSync(process.execPath, [join(st.dir, 'bench-gemm.js')], { encoding: 'utf8' });
const rows = out.split('\n').filter((l) => /^1\s/.test(l)).map((l) => l.trim().split(/\s+/));
check(rows.length === 12, `12 rows, got ${rows.length}:\n${out}`);
for (const r of rows) {
    const [scalar, simd, sse2, avx2, avx512, blas] = r.slice(-9, -3);
    const [fast, med] = simd.split('/').map(Number);
    check(fast >= med && med > 0, `simd128 cell ${simd} in: ${r.join(' ')}`);
    check([scalar, sse2, avx2, avx512, blas].every((c) => c === '-'), `only simd128 timed: ${r.join(' ')}`);
}
check(/OpenBLAS: not available in WebAssembly/.test(out), 'says OpenBLAS is absent');
done('wasm bench_gemm');
