// session.mjs — one training session as the page and the widgets see it: the lab (wasm/js/lab.mjs, or the fake
// lab with ?fake=1), its downloads, the runs it trains, and every record they produce. UI-free; the page
// (app.mjs) and the <dissipate-figure> element (widget.mjs) both drive it.
//
// States: 'starting' → 'loading' → 'ready' → 'training' ⇄ 'paused' → 'done' (→ 'ready' on reset), or 'error'.

import { loadManifest, downloadAssets } from './assets.mjs';
import { RecordStore } from './records.mjs';
import { runLabels, toLabStart, toUrlParams } from './config.mjs';

const SITE_BASE = new URL('../', import.meta.url).href;

export class Session {
  /** opts: { fake: use web/js/fake-lab.mjs (UI work only), siteBase } */
  constructor(opts = {}) {
    this.fake = !!opts.fake;
    this.siteBase = opts.siteBase || SITE_BASE;
    this.state = 'starting';
    this.lab = null;
    this.info = null;
    this.manifest = null;
    this.assets = null;          // the downloaded buffers, kept to re-load a lab created with other threads
    this.store = new RecordStore();
    this.config = null;          // the configuration (texts) of the current/last run
    this.stepsDone = 0;
    this.stepsPlanned = 0;
    this.msPerStep = NaN;
    this.stepsPerSecond = NaN;
    this.restarting = false;     // start() is re-creating the lab for another thread count…
    this.restartThreads = 0;     // …with this many threads (the count asked, cut to the cores)
    this.error = '';
    this.handlers = {};
  }

  on(type, fn) { (this.handlers[type] ||= []).push(fn); return this; }
  emit(type, detail) { for (const fn of this.handlers[type] || []) { try { fn(detail); } catch (e) { console.error(e); } } }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  fail(message) {
    this.error = message;
    this.setState('error');
    this.emit('error', { message });
  }

  /** Creates the lab with `threads` (clamped to 1 without cross-origin isolation by the lab itself). */
  async open(threads) {
    // More threads than cores only adds contention (and each run keeps a pthread pool of that size).
    const cores = (globalThis.navigator && navigator.hardwareConcurrency) || threads;
    this.askedThreads = threads; // the status line says when the device's cores cut it down
    threads = Math.max(1, Math.min(threads, cores));
    try {
      const mod = this.fake
        ? await import('./fake-lab.mjs')
        : await import(new URL('wasm/lab.mjs', this.siteBase).href);
      this.lab = await mod.createLab({ baseUrl: new URL('wasm/', this.siteBase).href, threads });
    } catch (e) {
      this.fail(`the training engine did not start: ${e.message || e}`);
      throw e;
    }
    this.info = { ...this.lab.info };
    this.requestedThreads = threads;
    this.lab.on('step', ({ run, record }) => this.onStep(run, record));
    this.lab.on('eval', ({ run, record }) => this.onEval(run, record));
    this.lab.on('status', (s) => this.onStatus(s));
    this.lab.on('error', (e) => this.onLabError(e || {}));
    this.emit('info', this.info);
    return this.info;
  }

  /** Downloads the manifest and the assets (progress: emit 'progress' {id, loaded, total}) and loads the lab. */
  async prepare() {
    this.setState('loading');
    try {
      this.manifest = await loadManifest(this.siteBase);
      this.emit('manifest', this.manifest);
      this.assets = await downloadAssets(this.manifest, this.siteBase, (id, loaded, total) => this.emit('progress', { id, loaded, total }));
      await this.loadLab();
    } catch (e) {
      this.fail(e.message || String(e));
      throw e;
    }
    this.setState('ready');
  }

  async loadLab() {
    // lab.load copies what it is given before transferring it to its worker, so these buffers stay ours.
    await this.lab.load(this.assets, (p) => this.emit('progress', { id: 'prepare', ...normaliseProgress(p) }));
  }

  /** Starts training a validated configuration (texts). Re-creates the lab if the thread count changed. */
  async start(cfg) {
    if (this.state !== 'ready' && this.state !== 'done') throw new Error(`cannot start while ${this.state}`);
    const args = toLabStart(cfg);
    const cores = (globalThis.navigator && navigator.hardwareConcurrency) || args.threads;
    // Without isolation, or after the threaded build failed to start (info.fallback), the lab runs one thread.
    const threaded = this.info.crossOriginIsolated && !this.info.fallback;
    const want = threaded ? Math.min(args.threads, cores) : 1;
    if (threaded && want !== this.requestedThreads) {
      this.restarting = true; // the page keeps the form locked meanwhile: this run's configuration is chosen
      this.restartThreads = want;
      this.msPerStep = this.stepsPerSecond = NaN; // the old engine's speed says nothing of the new one's
      this.setState('loading');
      try {
        this.lab.terminate();
        await this.open(want);
        await this.loadLab();
      } finally {
        this.restarting = false;
      }
    }
    this.askedThreads = args.threads;
    args.threads = this.info.threads; // the thread count the lab was built for (1 without isolation)
    this.config = cfg;
    const labels = runLabels(cfg.runs);
    this.store.reset(cfg.runs.map((r, i) => ({ label: labels[i], objective: r.objective, params: { ...r } })));
    this.stepsDone = 0;
    this.stepsPlanned = args.steps;
    this.msPerStep = this.stepsPerSecond = NaN;
    this.t0 = performance.now();
    this.emit('runs', { runs: this.store.runs, steps: args.steps });
    this.setState('training');
    this.lab.start(args);
  }

