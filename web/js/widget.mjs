// widget.mjs — <dissipate-figure>: the lab as a figure an author drops into a blog post.
//
//   <script type="module" src="https://…/site/js/widget.mjs"></script>
//   <dissipate-figure objectives="infonce,au" steps="500" charts="stsb,gd" controls="start"></dissipate-figure>
//
// Attributes: objectives (2–4, comma-separated), config (a page URL fragment: "r1=infonce&r1.tau=0.1&…"), any
// configuration key of the page's URL (steps, eval, lr, batch, seed, threads, maxlen, pool, opt, mom), charts
// (stsb, loss, gd, gradh, plane, gradnorm; default "stsb,gd"), controls (which to show: start, pause, reset,
// objectives, or a setting's key; "all"; "none"; default "start,pause,reset"), autoplay ("off", "false" or "no" to
// wait for Start), margin (IntersectionObserver rootMargin, default "200px 0px"), fake ("1": the fake lab, UI work).
// Like a Distill d-figure, it does nothing until it nears the viewport, then downloads and trains; it pauses when
// it leaves the viewport (or the document) and resumes when it comes back. The worker must be same-origin with the page: host the
// site's files beside the post (or embed widget.html in an <iframe>, see web/README.md).

import { fromUrlParams, toUrlParams, validateConfig, previewRuns, shorten, FIELDS, OBJECTIVE_NAMES, MAX_RUNS } from './config.mjs';
import { ConfigForm, keepFocus } from './controls.mjs';
import { ChartsPanel, CHART_NAMES } from './charts.mjs';
import { Session } from './session.mjs';
import { loadChartJs } from './vendor.mjs';
import { describeEngine, threadsOffReason, announce } from './status.mjs';

const STYLE_URL = new URL('../css/widget.css', import.meta.url).href;
const BUTTONS = ['start', 'pause', 'reset'];
const DEFAULT_CONTROLS = 'start,pause,reset';
const DEFAULT_CHARTS = ['stsb', 'gd'];
const KEY_TO_ID = Object.fromEntries(FIELDS.flatMap((f) => [[f.key, f.id], [f.id.toLowerCase(), f.id]]));
const DEFAULT_MARGIN = '200px 0px';
// Every attribute a figure reads: its own, and each setting by its URL key or its field name (eval or evalevery).
// widget.html copies only these from its address onto the figure, so that a link cannot set an event handler
// (onfocus=…) on the site's origin; attr() refuses any other name, so the two lists cannot drift apart.
const OWN_ATTRIBUTES = ['objectives', 'config', 'charts', 'controls', 'autoplay', 'margin', 'fake'];
const SETTING_ATTRIBUTES = FIELDS.map((f) => [f, [...new Set([f.key, f.id.toLowerCase()])]]);
export const ATTRIBUTES = [...OWN_ATTRIBUTES, ...SETTING_ATTRIBUTES.flatMap(([, names]) => names)];

function attr(el, name) {
  if (!OWN_ATTRIBUTES.includes(name)) throw new Error(`dissipate-figure: ${name} is not in OWN_ATTRIBUTES`);
  return el.getAttribute(name);
}

/** The configuration an element's attributes describe: { config, fellBack, ignored } (see fromUrlParams).
 *  The objectives attribute is checked here, so that its notices use the author's words ("objectives: …"), not the
 *  r1…rN keys it becomes: an unknown name is ignored, and past MAX_RUNS the names that do not fit are ignored. */
