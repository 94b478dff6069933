// charts.mjs — the live figures: one Chart.js chart per quantity, one colour per run on every chart (an objective's
// colour for its first run).
// Records arrive at hundreds per second; they go into decimated series (series.mjs) and the charts redraw at
// most a few times a second, without animation, so the page stays responsive over thousands of steps.

import { DecimatedSeries } from './series.mjs';

// Okabe–Ito colours (distinguishable with the common colour-vision deficiencies) plus a grey and a purple, one per
// objective; the two the paper's story compares first, infonce and au, get the strongest contrast. Every line keeps
// 3:1 against the white chart (WCAG 1.4.11): Okabe–Ito's orange (#E69F00, 2.3:1) is darkened to #BD7E00 (3.4:1).
export const OBJECTIVE_COLORS = {
  infonce: '#D55E00', au: '#0072B2', dcl: '#009E73', dclp: '#CC79A7', mpt: '#BD7E00', met: '#444444', mat: '#6A3D9A',
};
// A second run of the same objective gets a colour of its own as well as a dash pattern: a dash alone could not be
// seen where two paths lie on top of each other (the plane chart, two au runs at t = 2 and t = 6). Its colour comes
// from SPARE_COLORS (Paul Tol's wine, indigo and green, each ≥ 3:1 on white, none an objective's colour), then from
// the colours of objectives absent from the comparison; never one already in use, so every run differs.
const SPARE_COLORS = ['#882255', '#332288', '#117733'];
const DASHES = [[], [7, 4], [2, 3], [10, 3, 2, 3]];

/** The colour and dash of each run: the first run of an objective gets its objective's colour, a later one a colour
 *  no other run of the comparison has; the dash says how many earlier runs share its objective. */
export function runStyles(runs) {
  const seen = {};
  const own = runs.map((r) => OBJECTIVE_COLORS[r.objective] || '#444');
  const used = new Set(own);
  const spare = [...SPARE_COLORS, ...Object.values(OBJECTIVE_COLORS)].filter((c) => !used.has(c));
  return runs.map((r, i) => {
    const k = seen[r.objective] = (seen[r.objective] || 0) + 1;
    return { color: k === 1 ? own[i] : spare.shift() || own[i], dash: DASHES[(k - 1) % DASHES.length] };
  });
}

// source: which records feed it; lines: [{ key, dash, suffix }] per run (several for the gradient split).
export const CHART_DEFS = {
  stsb: { title: 'STS-B dev Spearman ×100', y: 'Spearman ×100', source: 'eval', lines: [{ key: 'spearman' }], points: true,
          caption: 'Semantic similarity on STS-B dev (1,500 pairs), evaluated without dropout. Higher is better.' },
  loss: { title: 'Training loss', y: 'loss', source: 'step', lines: [{ key: 'loss' }],
          caption: 'Each objective on its own scale: compare shapes, not heights.' },
  gd: { title: 'Dissipation factor gd', y: 'mean gd', source: 'step', lines: [{ key: 'gd' }], yMin: 0, yMax: 1,
        caption: 'InfoNCE: mean 1 − p_ii; hinged objectives: the fraction of active anchors. Absent for au and dcl, which never dissipate.' },
  gradh: { title: 'Per-sample gradient ‖N·∂L/∂h_i‖', y: 'norm', source: 'step',
           lines: [{ key: 'grad_h' }, { key: 'grad_h_pos', dash: [6, 3], suffix: ' via positive' },
                   { key: 'grad_h_neg', dash: [1.5, 2.5], suffix: ' via negatives' }],
           caption: 'Solid: total; dashed: through the positive pair; dotted: through the negatives.' },
  plane: { title: 'Alignment vs uniformity (STS-B dev)', x: 'uniform (lower = more uniform)', y: 'align (lower = better aligned)',
           source: 'eval', plane: true,
           caption: 'One path per run, a marker per evaluation; the larger marker is step 0. Lower-left is better (Wang & Isola 2020; SimCSE Fig. 2).' },
  gradnorm: { title: 'Parameter gradient norm', y: '‖∇θ L‖ before clipping', source: 'step', lines: [{ key: 'grad_norm' }],
              caption: 'Global L2 norm of all parameter gradients, before clipping at 1.' },
};
export const CHART_NAMES = Object.keys(CHART_DEFS);

let panelCount = 0;