  pause() { if (this.state === 'training') { this.lab.pause(); this.setState('paused'); } }
  resume() { if (this.state === 'paused') { this.lab.resume(); this.setState('training'); } }

  reset() {
    if (!this.lab || this.state === 'error' || this.state === 'loading' || this.state === 'starting') return;
    this.lab.reset(); // from here on the lab drops the old run's records still on their way
    this.stepsDone = 0;
    this.msPerStep = this.stepsPerSecond = NaN;
    this.setState('ready');
    this.emit('reset');
  }

  onStep(run, record) {
    this.store.addStep(run, record);
    // Runs train in lockstep; any run's record tells how far training is (a run stopped by a NaN may fall silent).
    if (record.step > this.stepsDone) this.stepsDone = record.step;
    this.emit('step', { run, record });
  }

  onEval(run, record) {
    this.store.addEval(run, record);
    this.emit('eval', { run, record });
  }

  // A run stopped by a NaN or an engine error: the others go on. A refused configuration: back to 'ready'. The
  // engine crashed or its worker died (fatal): a new engine, back to 'ready'. Anything else: the session is over.
  onLabError(e) {
    const message = e.message || String(e);
    if (e.fatal && this.assets && ['ready', 'training', 'paused', 'done'].includes(this.state)) {
      this.recover(message);
    } else if (Number.isInteger(e.run)) {
      const said = this.describeRunError(e.run, message);
      if (this.store.runs[e.run]) this.store.runs[e.run].error = said;
      this.emit('warning', { message: said, run: e.run });
    } else if (this.state === 'training' && this.stepsDone === 0 && !/^worker:/.test(message)) {
      this.error = message;
      this.setState('ready');
      this.emit('warning', { message: `The engine refused this configuration: ${message}` });
    } else {
      this.fail(message);
    }
  }

  /** The engine crashed or its worker died (the lab has ended that worker): a new one is loaded with the assets
   *  already downloaded and the page is ready again; the records so far stay (for export) until the next start. */
  async recover(message) {
    this.emit('warning', { message: `The training engine failed and was restarted; the runs are lost (${message}).` });
    this.setState('loading');
    try {
      await this.loadLab();
    } catch (e) {
      this.fail(`the training engine failed (${message}) and did not restart: ${e.message || e}`);
      return;
    }
    this.setState('ready');
  }

  /** A run's error in the form's terms: "Objective 2 (au) …", counted from 1 like the form, with what to change. */
  describeRunError(run, message) {
    const label = this.store.runs[run]?.label;
    const name = `Objective ${run + 1}${label ? ` (${label})` : ''}`;
    const detail = message.replace(/^run \d+ \([^)]*\): /, ''); // the lab counts runs from 0
    if (/out of memory/i.test(detail)) return `${name} ran out of memory (${detail}): lower the batch or max tokens.`;
    return `${name} stopped: ${detail}`;
  }

  /** The runs that stopped with an error, by their labels. */
  failedRuns() { return this.store.runs.filter((r) => r.error).map((r) => r.label); }

  onStatus(s) {
    if (Number.isFinite(s.msPerStep)) this.msPerStep = s.msPerStep;
    if (Number.isFinite(s.stepsPerSecond)) this.stepsPerSecond = s.stepsPerSecond;
    if (s.state === 'done' && (this.state === 'training' || this.state === 'paused')) this.setState('done');
    this.emit('status', s);
  }

  async similarity(run, s1, s2) { return this.lab.similarity(run, s1, s2); }
  async exportModel(run) { return this.lab.exportModel(run); }

  /** Everything the JSON export holds besides the records. */
  meta() {
    return {
      generator: 'dissipate web lab',
      config: this.config,
      url: this.config ? `#${toUrlParams(this.config)}` : '',
      build: this.info,
      msPerStep: this.msPerStep,
      model: this.manifest && this.manifest.model ? this.manifest.model.name : undefined,
    };
  }

  terminate() { if (this.lab) this.lab.terminate(); }
}

// lab.load may report a fraction, {loaded,total}, or {stage, fraction}: show whatever it gives as a fraction.
function normaliseProgress(p) {
  if (typeof p === 'number') return { loaded: p, total: 1 };
  if (p && Number.isFinite(p.allLoaded) && Number.isFinite(p.allTotal)) return { loaded: p.allLoaded, total: p.allTotal };
  if (p && Number.isFinite(p.loaded) && Number.isFinite(p.total)) return { loaded: p.loaded, total: p.total, stage: p.stage };
  if (p && Number.isFinite(p.fraction)) return { loaded: p.fraction, total: 1, stage: p.stage };
  return { loaded: 0, total: 0, stage: p && p.stage };
}
