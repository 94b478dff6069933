// records.mjs — every record a training session produced, kept whole for exports, plus the CSV/JSON forms.
// The charts get a decimated stream (series.mjs); this store never drops anything. Pure module.

export const STEP_KEYS = ['loss', 'gd', 'grad_h', 'grad_h_pos', 'grad_h_neg', 'grad_norm', 'pos_cos', 'neg_cos', 'lr', 'tokens', 'ms'];
export const EVAL_KEYS = ['spearman', 'align', 'uniform', 'pairs'];

export class RecordStore {
  /** runs: [{ label, objective, params }] */
  constructor(runs = []) { this.reset(runs); }

  reset(runs) {
    this.runs = runs.map((r) => ({ ...r, steps: [], evals: [] }));
  }

  addStep(run, record) { this.runs[run]?.steps.push(record); }
  addEval(run, record) { this.runs[run]?.evals.push(record); }

  /** The latest eval of each run (or undefined). */
  latestEvals() { return this.runs.map((r) => r.evals[r.evals.length - 1]); }

  /** Long-format CSV: one line per record, a `type` column (step or eval), empty cells where a key does not apply. */
  toCSV() {
    const cols = ['run', 'label', 'objective', 'type', 'step', ...STEP_KEYS, ...EVAL_KEYS];
    const lines = [cols.join(',')];
    const cell = (v) => {
      if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
      const s = String(v);
      return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    this.runs.forEach((r, i) => {
      const base = [i, r.label, r.objective];
      for (const rec of r.steps) lines.push([...base, 'step', rec.step, ...STEP_KEYS.map((k) => rec[k]), ...EVAL_KEYS.map(() => '')].map(cell).join(','));
      for (const rec of r.evals) lines.push([...base, 'eval', rec.step, ...STEP_KEYS.map(() => ''), ...EVAL_KEYS.map((k) => rec[k])].map(cell).join(','));
    });
    return lines.join('\n') + '\n';
  }

  /** JSON document: the configuration (as in the URL), the build that ran it, and every record. NaN → null. */
  toJSON(meta = {}) {
    return JSON.stringify({ ...meta, runs: this.runs }, (k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1);
  }
}

/** Splits one CSV line as toCSV writes it (quotes doubled inside quoted cells). For tests and imports. */
export function parseCSVLine(line) {
  const out = [];
  let cur = '', q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}
