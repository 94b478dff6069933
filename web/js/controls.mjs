// controls.mjs — the configuration form, built from the tables in config.mjs: 2–4 objectives with their
// hyper-parameters, and the training settings. Every value is checked as it is typed; a refused value shows its
// message next to the control (aria-invalid + a live region), and the owner disables Start while any is invalid.

import {
  OBJECTIVES, OBJECTIVE_NAMES, FIELDS, MIN_RUNS, MAX_RUNS, paramSpec, defaultRun, validateConfig, cloneConfig,
} from './config.mjs';
import { runStyles } from './charts.mjs';

let formCount = 0;

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids) if (k) e.append(k);
  return e;
}

/** After a state change disabled or hid the button that had keyboard focus (Start once training runs, Reset after a
 *  reset), focus moves to the first usable button of `order`, so that a keyboard or screen-reader user is not left
 *  on the page's body. had: the focused element before the change. */
export function keepFocus(had, order) {
  if (!had || !order.includes(had) || (!had.disabled && !had.hidden)) return;
  order.find((b) => !b.disabled && !b.hidden)?.focus();
}

export class ConfigForm {
  /** root: element to fill. opts: { hidden: Set of ids to hide ('objectives', field ids), onChange(cfg, result) } */
  constructor(root, cfg, opts = {}) {
    this.root = root;
    this.prefix = `dsp${++formCount}`;
    this.hidden = opts.hidden || new Set();
    this.onChange = opts.onChange || (() => {});
    this.cfg = cloneConfig(cfg);
    this.locked = false;
    this.render();
  }

  // ------------------------------------------------------------ building
  render() {
    this.root.textContent = '';
    this.runsBox = el('div', { class: 'runs' });
    this.addBtn = el('button', { type: 'button', class: 'add-run', text: '+ Add an objective' });
    this.addBtn.addEventListener('click', () => this.addRun());
    this.runsMsg = el('p', { class: 'msg', role: 'status', 'aria-live': 'polite' });
    const runsSet = el('fieldset', { class: 'objectives' }, el('legend', { text: `Objectives to compare (${MIN_RUNS}–${MAX_RUNS})` }),
      this.runsBox, this.addBtn, this.runsMsg);
    if (this.hidden.has('objectives')) runsSet.hidden = true;

    const grid = el('div', { class: 'fields' });
    for (const f of FIELDS) {
      const field = this.fieldControl(f.id, f, this.cfg[f.id], (v) => { this.cfg[f.id] = v; });
      if (this.hidden.has(f.id)) field.hidden = true;
      grid.append(field);
    }
    const trainSet = el('fieldset', { class: 'training' }, el('legend', { text: 'Training' }), grid);
    if (FIELDS.every((f) => this.hidden.has(f.id))) trainSet.hidden = true;
    this.root.append(runsSet, trainSet);
    this.renderRuns();
    this.check();
  }

  renderRuns() {
    this.runsBox.textContent = '';
    const styles = runStyles(this.cfg.runs);
    this.cfg.runs.forEach((run, i) => {
      const id = `${this.prefix}-r${i}`;
      const sel = el('select', { id: `${id}-objective`, name: `r${i + 1}` });
      for (const name of OBJECTIVE_NAMES) {
        const o = el('option', { value: name, text: `${name} (${OBJECTIVES[name].label})` });
        if (name === run.objective) o.selected = true;
        sel.append(o);
      }
      sel.addEventListener('change', () => {
        this.cfg.runs[i] = defaultRun(sel.value);
        this.renderRuns();
        this.check();
      });
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.setProperty('--c', styles[i].color);
      if (styles[i].dash.length) swatch.classList.add('dashed');
      const head = el('div', { class: 'run-head' }, swatch,
        el('label', { for: sel.id, class: 'run-label visually-hidden', text: `Objective ${i + 1}` }), sel);
      const remove = el('button', { type: 'button', class: 'remove-run', 'aria-label': `Remove objective ${i + 1}`, text: '×' });
      remove.disabled = this.cfg.runs.length <= MIN_RUNS || this.locked;
      remove.addEventListener('click', () => {
        this.cfg.runs.splice(i, 1);
        this.renderRuns();
        this.check();
        this.focusAfterRemove(i);
      });
      head.append(remove);
      const params = el('div', { class: 'run-params' });
      for (const p of OBJECTIVES[run.objective].params) {
        params.append(this.fieldControl(`r${i}-${p}`, paramSpec(p, run.objective), run[p], (v) => { this.cfg.runs[i][p] = v; }, `runs.${i}.${p}`));
      }
      const note = el('p', { class: 'run-note', text: OBJECTIVES[run.objective].note });
      this.runsBox.append(el('div', { class: 'run', 'data-run': String(i) }, head, params, note));
    });
    this.addBtn.disabled = this.cfg.runs.length >= MAX_RUNS || this.locked;
    this.setLocked(this.locked);
  }

