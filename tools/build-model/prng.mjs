// prng.mjs — a seeded generator whose every output is the same on every machine.
//
// splitmix64 (Steele, Lea & Flood 2014) in BigInt arithmetic, so nothing depends on the platform's
// floating-point library: uniforms come from the top 53 bits, and normals from the Irwin–Hall sum of
// twelve uniforms (mean 0, variance 1, tails cut at ±6). Math.log / Math.cos (Box–Muller) are avoided on
// purpose: ECMAScript does not require them to be correctly rounded, so their last bit could differ
// between engines, and the builder promises bit-for-bit identical files.

const MASK64 = (1n << 64n) - 1n;

export class SplitMix64 {
    constructor(seed) { this.state = BigInt(seed) & MASK64; }
    nextU64() {
        this.state = (this.state + 0x9E3779B97F4A7C15n) & MASK64;
        let z = this.state;
        z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & MASK64;
        z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & MASK64;
        return z ^ (z >> 31n);
    }
    // Uniform in [0, 1) with 53 random bits (exact: an integer times 2^-53).
    uniform() { return Number(this.nextU64() >> 11n) / 9007199254740992; }
    // Approximately standard normal: sum of 12 uniforms minus 6 (added in a fixed order).
    normal() {
        let s = 0;
        for (let i = 0; i < 12; i++) s += this.uniform();
        return s - 6;
    }
}
