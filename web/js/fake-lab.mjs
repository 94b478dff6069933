// fake-lab.mjs — a FAKE lab for UI work only (loaded with ?fake=1): it implements the API of wasm/js/lab.mjs
// (docs/browser-api.md) with invented curves and trains nothing. No test that claims to test training uses it.

const DEFAULT_TAU = 0.05;

function rng(seed) { // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A shape per objective: does it dissipate, how fast, where does STS-B peak.
const SHAPES = {
  infonce: { dissipates: true, rate: 0.04, peak: 58, peakAt: 180, decay: 0.012 },
  dclp: { dissipates: true, rate: 0.03, peak: 60, peakAt: 220, decay: 0.006 },
  mpt: { dissipates: true, rate: 0.05, peak: 56, peakAt: 150, decay: 0.004 },
  met: { dissipates: true, rate: 0.05, peak: 57, peakAt: 160, decay: 0.004 },
  mat: { dissipates: true, rate: 0.05, peak: 56, peakAt: 170, decay: 0.004 },
  au: { dissipates: false, rate: 0.01, peak: 52, peakAt: 250, decay: 0.02 },
  dcl: { dissipates: false, rate: 0.02, peak: 55, peakAt: 200, decay: 0.018 },
};

class FakeLab {
  constructor(opts) {
    const iso = !!globalThis.crossOriginIsolated;
    const threads = iso ? Math.max(1, opts.threads || 1) : 1;
    this.info = {
      variant: iso ? 'threads-simd' : 'single-simd', threads, simd: true, crossOriginIsolated: iso,
      reason: iso ? '' : 'FAKE LAB; the page is not cross-origin isolated (no COOP/COEP headers), so SharedArrayBuffer is unavailable',
      fake: true,
    };
    this.handlers = {};
    this.timer = null;
    this.state = 'idle';
  }

  on(type, fn) { (this.handlers[type] ||= []).push(fn); }
  emit(type, d) { for (const fn of this.handlers[type] || []) fn(d); }

  async load(assets, onProgress) {
    for (let i = 1; i <= 5; i++) { await new Promise((r) => setTimeout(r, 40)); onProgress?.({ stage: 'tokenizing', loaded: i, total: 5 }); }
    this.status('idle');
  }

  status(state) {
    this.state = state;
    this.emit('status', { state, msPerStep: this.ms, stepsPerSecond: this.ms ? 1000 / this.ms : NaN });
  }

  start(cfg) {
    this.cfg = cfg;
    this.step = 0;
    this.rand = rng(cfg.seed);
    this.ms = 8 * cfg.runs.length;
    this.evalAll(0);
    this.status('training');
    this.loop();
  }

  loop() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.state !== 'training') return;
      for (let k = 0; k < 3 && this.step < this.cfg.steps; k++) this.advance();
      if (this.step >= this.cfg.steps) { this.status('done'); return; }
      this.loop();
    }, 16);
  }

  advance() {
    const s = ++this.step;
    this.cfg.runs.forEach((run, i) => {
      const sh = SHAPES[run.objective];
      const noise = () => 1 + 0.15 * (this.rand() - 0.5);
      const tau = run.tau || DEFAULT_TAU;
      const fall = Math.exp(-sh.rate * s * (0.05 / tau));
      const gd = sh.dissipates ? Math.min(1, 0.98 * fall * noise() + 0.002) : NaN;
      const loss = run.objective === 'au' ? (-2.2 + 1.5 * Math.exp(-0.01 * s)) * noise() : 4.1 * fall * noise() + 0.003;
      const gh = sh.dissipates ? 18 * gd : 3.2 * noise();
      this.emit('step', { run: i, record: {
        step: s, epoch: 0, loss, gd, grad_h: gh, grad_h_pos: gh * 0.6, grad_h_neg: gh * 0.45,
        grad_norm: (sh.dissipates ? 2.5 * gd + 0.05 : 1.2) * noise(), pos_cos: 0.99 - 0.1 * fall, neg_cos: 0.3 * fall,
        lr: this.cfg.lr * (1 - s / this.cfg.steps), tokens: 2 * this.cfg.batch * 20, ms: this.ms,
      } });
    });
    if (s % this.cfg.evalEvery === 0 || s === this.cfg.steps) this.evalAll(s);
    if (s % 10 === 0) this.status('training');
  }

  evalAll(s) {
    this.cfg.runs.forEach((run, i) => {
      const sh = SHAPES[run.objective];
      const rise = 1 - Math.exp(-s / (sh.peakAt / 3));
      const after = Math.max(0, s - sh.peakAt) * sh.decay;
      const spearman = 30 + (sh.peak - 30) * rise - after * 10 + (this.rand() - 0.5);
      this.emit('eval', { run: i, record: {
        step: s, spearman, align: 0.2 + 0.4 * rise + 0.05 * i, uniform: -1.2 - 1.6 * rise + 0.2 * i, pairs: 1500,
      } });
    });
  }

  pause() { if (this.state === 'training') { clearTimeout(this.timer); this.status('paused'); } }
  resume() { if (this.state === 'paused') { this.status('training'); this.loop(); } }
  reset() { clearTimeout(this.timer); this.status('idle'); }
  terminate() { clearTimeout(this.timer); }

  async similarity(run, a, b) {
    const words = (s) => new Set(s.toLowerCase().match(/[a-z]+/g) || []);
    const A = words(a), B = words(b);
    const inter = [...A].filter((w) => B.has(w)).length;
    return Math.min(1, inter / Math.sqrt(Math.max(1, A.size * B.size)) + 0.05 * run);
  }

  async exportModel(run) {
    const te = new TextEncoder();
    const names = ['embeddings.word_embeddings.weight', 'embeddings.LayerNorm.weight'];
    const shapes = [[5, 4], [4]];
    const header = {};
    let off = 0;
    names.forEach((n, i) => {
      const bytes = shapes[i].reduce((a, b) => a * b, 1) * 4;
      header[n] = { dtype: 'F32', shape: shapes[i], data_offsets: [off, off + bytes] };
      off += bytes;
    });
    header.__metadata__ = { format: 'pt', note: 'FAKE LAB export' };
    let h = te.encode(JSON.stringify(header));
    const pad = (8 - (h.length % 8)) % 8;
    h = te.encode(JSON.stringify(header) + ' '.repeat(pad));
    const st = new Uint8Array(8 + h.length + off);
    new DataView(st.buffer).setBigUint64(0, BigInt(h.length), true);
    st.set(h, 8);
    return {
      'config.json': te.encode(JSON.stringify({ architectures: ['BertModel'], model_type: 'bert', hidden_size: 4, note: 'FAKE' }, null, 2)),
      'vocab.txt': te.encode('[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n'),
      'model.safetensors': st,
    };
  }
}

export async function createLab(opts = {}) { return new FakeLab(opts); }
