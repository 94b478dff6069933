// config.mjs — the run configuration: its fields, defaults, validation, and its text form in the URL.
//
// One table (FIELDS, OBJECTIVE_PARAMS) describes every control, so that the form, the URL and the validation
// cannot disagree. Values keep the text the user typed ("1e-4" stays "1e-4"), so a copied link round-trips
// exactly: load the URL → the controls show it → the URL generated from the controls equals it.
// Pure module: no DOM, importable from node for tests.

export const OBJECTIVES = {
  infonce: { label: 'InfoNCE, SimCSE', params: ['tau'], note: 'dissipates: its gradient scales with 1 − p_ii' },
  au: { label: 'align + uniform', params: ['lambda', 'alpha', 't'], note: 'never dissipates' },
  dcl: { label: 'decoupled', params: ['tau'], note: 'control: InfoNCE without dissipation' },
  dclp: { label: 'decoupled, hinged', params: ['tau'], note: 'soft form that simulates dissipation' },
  mpt: { label: 'margin, cosine', params: ['margin', 'perAnchor'], note: 'hard form, hardest negative' },
  met: { label: 'margin, Euclidean', params: ['margin', 'perAnchor'], note: 'hard form, hardest negative' },
  mat: { label: 'margin, angular', params: ['margin', 'perAnchor'], note: 'hard form, hardest negative' },
};
export const OBJECTIVE_NAMES = Object.keys(OBJECTIVES);
// (own keys only: "constructor" is no objective)
const isObjective = (name) => Object.prototype.hasOwnProperty.call(OBJECTIVES, name);
export const MIN_RUNS = 2;
export const MAX_RUNS = 4;

// The spec's defaults (objectives.md §2); margins depend on the objective.
const MARGIN_DEFAULT = { mpt: '0.09', met: '0.44', mat: '0.15' };

// kind: 'num' (decimal or exponent), 'int', 'choice', 'bool'. min/max inclusive unless minOpen/maxOpen.
export const PARAMS = {
  tau: { label: 'τ (temperature)', kind: 'num', min: 0, minOpen: true, max: 10, def: '0.05',
         help: 'InfoNCE/DCL temperature, > 0' },
  lambda: { label: 'λ (uniformity weight)', kind: 'num', min: 0, max: 1, def: '0.5', help: 'in [0, 1]' },
  alpha: { label: 'α (alignment exponent)', kind: 'num', min: 0, minOpen: true, max: 64, def: '2', help: 'in (0, 64]' },
  t: { label: 't (uniformity temperature)', kind: 'num', min: 0, minOpen: true, max: 100, def: '2',
       help: 'the library default is 2, the paper\'s script 6' },
  margin: { label: 'margin m', kind: 'num', min: 0, max: 4, def: null, help: 'in [0, 4]' },
  perAnchor: { label: 'hardest negative', kind: 'choice', choices: { '0': 'per positive (paper code)', '1': 'per anchor (follow-up)' },
               def: '0', help: 'column-wise with floors (default) or row-wise without' },
};

// Global fields. key: the name in the URL. Order here is the order in the URL.
export const FIELDS = [
  { id: 'optimizer', key: 'opt', label: 'optimizer', kind: 'choice', choices: { adamw: 'AdamW', sgd: 'SGD + momentum' }, def: 'adamw' },
  { id: 'momentum', key: 'mom', label: 'SGD momentum', kind: 'num', min: 0, max: 1, maxOpen: true, def: '0.9',
    help: 'used by SGD only, in [0, 1)' },
  { id: 'lr', key: 'lr', label: 'learning rate', kind: 'num', min: 0, minOpen: true, max: 10, def: '1e-4', help: '> 0, e.g. 1e-4' },
  { id: 'batch', key: 'batch', label: 'batch (sentences)', kind: 'int', min: 2, max: 512, def: '32',
    help: '2 … 512; each sentence is encoded twice' },
  { id: 'steps', key: 'steps', label: 'steps', kind: 'int', min: 1, max: 100000, def: '300', help: '1 … 100000' },
  { id: 'evalEvery', key: 'eval', label: 'evaluate every', kind: 'int', min: 1, max: 100000, def: '25',
    help: 'steps between STS-B dev evaluations' },
  { id: 'seed', key: 'seed', label: 'seed', kind: 'int', min: 0, max: 4294967295, def: '42', help: 'integer 0 … 2³²−1' },
  { id: 'threads', key: 'threads', label: 'threads', kind: 'int', min: 1, max: 16, def: '2',
    help: '1 … 16; more than 1 needs cross-origin isolation' },
  { id: 'maxLen', key: 'maxlen', label: 'max tokens', kind: 'int', min: 3, max: 512, def: '32', help: '3 … 512 per sentence' },
  { id: 'pooler', key: 'pool', label: 'pooler', kind: 'choice', choices: { mean: 'mean', cls: '[CLS]', cls_mlp: '[CLS] + MLP' }, def: 'mean' },
];
/** What the similarity and the STS-B evaluation pool with, per pooler (the engine scores cls_mlp without its MLP,
 *  as SimCSE does), in the try-it box's words. */
