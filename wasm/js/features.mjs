// features.mjs — what this browser (or node) can run, and which build of the engine to load.
//
// Both builds need WebAssembly SIMD (128-bit). The threaded build also needs SharedArrayBuffer, which browsers
// only grant to cross-origin isolated pages (COOP: same-origin + COEP: require-corp, or coi-serviceworker).
import { isNode } from './engine.mjs';

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)): i8x16.popcnt was among the last opcodes
// added to the SIMD proposal, so engines with a pre-standard SIMD reject it.
const SIMD_PROBE = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

export function hasSimd() {
    try {
        return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
    } catch {
        return false;
    }
}

async function hardwareThreads() {
    if (isNode) {
        const os = await import('node:os');
        return os.availableParallelism?.() ?? os.cpus().length;
    }
    return globalThis.navigator?.hardwareConcurrency ?? 1;
}

// Why the threaded build cannot run here, or null when it can.
function threadsBlocker() {
    if (typeof SharedArrayBuffer !== 'function')
        return isNode ? 'this node has no SharedArrayBuffer'
            : 'SharedArrayBuffer is unavailable: the page is not cross-origin isolated (serve it with ' +
              'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, or load ' +
              'coi-serviceworker)';
    if (!isNode && globalThis.crossOriginIsolated !== true)
        return 'the page is not cross-origin isolated (Cross-Origin-Opener-Policy: same-origin and ' +
               'Cross-Origin-Embedder-Policy: require-corp, or coi-serviceworker)';
    try {
        new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    } catch {
        return 'this engine cannot create shared WebAssembly memory';
    }
    return null;
}

// options.threads: threads per run wanted (default: the hardware's, at most 4); options.variant forces a build.
// Returns { variant, threads, simd, crossOriginIsolated, reason, hardwareConcurrency }.
export async function detect(options = {}) {
    const simd = hasSimd();
    const hardwareConcurrency = await hardwareThreads();
    const crossOriginIsolated = isNode ? null : globalThis.crossOriginIsolated === true;
    const wanted = options.threads ?? Math.min(hardwareConcurrency, 4);
    const blocker = threadsBlocker();
    let reason = blocker;
    if (!reason && wanted <= 1)
        reason = options.threads !== undefined ? '1 thread requested' : 'this device reports 1 hardware thread';
    let variant = reason ? 'single-simd' : 'threads-simd';
    if (options.variant) {
        if (options.variant === 'threads-simd' && blocker) throw new Error(`cannot run threads-simd: ${blocker}`);
        variant = options.variant;
        reason = variant === 'threads-simd' ? null : reason ?? 'single-simd requested';
    }
    const threads = variant === 'threads-simd' ? Math.max(1, wanted) : 1;
    return { variant, threads, simd, crossOriginIsolated, reason, hardwareConcurrency };
}
