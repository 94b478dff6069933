// orthonormal.mjs — the fixed map from GloVe's 100 dimensions to the model's 128.
//
// Q is a rows×cols matrix (rows >= cols) with orthonormal columns: Gram–Schmidt of a seeded Gaussian
// matrix. x ↦ Q·x keeps every dot product and norm of the GloVe vectors (QᵀQ = I), so cosine
// neighbourhoods are unchanged, and the 100-d subspace it spans is a random one rather than the first 100
// axes (which would leave 28 of the model's dimensions at zero in every word vector).
// Gram–Schmidt is run twice per column ("twice is enough", Giraud et al. 2005) so QᵀQ = I to rounding.
// Only + − × ÷ and sqrt are used, all correctly rounded in IEEE double: the result is the same everywhere.

import { SplitMix64 } from './prng.mjs';

// Returns a Float64Array [rows, cols] in row-major order.
export function seededOrthonormal(rows, cols, seed) {
    if (cols > rows) throw new Error(`orthonormal map needs rows >= cols, got ${rows}x${cols}`);
    const rng = new SplitMix64(seed);
    const a = new Float64Array(rows * cols); // [rows, cols]
    for (let i = 0; i < a.length; i++) a[i] = rng.normal();
    // Work on columns as contiguous vectors.
    const colsV = [];
    for (let c = 0; c < cols; c++) {
        const v = new Float64Array(rows);
        for (let r = 0; r < rows; r++) v[r] = a[r * cols + c];
        for (let pass = 0; pass < 2; pass++) {
            for (const u of colsV) {
                let dot = 0;
                for (let r = 0; r < rows; r++) dot += u[r] * v[r];
                for (let r = 0; r < rows; r++) v[r] -= dot * u[r];
            }
        }
        let norm = 0;
        for (let r = 0; r < rows; r++) norm += v[r] * v[r];
        norm = Math.sqrt(norm);
        if (!(norm > 1e-8)) throw new Error(`orthonormal map: column ${c} is degenerate`);
        for (let r = 0; r < rows; r++) v[r] /= norm;
        colsV.push(v);
    }
    const q = new Float64Array(rows * cols);
    for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) q[r * cols + c] = colsV[c][r];
    return q;
}

// y[rows] = Q[rows, cols] · x[cols], summed in a fixed order.
export function applyMap(q, rows, cols, x, y) {
    for (let r = 0; r < rows; r++) {
        let s = 0;
        const base = r * cols;
        for (let c = 0; c < cols; c++) s += q[base + c] * x[c];
        y[r] = s;
    }
}