export const POOLING_HINTS = { mean: 'mean pooling', cls: '[CLS] pooling', cls_mlp: '[CLS] pooling; the MLP is used in training only' };
export const FIELD_BY_ID = Object.fromEntries(FIELDS.map((f) => [f.id, f]));

// BERT's basic tokenizer splits at white space and makes every punctuation character (Unicode P*, and ASCII's
// symbols) a token of its own; WordPiece then splits each word into one or more pieces.
const BASIC_TOKEN_RE = /[\p{P}!-/:-@[-`{-~]|[^\s\p{P}!-/:-@[-`{-~]+/gu;

/** A lower bound on the tokens a sentence takes, [CLS] and [SEP] included: every basic token is at least one
 *  wordpiece. The page has no WordPiece of its own (the engine tokenizes), so the try-it box can tell for sure that a
 *  sentence was cut to max tokens when this exceeds it; below it, the hint states the limit. */
export function minTokens(text) {
  return (String(text).match(BASIC_TOKEN_RE) || []).length + 2;
}

export const DEFAULT_OBJECTIVES = ['infonce', 'au'];

const NUM_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT_RE = /^\d+$/;

/** The spec of one per-run parameter for an objective (margin default depends on the objective). */
export function paramSpec(name, objective) {
  const p = PARAMS[name];
  if (name === 'margin') return { ...p, def: MARGIN_DEFAULT[objective] };
  return p;
}

/** A value as messages quote it: a long one (150 pasted digits) shortened, so the message fits beside its field. */
export function shorten(text, max = 24) {
  const s = String(text);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Checks one text value against its spec. Returns { ok, value, text, error }. */
export function checkValue(spec, raw) {
  const text = String(raw ?? '').trim();
  const bad = (error) => ({ ok: false, value: undefined, text, error });
  if (spec.kind === 'choice' || spec.kind === 'bool') {
    if (Object.prototype.hasOwnProperty.call(spec.choices, text)) return { ok: true, value: text, text, error: '' };
    return bad(`choose one of ${Object.keys(spec.choices).join(', ')}`);
  }
  if (text === '') return bad('a value is needed');
  const range = () => `must be ${spec.minOpen ? '>' : '≥'} ${spec.min} and ${spec.maxOpen ? '<' : '≤'} ${spec.max}`;
  if (spec.kind === 'int') {
    // "-1" is a whole number, just out of range: say what is wrong with it
    if (/^-\d+$/.test(text)) return bad(range());
    if (!INT_RE.test(text)) return bad(`"${shorten(text)}" is not a whole number`);
  } else if (!NUM_RE.test(text)) {
    return bad(`"${shorten(text)}" is not a number`);
  }
  const v = Number(text);
  if (!Number.isFinite(v)) return bad(`"${shorten(text)}" is too large`);
  if (spec.kind === 'int' && !Number.isSafeInteger(v)) return bad(`"${shorten(text)}" is too large`);
  const lo = spec.minOpen ? v <= spec.min : v < spec.min;
  const hi = spec.maxOpen ? v >= spec.max : v > spec.max;
  if (lo || hi) return bad(range());
  return { ok: true, value: v, text, error: '' };
}

/** A run with the defaults of its objective. Values are texts, as typed. */
export function defaultRun(objective) {
  const run = { objective };
  for (const p of OBJECTIVES[objective].params) run[p] = paramSpec(p, objective).def;
  return run;
}

/** The default configuration (texts). */
export function defaultConfig() {
  const cfg = { runs: DEFAULT_OBJECTIVES.map(defaultRun) };
  for (const f of FIELDS) cfg[f.id] = f.def;
  return cfg;
}

/** Validates a configuration of texts. Returns { ok, errors: { path: message } } with paths like "lr", "runs.1.tau". */
export function validateConfig(cfg) {
  const errors = {};
  if (!Array.isArray(cfg.runs) || cfg.runs.length < MIN_RUNS || cfg.runs.length > MAX_RUNS)
    errors.runs = `compare ${MIN_RUNS} to ${MAX_RUNS} objectives`;
  (cfg.runs || []).forEach((run, i) => {
    if (!isObjective(run.objective)) { errors[`runs.${i}.objective`] = `unknown objective "${run.objective}"`; return; }
    for (const p of OBJECTIVES[run.objective].params) {
      const r = checkValue(paramSpec(p, run.objective), run[p]);
      if (!r.ok) errors[`runs.${i}.${p}`] = r.error;
    }
  });
  for (const f of FIELDS) {
    const r = checkValue(f, cfg[f.id]);
    if (!r.ok) errors[f.id] = r.error;
  }
  const steps = checkValue(FIELD_BY_ID.steps, cfg.steps), ev = checkValue(FIELD_BY_ID.evalEvery, cfg.evalEvery);
  if (steps.ok && ev.ok && ev.value > steps.value && !errors.evalEvery)
    errors.evalEvery = `must be ≤ steps (${steps.value})`;
  return { ok: Object.keys(errors).length === 0, errors };
}

/** A human label for each run: the objective, plus the parameters that tell apart runs of the same objective. */
export function runLabels(runs) {
  return runs.map((run) => {
    const same = runs.filter((r) => r.objective === run.objective);
    if (same.length < 2) return run.objective;
    const diffs = OBJECTIVES[run.objective].params.filter((p) => same.some((r) => r[p] !== run[p]));
    const short = { tau: 'τ', lambda: 'λ', alpha: 'α', t: 't', margin: 'm', perAnchor: 'anchor' };
    const tail = diffs.map((p) => `${short[p]}=${run[p]}`).join(', ');
    return tail ? `${run.objective} (${tail})` : `${run.objective} #${runs.indexOf(run) + 1}`;
  });
}

/** The legend entries of runs before they train ({ label, objective }), with the labels the runs will get. */
export function previewRuns(runs) {
  const labels = runLabels(runs);
  return runs.map((r, i) => ({ label: labels[i], objective: r.objective }));
}

/** The numbers the lab wants: lab.start(...) arguments. Assumes validateConfig(cfg).ok. */
export function toLabStart(cfg) {
  const num = (t) => Number(t);
  return {
    runs: cfg.runs.map((run) => {
      const rc = { objective: run.objective };
      for (const p of OBJECTIVES[run.objective].params) rc[p] = p === 'perAnchor' ? run[p] === '1' : num(run[p]);
      return rc;
    }),
    steps: num(cfg.steps),
    evalEvery: num(cfg.evalEvery),
    seed: num(cfg.seed),
    batch: num(cfg.batch),
    maxLen: num(cfg.maxLen),
    lr: num(cfg.lr),
    optimizer: cfg.optimizer,
    momentum: num(cfg.momentum),
    pooler: cfg.pooler,
    threads: num(cfg.threads),
  };
}

// ---------------------------------------------------------------- URL form
// "r1=infonce&r1.tau=0.05&r2=au&r2.lambda=0.5&r2.alpha=2&r2.t=2&opt=adamw&lr=1e-4&…" in a fixed order, every value
// written out (not only non-defaults), so that a link keeps its meaning if a default changes later.

const enc = (s) => encodeURIComponent(s).replace(/%2C/gi, ',');

/** The URL fragment text (without '#') of a configuration of texts. */
export function toUrlParams(cfg) {
  const parts = [];
  cfg.runs.forEach((run, i) => {
    parts.push(`r${i + 1}=${enc(run.objective)}`);
    for (const p of OBJECTIVES[run.objective]?.params || []) parts.push(`r${i + 1}.${p}=${enc(run[p] ?? '')}`);
  });
  for (const f of FIELDS) parts.push(`${f.key}=${enc(cfg[f.id] ?? '')}`);
  return parts.join('&');
}

/** Parses a URL fragment or query text. Every invalid value falls back to its default, and every unknown key is
 *  ignored, each with a notice. Returns { config, notices: [string] (all of them), fellBack: [string] (values that
 *  were not valid: a default is used), ignored: [string] (keys or objectives that were dropped: nothing replaces
 *  them), given: bool (any configuration key was present) }. The two kinds are kept apart because a reader is told
 *  different things: "this value was wrong, here is what runs instead" vs "this part of the link was not used". */
export function fromUrlParams(text) {
  const params = new URLSearchParams(String(text || '').replace(/^[#?]/, ''));
  const cfg = defaultConfig();
  const fellBack = [], ignored = [];
  let given = false;
  const used = new Set();
  // runs: r1..r4, contiguous from r1
  const runKeys = [...params.keys()].filter((k) => /^r\d+$/.test(k));
  if (runKeys.length) {
    given = true;
    const runs = [];
    for (let i = 1; i <= MAX_RUNS; i++) {
      const given = params.get(`r${i}`);
      if (given === null) break;
      used.add(`r${i}`);
      const obj = given.trim().toLowerCase(); // case-insensitive, like the widget's chart and control names
      if (!isObjective(obj)) { ignored.push(`r${i}: unknown objective "${shorten(given)}", ignored`); continue; }
      const run = defaultRun(obj);
      for (const p of OBJECTIVES[obj].params) {
        const v = params.get(`r${i}.${p}`);
        if (v === null) continue;
        used.add(`r${i}.${p}`);
        const r = checkValue(paramSpec(p, obj), v);
        if (r.ok) run[p] = r.text;
        else fellBack.push(`r${i}.${p}=${shorten(v)}: ${r.error}; using ${run[p]}`);
      }
      runs.push(run);
    }
    if (runs.length >= MIN_RUNS) cfg.runs = runs;
    else fellBack.push(`need at least ${MIN_RUNS} valid objectives; using ${DEFAULT_OBJECTIVES.join(' and ')}`);
  }
  for (const f of FIELDS) {
    const v = params.get(f.key);
    if (v === null) continue;
    given = true;
    const r = checkValue(f, v);
    if (r.ok) cfg[f.id] = r.text;
    else fellBack.push(`${f.key}=${shorten(v)}: ${r.error}; using ${f.def}`);
  }
  const v = validateConfig(cfg);
  if (v.errors.evalEvery) {
    const clamped = String(Math.min(Number(FIELD_BY_ID.evalEvery.def), Number(cfg.steps)));
    // Only a value the link holds is worth a notice: a default interval longer than a short run is just shortened.
    if (params.get(FIELD_BY_ID.evalEvery.key) !== null) fellBack.push(`eval=${cfg.evalEvery}: ${v.errors.evalEvery}; using ${clamped}`);
    cfg.evalEvery = clamped;
  }
  // Flags of the page itself (not configuration) live in the query string: fake, coi.
  const known = new Set(['fake', 'coi', ...FIELDS.map((f) => f.key)]);
  for (const k of new Set(params.keys())) {
    if (!known.has(k) && !used.has(k)) ignored.push(`unknown or unused setting "${shorten(k)}" ignored`);
  }
  return { config: cfg, notices: [...fellBack, ...ignored], fellBack, ignored, given };
}

/** Whether a URL parameter is part of the configuration (r1, r1.tau, lr, …), not a flag of the page (fake, coi). */
export function isConfigKey(k) {
  return /^r\d+(\.\w+)?$/.test(k) || FIELDS.some((f) => f.key === k);
}

/** A query string split into the configuration it holds ('steps=40&lr=2e-4') and everything else, the page's own
 *  flags, as a query again ('?fake=1', or ''). */
export function splitQuery(search) {
  const config = new URLSearchParams(), flags = new URLSearchParams();
  for (const [k, v] of new URLSearchParams(String(search || '').replace(/^\?/, ''))) (isConfigKey(k) ? config : flags).append(k, v);
  const rest = flags.toString();
  return { config: config.toString(), flags: rest ? `?${rest}` : '' };
}

/** Deep copy of a configuration of texts. */
export function cloneConfig(cfg) {
  return { ...cfg, runs: cfg.runs.map((r) => ({ ...r })) };
}