export function configFromAttributes(el) {
  const parts = [];
  const own = [];
  const cfgAttr = attr(el, 'config');
  if (cfgAttr) parts.push(cfgAttr.replace(/^#/, ''));
  const objectives = attr(el, 'objectives');
  if (objectives) {
    const given = new URLSearchParams(parts.join('&'));
    if (![...given.keys()].some((k) => /^r\d+$/.test(k))) {
      const names = objectives.split(',').map((s) => s.trim()).filter(Boolean);
      const known = names.filter((o) => OBJECTIVE_NAMES.includes(o.toLowerCase()));
      const unknown = names.filter((o) => !known.includes(o));
      if (unknown.length) own.push(`objectives: unknown ${unknown.map((o) => `"${shorten(o)}"`).join(', ')} (${OBJECTIVE_NAMES.join(', ')}) ignored`);
      if (known.length > MAX_RUNS) own.push(`objectives: at most ${MAX_RUNS} runs fit in a figure; ${known.slice(MAX_RUNS).join(', ')} ignored`);
      known.slice(0, MAX_RUNS).forEach((o, i) => parts.push(`r${i + 1}=${encodeURIComponent(o)}`));
    }
  }
  for (const [f, names] of SETTING_ATTRIBUTES) {
    const v = names.map((n) => el.getAttribute(n)).find((x) => x !== null);
    if (v !== undefined) parts.push(`${f.key}=${encodeURIComponent(v)}`);
  }
  const parsed = fromUrlParams(parts.join('&'));
  return { config: parsed.config, fellBack: parsed.fellBack, ignored: [...own, ...parsed.ignored] };
}

const words = (attr) => attr.split(/[\s,]+/).map((s) => s.trim().toLowerCase()).filter(Boolean);

/** Which controls to show: { show: a Set of 'start', 'pause', 'reset', 'objectives' and field ids, fellBack,
 *  ignored }. Unknown names are named in a notice (ignored); a value that names no control at all (and is
 *  not "none") gives the default set (fell back), so that a typo never leaves a figure without its buttons. */
export function visibleControls(attr) {
  const asked = words(attr ?? DEFAULT_CONTROLS);
  if (asked.includes('all')) return { show: new Set([...BUTTONS, 'objectives', ...FIELDS.map((f) => f.id)]), ...kinds() };
  const show = new Set();
  const unknown = [];
  for (const w of asked) {
    if (w === 'none') continue;
    if (BUTTONS.includes(w) || w === 'objectives') show.add(w);
    else if (KEY_TO_ID[w]) show.add(KEY_TO_ID[w]);
    else unknown.push(w);
  }
  if (!unknown.length) return { show, ...kinds() };
  const known = 'start, pause, reset, objectives, a setting\'s name, all or none';
  if (show.size || asked.includes('none')) return { show, ...kinds([], [`controls: unknown ${unknown.join(', ')} (${known}) ignored`]) };
  return { show: visibleControls(DEFAULT_CONTROLS).show, ...kinds([`controls=${attr}: no known control (${known}); using ${DEFAULT_CONTROLS}`]) };
}

// The notices of an attribute, by kind (as fromUrlParams gives them): values that fell back, and parts ignored.
function kinds(fellBack = [], ignored = []) { return { fellBack, ignored }; }

/** The IntersectionObserver rootMargin of a margin attribute: { margin, fellBack, ignored }. The browser's own parser
 *  judges it (IntersectionObserver throws on "abc"), so that an invalid value falls back with a notice like any
 *  other attribute instead of leaving the figure without its observer. */
export function viewMargin(attrValue) {
  if (!attrValue) return { margin: DEFAULT_MARGIN, ...kinds() };
  try {
    new IntersectionObserver(() => {}, { rootMargin: attrValue }).disconnect();
    return { margin: attrValue, ...kinds() };
  } catch {
    return { margin: DEFAULT_MARGIN, ...kinds([`margin=${shorten(attrValue)}: not a margin in px or % (e.g. ${DEFAULT_MARGIN}); using ${DEFAULT_MARGIN}`]) };
  }
}

// autoplay="off", "false", "no" or "0" waits for Start; anything else (or nothing) trains in view.
const autoplayOn = (value) => !['off', 'false', 'no', '0'].includes((value || 'on').trim().toLowerCase());

/** Which charts to draw: { names, fellBack, ignored }; unknown names are named, and none known gives the default pair. */
export function chosenCharts(attr) {
  const asked = words(attr || DEFAULT_CHARTS.join(','));
  const names = asked.filter((c) => CHART_NAMES.includes(c));
  const unknown = asked.filter((c) => !CHART_NAMES.includes(c));
  if (!unknown.length) return { names, ...kinds() };
  const known = CHART_NAMES.join(', ');
  if (names.length) return { names, ...kinds([], [`charts: unknown ${unknown.join(', ')} (${known}) ignored`]) };
  return { names: DEFAULT_CHARTS, ...kinds([`charts=${attr}: no known chart (${known}); using ${DEFAULT_CHARTS.join(',')}`]) };
}

export class DissipateFigure extends HTMLElement {
  static get observedAttributes() { return []; }

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
    this.session = null;
    this.charts = null;
    this.near = false;
    this.pausedByView = false;
    this.woken = false;
  }

  connectedCallback() {
    // Moved in the DOM (single-page blogs re-insert their content): watch the viewport again; the first callback
    // resumes a figure that disconnectedCallback paused, as scrolling back into view would.
    if (this.rendered) { this.observer.observe(this); return; }
    this.rendered = true;
    const settings = configFromAttributes(this);
    this.config = settings.config;
    const controls = visibleControls(attr(this, 'controls'));
    const charts = chosenCharts(attr(this, 'charts'));
    const margin = viewMargin(attr(this, 'margin'));
    this.show = controls.show;
    this.chartNames = charts.names;
    const all = [settings, controls, charts, margin];
    this.fellBack = all.flatMap((k) => k.fellBack);
    this.ignored = all.flatMap((k) => k.ignored);
    this.autoplay = autoplayOn(attr(this, 'autoplay'));
    // A figure that waits for Start must have a Start button, or it could never train.
    if (!this.autoplay) this.show.add('start');
    // A figure that offers settings must offer Start and Reset too: the settings are locked while a run trains or is
    // paused, so without Reset a reader could change them only once the whole run has ended, and without Start a
    // changed setting could never run.
    if ([...this.show].some((c) => !BUTTONS.includes(c))) { this.show.add('start'); this.show.add('reset'); }
    this.render();
    (window.dissipateFigures ||= []).push(this);
    // Distill d-figure habit: wake up near the viewport, sleep away from it.
    this.observer = new IntersectionObserver((entries) => {
      for (const e of entries) this.onVisibility(e.isIntersecting);
    }, { rootMargin: margin.margin });
    this.observer.observe(this);
  }

  disconnectedCallback() {
    this.observer?.disconnect();
    // Out of the document is out of view: paused by the view, not by the reader, so a re-insertion resumes it.
    if (this.session && (this.session.state === 'training')) {
      this.pausedByView = true;
      this.session.pause();
    }
  }

  render() {
    const root = this.shadowRoot;
    root.innerHTML = `<link rel="stylesheet" href="${STYLE_URL}">
      <div class="figure" part="figure">
        <div class="charts" part="charts"></div>
        <div class="bar">
          <div class="buttons"></div>
          <div class="progress"><progress max="1" value="0" aria-label="training progress"></progress>
            <span class="status">Waiting to come into view…</span><span class="live visually-hidden" role="status"></span></div>
        </div>
        <p class="why" hidden></p>
        <p class="notice" role="alert" hidden></p>
        <form class="config" novalidate hidden></form>
        <p class="credit">Training in your browser · <a class="full-lab" target="_blank" rel="noopener">open in the full lab</a></p>
      </div>`;
    this.$ = (sel) => root.querySelector(sel);
    this.linkFullLab();
    const buttons = this.$('.buttons');
    this.buttons = {};
    for (const b of BUTTONS) {
      const el = document.createElement('button');
      el.type = 'button';
      el.className = b;
      el.textContent = b[0].toUpperCase() + b.slice(1);
      el.disabled = true;
      el.hidden = !this.show.has(b);
      buttons.append(el);
      this.buttons[b] = el;
    }
    this.buttons.start.addEventListener('click', () => this.startTraining());
    this.buttons.pause.addEventListener('click', () => {
      this.pausedByView = false;
      if (this.session.state === 'paused') this.session.resume(); else this.session.pause();
    });
    this.buttons.reset.addEventListener('click', () => this.session.reset());
    const formFields = [...this.show].filter((s) => !BUTTONS.includes(s));
    this.valid = validateConfig(this.config).ok;
    if (formFields.length) {
      const hidden = new Set(['objectives', ...FIELDS.map((f) => f.id)].filter((k) => !this.show.has(k)));
      const formEl = this.$('.config');
      formEl.hidden = false;
      this.form = new ConfigForm(formEl, this.config, {
        hidden,
        onChange: (cfg, result) => {
          this.config = cfg;
          this.valid = result.ok;
          if (result.ok) { this.linkFullLab(); this.drawPreview(); }
          this.updateButtons();
        },
      });
    }
    // Two kinds, said apart: a value that was not valid (a default runs instead) and a name that was ignored.
    const said = [];
    if (this.fellBack.length) said.push(`Not valid, fell back to the default: ${this.fellBack.join(' · ')}.`);
    if (this.ignored.length) said.push(`Ignored: ${this.ignored.join(' · ')}.`);
    if (said.length) this.say('.notice', said.join(' '));
  }

  // The page with this figure's configuration, so a reader can take it further.
  linkFullLab() {
    this.$('.full-lab').href = `${new URL('../index.html', import.meta.url).href}#${toUrlParams(this.config)}`;
  }

  // Before a run and after Reset, the empty charts show the runs this configuration will train (legend, colours,
  // step axis), as the page does; a finished run's curves stay until Reset.
  drawPreview() {
    const s = this.session?.state;
    if (this.charts && s !== 'training' && s !== 'paused' && s !== 'done') this.charts.preview(previewRuns(this.config.runs), Number(this.config.steps));
  }

  say(sel, text) {
    const el = this.$(sel);
    el.textContent = text;
    el.hidden = !text;
  }

  async onVisibility(visible) {
    this.near = visible;
    if (visible && !this.woken) {
      this.woken = true;
      try {
        await this.wake();
      } catch (e) {
        this.say('.notice', `This figure could not start: ${e.message || e}`);
      }
      return;
    }
    if (!this.session) return;
    if (visible && this.pendingStart && this.session.state === 'ready') {
      this.pendingStart = false;
      this.startTraining();
    } else if (!visible && this.session.state === 'training') {
      this.pausedByView = true; // before pause(), whose redraw of the status says why it paused
      this.session.pause();
    } else if (visible && this.pausedByView && this.session.state === 'paused') {
      this.pausedByView = false;
      this.session.resume();
    }
  }

  async wake() {
    const fake = new URLSearchParams(location.search).get('fake') === '1' || attr(this, 'fake') === '1';
    const session = this.session = new Session({ fake });
    const Chart = await loadChartJs();
    this.charts = new ChartsPanel(this.$('.charts'), this.chartNames, Chart, { compact: true });
    this.drawPreview();
    session.on('runs', ({ runs, steps }) => this.charts.setRuns(runs, steps));
    // While paused, the step in flight at the pause still lands: count it at once (the throttle would skip it).
    session.on('step', ({ run, record }) => { this.charts.addStep(run, record); this.drawStatus(session.state === 'paused'); });
    session.on('eval', ({ run, record }) => this.charts.addEval(run, record));
    session.on('state', () => {
      this.drawStatus(true);
      this.updateButtons();
      announce(this.$('.live'), session); // (.status redraws with every step and is not live)
    });
    session.on('status', () => this.drawStatus());
    session.on('progress', ({ id, loaded, total }) => {
      if (session.state === 'loading' && id !== 'prepare') this.say('.status', `Downloading ${id}… ${total ? Math.round((100 * loaded) / total) : 0}%`);
    });
    session.on('error', (e) => this.say('.notice', e.message));
    session.on('warning', (e) => this.say('.notice', e.message));
    session.on('reset', () => this.drawPreview());
    try {
      await session.open(globalThis.crossOriginIsolated ? Number(this.config.threads) || 1 : 1);
      await session.prepare();
    } catch {
      return; // the message is shown by the error handler
    }
    this.drawStatus(true);
    if (this.autoplay && this.near && this.valid) this.startTraining();
    else if (this.autoplay && !this.near) this.pendingStart = true;
  }

  // The runs as the legend shows them before training: the labels the runs will get (two au runs: "au (t=2)", …).
  async startTraining() {
    if (!this.session || !this.valid) return;
    try { await this.session.start(this.config); } catch (e) { this.say('.notice', e.message); }
  }

  updateButtons() {
    const s = this.session ? this.session.state : 'starting';
    const focused = this.shadowRoot.activeElement;
    this.buttons.start.disabled = !(this.valid && (s === 'ready' || s === 'done'));
    this.buttons.pause.disabled = !(s === 'training' || s === 'paused');
    this.buttons.pause.textContent = s === 'paused' ? 'Resume' : 'Pause';
    this.buttons.reset.disabled = !(s === 'training' || s === 'paused' || s === 'done');
    this.form?.setLocked(s === 'training' || s === 'paused');
    keepFocus(focused, [this.buttons.pause, this.buttons.start, this.buttons.reset]);
  }

  drawStatus(force) {
    const now = performance.now();
    if (!force && now - (this.lastDraw || 0) < 300) return;
    this.lastDraw = now;
    const s = this.session;
    const bar = this.$('progress');
    bar.max = s.stepsPlanned || 1;
    bar.value = s.stepsDone;
    const head = s.state === 'training' || s.state === 'paused' || s.state === 'done'
      ? `step ${s.stepsDone} / ${s.stepsPlanned}${s.state === 'paused' ? (this.pausedByView ? ' (paused: out of view)' : ' (paused)') : ''} · ` : '';
    this.say('.status', head + describeEngine(s, s.fake).replace(/^Engine: /, ''));
    const reason = threadsOffReason(s.info, new URLSearchParams(location.search));
    this.say('.why', reason ? `Threads are off: ${reason}` : '');
  }
}

if (!customElements.get('dissipate-figure')) customElements.define('dissipate-figure', DissipateFigure);
