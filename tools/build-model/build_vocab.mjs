#!/usr/bin/env node
// build_vocab.mjs — the tiny model's WordPiece vocabulary and GloVe-initialised word embeddings.
//
// Usage: node tools/build-model/build_vocab.mjs [--out build/model] [--glove FILE] [--size N] [--pieces N]
//   (the GloVe JSON needs ~1 GB of heap; if node stops with "heap out of memory", run it as
//    node --max-old-space-size=4096 tools/build-model/build_vocab.mjs …)
//
// Writes into --out (default build/model under the repository):
//   vocab.txt                     one token per line, id = line number − 1
//   word_embeddings.safetensors   F32 tensor "word_embeddings" [V, 128], row i for token id i
//   init_rules.tsv                id, token, kind, how its row was initialised (for reading, not hashed)
// The output is a pure function of the GloVe file and the constants below: rebuilding gives the same bytes
// (tests/cli/test_model_build.sh checks them against tools/build-model/expected.sha256).
// models/tiny/vocab.txt is a copy of vocab.txt; `dissipate init` turns vocab + embeddings into a model.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGlove, defaultGlovePath, REPO_ROOT, PACKAGE } from './glove.mjs';
import { planVocab } from './vocab_plan.mjs';
import { initialVectors } from './init_vectors.mjs';
import { embeddingMatrix, HIDDEN } from './embeddings.mjs';
import { writeSafetensors } from './safetensors.mjs';

// Chosen by measurement (tools/build-model/measure_vocab.mjs; numbers in models/tiny/README.md).
export const SIZE = 24000;       // tokens in the vocabulary
export const PIECES = 1000;      // learned "##" continuation pieces among them
export const RMS_TARGET = 0.04;  // per-element RMS of the whole-word rows (2× BERT's 0.02 init std)
export const SEED = 2014;        // seeds the orthonormal map and the random rows (2014: GloVe's year)

function parseArgs(argv) {
    const opt = { out: path.join(REPO_ROOT, 'build', 'model'), glove: null, size: SIZE, pieces: PIECES };
    for (let i = 2; i < argv.length; i++) {
        const k = argv[i], v = argv[i + 1];
        if (k === '--help' || k === '-h') { opt.help = true; continue; }
        if (v === undefined) throw new Error(`option ${k} needs a value`);
        i++;
        if (k === '--out') opt.out = v;
        else if (k === '--glove') opt.glove = v;
        else if (k === '--size' || k === '--pieces') {
            const n = Number(v);
            if (!Number.isInteger(n) || n < 0) throw new Error(`${k} ${v}: expected a non-negative integer`);
            opt[k.slice(2)] = n;
        } else throw new Error(`unknown option ${k} (see --help)`);
    }
    return opt;
}

// --out is made (or checked writable) before the GloVe parse, a minute and 1 GB of heap, rather than found unusable
// by the first write after it. Returns the first folder it created (undefined when --out existed), so that a build
// that fails can remove what it made.
export function prepareOut(out) {
    if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new Error(`--out ${out}: exists and is not a folder`);
    // one level at a time: node's recursive mkdirSync spins forever on some paths (/proc/x/y)
    const missing = [];
    for (let d = path.resolve(out); !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
    let made;
    try {
        for (const d of missing) {
            fs.mkdirSync(d);
            made ??= d;
        }
        fs.accessSync(out, fs.constants.W_OK);
    } catch (e) {
        throw new Error(`--out ${out}: cannot write there (${e.code || e.message})`);
    }
    return made;
}

export function build(opt) {
    const made = prepareOut(opt.out);
    let glove;
    try {
        glove = loadGlove(opt.glove || defaultGlovePath());
    } catch (e) {
        if (made) fs.rmSync(made, { recursive: true }); // only folders this call created, still empty
        throw e;
    }
    const vocab = planVocab(glove, { size: opt.size, pieces: opt.pieces });
    const tokens = [...vocab.keys()], kinds = [...vocab.values()];
    for (const t of tokens) if (/\s/.test(t) || t === '') throw new Error(`vocabulary token ${JSON.stringify(t)} has whitespace`);
    const init = initialVectors(glove, vocab);
    const { rows, scale } = embeddingMatrix(init, kinds, { seed: SEED, rmsTarget: RMS_TARGET });

    fs.writeFileSync(path.join(opt.out, 'vocab.txt'), tokens.join('\n') + '\n');
    writeSafetensors(path.join(opt.out, 'word_embeddings.safetensors'), [{ name: 'word_embeddings', shape: [tokens.length, HIDDEN], data: rows }], {
        source: `${PACKAGE}@${glove.version} (GloVe 6B 100d, Pennington et al. 2014, PDDL 1.0)`,
        glove_sha256: glove.sha256,
        builder: 'tools/build-model/build_vocab.mjs',
        seed: String(SEED), rms_target: String(RMS_TARGET), scale: String(scale),
        size: String(opt.size), pieces: String(opt.pieces),
    });
    const lines = tokens.map((t, i) => `${i}\t${t}\t${kinds[i]}\t${init[i].rule}`);
    fs.writeFileSync(path.join(opt.out, 'init_rules.tsv'), 'id\ttoken\tkind\tinit\n' + lines.join('\n') + '\n');

    const count = (f) => init.reduce((m, x, i) => { const k = f(x, i); m[k] = (m[k] || 0) + 1; return m; }, {});
    return {
        size: tokens.length, scale,
        kinds: count((x, i) => kinds[i]),
        init: count((x) => (x.rule.startsWith('glove:') ? 'glove-rule' : x.rule.startsWith('pieces-mean') ? 'pieces-mean' : x.rule)),
        glove: `${glove.path} (${PACKAGE}@${glove.version}, sha256 ${glove.sha256})`,
    };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    try {
        const opt = parseArgs(process.argv);
        if (opt.help) {
            console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 16).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
            process.exit(0);
        }
        const t0 = Date.now();
        const r = build(opt);
        console.log(`wrote ${opt.out}/{vocab.txt, word_embeddings.safetensors, init_rules.tsv}: V=${r.size}, ` +
            `scale ${r.scale.toPrecision(6)}, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        console.log('tokens by kind:', JSON.stringify(r.kinds));
        console.log('rows by init:  ', JSON.stringify(r.init));
        console.log('from:', r.glove);
        if (opt.size !== SIZE || opt.pieces !== PIECES) console.log('note: --size/--pieces differ from the defaults; expected.sha256 holds the defaults');
    } catch (e) {
        console.error(`build_vocab: ${e.message}`);
        process.exit(1);
    }
}