  /** One labelled control with its help text and message slot. path: the key in validateConfig's errors. */
  fieldControl(key, spec, value, set, path = key) {
    const id = `${this.prefix}-${key}`;
    let input;
    if (spec.kind === 'choice') {
      input = el('select', { id, name: key });
      for (const [v, label] of Object.entries(spec.choices)) {
        const o = el('option', { value: v, text: label });
        if (v === value) o.selected = true;
        input.append(o);
      }
    } else {
      input = el('input', { id, name: key, type: 'text', inputmode: spec.kind === 'int' ? 'numeric' : 'decimal',
                            autocomplete: 'off', spellcheck: 'false', value });
      input.value = value;
    }
    const help = spec.help ? el('span', { class: 'help', id: `${id}-help`, text: spec.help }) : null;
    const msg = el('span', { class: 'msg', id: `${id}-msg`, role: 'status', 'aria-live': 'polite' });
    input.setAttribute('aria-describedby', [msg.id, help && help.id].filter(Boolean).join(' '));
    input.dataset.path = path;
    // surrounding spaces are not part of a value: ' 8 ' is 8, in the configuration and in a copied link alike
    const onInput = () => { set(input.value.trim()); this.check(); };
    input.addEventListener(spec.kind === 'choice' ? 'change' : 'input', onInput);
    return el('div', { class: 'field', 'data-field': path }, el('label', { for: id, text: spec.label }), input, help, msg);
  }

  // ------------------------------------------------------------ state
  /** Validates, shows every message next to its control, and tells the owner. */
  check() {
    const result = validateConfig(this.cfg);
    for (const field of this.root.querySelectorAll('.field')) {
      const path = field.dataset.field;
      const msg = result.errors[path] || '';
      const input = field.querySelector('input, select');
      const out = field.querySelector('.msg');
      if (out.textContent !== msg) out.textContent = msg;
      field.classList.toggle('invalid', !!msg);
      if (msg) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    }
    this.runsMsg.textContent = result.errors.runs || '';
    this.result = result;
    this.onChange(cloneConfig(this.cfg), result);
    return result;
  }

  getConfig() { return cloneConfig(this.cfg); }

  setConfig(cfg) {
    this.cfg = cloneConfig(cfg);
    this.render();
  }

  addRun() {
    if (this.cfg.runs.length >= MAX_RUNS) return;
    const used = new Set(this.cfg.runs.map((r) => r.objective));
    const next = ['dcl', 'dclp', 'met', 'mpt', 'mat', 'infonce', 'au'].find((o) => !used.has(o)) || 'dcl';
    this.cfg.runs.push(defaultRun(next));
    this.renderRuns();
    this.check();
    this.runsBox.querySelector(`[data-run="${this.cfg.runs.length - 1}"] select`)?.focus();
  }

  /** renderRuns rebuilt every run, so the focused remove button is gone and focus fell to <body>: a keyboard user
   *  would start again at the top of the form. Focus goes to the nearest control of the same kind: the remove button
   *  of the run that took the removed one's place (or of the previous run, if the last was removed); once the runs
   *  are down to the minimum those are disabled, and "+ Add an objective" takes it; the run's select otherwise. */
  focusAfterRemove(i) {
    const at = Math.min(i, this.cfg.runs.length - 1);
    const run = this.runsBox.querySelector(`[data-run="${at}"]`);
    const remove = run?.querySelector('.remove-run');
    const target = [remove, this.addBtn, run?.querySelector('select')].find((c) => c && !c.disabled && !c.hidden);
    target?.focus();
  }

  /** Disables every control (while a run trains: the charts must match the configuration in the URL). */
  setLocked(locked) {
    this.locked = locked;
    for (const c of this.root.querySelectorAll('input, select, button')) {
      if (c.classList.contains('remove-run')) c.disabled = locked || this.cfg.runs.length <= MIN_RUNS;
      else if (c.classList.contains('add-run')) c.disabled = locked || this.cfg.runs.length >= MAX_RUNS;
      else c.disabled = locked;
    }
  }
}