// Paints a white background so that exported PNGs are not transparent.
const whiteBackground = {
  id: 'dspWhiteBackground',
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

export class ChartsPanel {
  /** container: element to fill; names: which charts; Chart: the Chart.js constructor; opts.compact for widgets. */
  constructor(container, names, Chart, opts = {}) {
    this.Chart = Chart;
    this.compact = !!opts.compact;
    this.maxPoints = opts.maxPoints || 400;
    this.charts = {};
    this.figures = {};
    this.series = {};      // name → [run][line] → DecimatedSeries
    this.pending = false;
    this.lastDraw = 0;
    this.lastCost = 0; // ms the last redraw took
    this.runs = [];
    this.steps = 100;
    this.summaries = {}; // name → the hidden text that tells a screen reader what the chart shows
    const prefix = `dsp-chart${++panelCount}`;
    for (const name of names) {
      const def = CHART_DEFS[name];
      if (!def) continue;
      const fig = document.createElement('figure');
      fig.className = 'chart';
      fig.dataset.chart = name;
      const box = document.createElement('div');
      box.className = 'chart-box';
      // A canvas is invisible to a screen reader: it is an image named by its title and described by its caption
      // and by a hidden summary of its curves (each run's first and latest value), which flush() keeps current.
      const canvas = document.createElement('canvas');
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', def.title);
      const summary = document.createElement('p');
      summary.className = 'visually-hidden';
      summary.id = `${prefix}-${name}-summary`;
      box.append(canvas, summary); // (not after the figcaption, which must stay the figure's last child)
      fig.appendChild(box);
      const described = [summary.id];
      if (!this.compact) {
        const cap = document.createElement('figcaption');
        cap.id = `${prefix}-${name}-caption`;
        cap.textContent = def.caption;
        fig.appendChild(cap);
        described.push(cap.id);
      }
      canvas.setAttribute('aria-describedby', described.join(' '));
      this.summaries[name] = summary;
      container.appendChild(fig);
      this.figures[name] = fig;
      this.charts[name] = new Chart(canvas, this.chartConfig(name, def));
    }
  }

  chartConfig(name, def) {
    const small = this.compact;
    const axisTitle = (text) => ({ display: !small, text });
    const scales = def.plane
      ? { x: { type: 'linear', title: axisTitle(def.x) }, y: { type: 'linear', title: axisTitle(def.y) } }
      : { x: { type: 'linear', min: 0, max: this.steps, title: axisTitle('step') },
          y: { type: 'linear', title: axisTitle(def.y), min: def.yMin, max: def.yMax } };
    return {
      type: def.plane ? 'scatter' : 'line',
      data: { datasets: [] },
      plugins: [whiteBackground],
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        spanGaps: true,
        interaction: { mode: def.plane ? 'nearest' : 'index', intersect: false, axis: def.plane ? 'xy' : 'x' },
        scales,
        elements: { line: { borderWidth: 1.75, tension: 0 }, point: { radius: def.points ? 2 : 0, hitRadius: 4 } },
        plugins: {
          title: { display: true, text: def.title, font: { size: small ? 12 : 13, weight: '600' }, color: '#222' },
          legend: { display: true, labels: { boxWidth: 14, boxHeight: 2, font: { size: 11 }, filter: (item, data) => data.datasets[item.datasetIndex].dspLegend } },
          tooltip: {
            callbacks: def.plane
              ? { label: (c) => `${c.dataset.label}: step ${c.raw.step}, uniform ${c.raw.x.toFixed(3)}, align ${c.raw.y.toFixed(3)}` }
              : { label: (c) => `${c.dataset.label}: ${fmt(c.raw.y)}` },
          },
        },
      },
    };
  }

  /** The empty charts of runs before they train (legend, colours, step axis): setRuns, unless these runs and steps
   *  are what the charts preview already. The key lives here, beside the charts it describes, so that every path
   *  that redraws them (a changed control, Reset) keeps it true. */
  preview(runs, steps) {
    const key = JSON.stringify([runs, steps]);
    if (key === this.previewKey) return;
    this.setRuns(runs, steps);
    this.previewKey = key;
  }

  /** Starts a new session: runs [{ label, objective }], the planned number of steps. Clears every chart. */
  setRuns(runs, steps) {
    this.previewKey = '';
    this.runs = runs;
    this.steps = steps;
    const styles = runStyles(runs);
    for (const [name, chart] of Object.entries(this.charts)) {
      const def = CHART_DEFS[name];
      const lines = def.plane ? [{ key: 'plane' }] : def.lines;
      this.series[name] = runs.map(() => lines.map(() => new DecimatedSeries(this.maxPoints)));
      chart.data.datasets = [];
      runs.forEach((run, i) => {
        lines.forEach((line, j) => {
          const s = this.series[name][i][j];
          const dash = line.dash || styles[i].dash;
          chart.data.datasets.push({
            label: run.label + (line.suffix || ''),
            data: s.points,
            borderColor: styles[i].color,
            backgroundColor: styles[i].color,
            borderDash: dash,
            showLine: true,
            // The x axis starts at step 0 exactly, where the first evaluation lies: Chart.js clips a dataset at the
            // chart area (give or take half a line width), which cut the step-0 marker in half. 6 px of overflow
            // fits the largest marker (the plane's step 0, radius 5, plus its border) and keeps the axes as they are.
            clip: 6,
            dspLegend: j === 0,
            pointRadius: def.plane ? (ctx) => (ctx.raw && ctx.raw.step === 0 ? 5 : 2.5) : undefined,
            pointStyle: def.plane ? (ctx) => (ctx.raw && ctx.raw.step === 0 ? 'rectRot' : 'circle') : undefined,
          });
        });
      });
      if (!def.plane) chart.options.scales.x.max = steps;
      chart.update('none');
    }
    this.describe();
  }

  addStep(run, rec) { this.add('step', run, rec); }
  addEval(run, rec) { this.add('eval', run, rec); }

  add(source, run, rec) {
    for (const [name] of Object.entries(this.charts)) {
      const def = CHART_DEFS[name];
      if (def.source !== source) continue;
      const lines = this.series[name]?.[run];
      if (!lines) continue;
      if (def.plane) lines[0].push(rec.uniform, rec.align, rec.step);
      else def.lines.forEach((line, j) => lines[j].push(rec.step, rec[line.key]));
    }
    this.schedule();
  }

  // Redraws in an animation frame, at most every 250 ms and at most 2% of the time: a redraw that took d ms waits
  // 50·d before the next (about 0.5 s for the charts of a two-run comparison). The engine's threads share the cores
  // with this page, so the page keeps its own share small: `node tools/bench-browser.mjs` measured the page's
  // thread busy 4.6% of a 2-thread training run with this rule, 11% with a fixed 250 ms.
  schedule() {
    if (this.pending) return;
    this.pending = true;
    const gap = Math.max(250, 50 * this.lastCost);
    const wait = Math.max(0, gap - (performance.now() - this.lastDraw));
    setTimeout(() => requestAnimationFrame(() => this.flush()), wait);
  }

  flush() {
    this.pending = false;
    const t0 = performance.now();
    for (const chart of Object.values(this.charts)) chart.update('none');
    this.describe();
    this.lastDraw = performance.now();
    this.lastCost = this.lastDraw - t0;
  }

  /** Writes each chart's text alternative: per run, the first and the latest point of its first line (the plane:
   *  both coordinates), e.g. "mean gd by step. infonce: 0.0012 at step 300 (from 0.98 at step 1); au: no values." */
  describe() {
    for (const [name, el] of Object.entries(this.summaries)) {
      const def = CHART_DEFS[name];
      const points = this.runs.map((_, i) => this.series[name]?.[i]?.[0]?.points || []);
      const started = points.some((p) => p.length); // then an empty line has no values (gd of au), not "yet"
      const runs = this.runs.map((run, i) => {
        const pts = points[i];
        if (!pts.length) return `${run.label}: ${started ? 'no values' : 'no data yet'}`;
        const at = (p) => (def.plane ? `uniform ${short(p.x)}, align ${short(p.y)} at step ${p.step}` : `${short(p.y)} at step ${p.step}`);
        const first = pts[0], last = pts[pts.length - 1];
        return `${run.label}: ${at(last)}${pts.length > 1 ? ` (from ${at(first)})` : ''}`;
      });
      const text = runs.length ? `${def.plane ? 'Per run' : `${def.y} by step`}. ${runs.join('; ')}.` : 'No runs yet.';
      if (el.textContent !== text) el.textContent = text;
    }
  }

  /** Points drawn per chart (all datasets), for tests and the status line. */
  pointCounts() {
    const out = {};
    for (const [name, chart] of Object.entries(this.charts)) out[name] = chart.data.datasets.reduce((s, d) => s + d.data.length, 0);
    return out;
  }

  /** The chart as a PNG Blob, drawn at twice its on-screen resolution. */
  async toPNG(name) {
    const chart = this.charts[name];
    if (!chart) throw new Error(`no chart named ${name}`);
    const ratio = chart.options.devicePixelRatio;
    chart.options.devicePixelRatio = Math.max(2, window.devicePixelRatio || 1);
    chart.resize();
    chart.update('none');
    const blob = await new Promise((res) => chart.canvas.toBlob(res, 'image/png'));
    chart.options.devicePixelRatio = ratio;
    chart.resize();
    if (!blob) throw new Error(`the browser could not encode ${name} as PNG`);
    return blob;
  }

  destroy() {
    for (const c of Object.values(this.charts)) c.destroy();
    for (const f of Object.values(this.figures)) f.remove();
    this.charts = {};
  }
}

// Three significant digits, for the spoken summaries.
function short(v) {
  return Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

function fmt(v) {
  if (typeof v !== 'number') return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(3) : v.toFixed(4);
}
