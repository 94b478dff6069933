// app.mjs — the demo page: URL ⇄ form, session (lab + downloads), live charts, status, try-it box and exports.
// Query flags (not configuration): ?fake=1 uses the fake lab for UI work; ?coi=0 turns the COOP/COEP service worker
// off. The configuration itself lives in the fragment (#r1=infonce&…), so a copied link reproduces the run; a link
// with it in the query works too, and the page moves it to the fragment.

import { fromUrlParams, toUrlParams, previewRuns, splitQuery, shorten, minTokens, checkValue, FIELD_BY_ID, POOLING_HINTS } from './config.mjs';
import { ConfigForm, keepFocus } from './controls.mjs';
import { ChartsPanel, CHART_NAMES, CHART_DEFS, runStyles } from './charts.mjs';
import { Session } from './session.mjs';
import { loadChartJs } from './vendor.mjs';
import { assetGroups, formatBytes, downloadSize } from './assets.mjs';
import { describeEngine, threadsOffReason, announce } from './status.mjs';
import * as exporter from './exports.mjs';

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const FAKE = query.get('fake') === '1';

/** The configuration of the address: { config, notices, overruled: the query's configuration text that the
 *  fragment's overrules, or '' }. */
function readUrlConfig() {
  const fromHash = fromUrlParams(location.hash);
  const fromQuery = fromUrlParams(location.search); // links that put the configuration in the query also work
  if (fromHash.given) return { ...fromHash, overruled: fromQuery.given ? splitQuery(location.search).config : '' };
  // (a query without any setting, ?utm_source=…, is not the reader's configuration: its keys are not reported)
  if (!fromQuery.given) fromQuery.ignored = [];
  fromQuery.notices = [...fromQuery.fellBack, ...fromQuery.ignored];
  return { ...(fromQuery.given ? fromQuery : fromHash), overruled: '' };
}

/** The address of a configuration: this page, its query flags, and the configuration as the fragment. */
function linkTo(cfg) {
  return `${location.origin}${location.pathname}${location.search}#${toUrlParams(cfg)}`;
}

/** The notices box: the settings of the link that were not valid and fell back to defaults, the parts of it that
 *  were ignored (an unknown key: nothing fell back, so it is not called invalid), and a query the fragment overruled
 *  (valid, only not used). parsed: fromUrlParams's { fellBack, ignored }. */
function showNotices({ fellBack = [], ignored = [] }, overruled = '') {
  const box = $('notices');
  box.textContent = '';
  if (!fellBack.length && !ignored.length && !overruled) { box.hidden = true; return; }
  const list = (heading, items) => {
    if (!items.length) return;
    const p = document.createElement('p');
    p.textContent = heading;
    const ul = document.createElement('ul');
    for (const n of items) { const li = document.createElement('li'); li.textContent = n; ul.append(li); }
    box.append(p, ul);
  };
  list('Some settings in the link were not valid and fell back to their defaults:', fellBack);
  list('Some parts of the link were ignored:', ignored);
  if (overruled) {
    const p = document.createElement('p');
    p.textContent = `The link held settings twice: those after # are used, those in the query (${shorten(overruled, 60)}) are not.`;
    box.append(p);
  }
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'close';
  close.textContent = 'Dismiss';
  close.addEventListener('click', () => { box.hidden = true; });
  box.append(close);
  box.hidden = false;
}

async function main() {
  const initial = readUrlConfig();
  showNotices(initial, initial.overruled);
  // The configuration moves to the fragment (the form writes it there): left in the query too, every later load
  // would find it twice. The page's own flags (?fake=1, ?coi=0) stay.
  const { config: queryConfig, flags } = splitQuery(location.search);
  if (queryConfig) history.replaceState(null, '', `${location.pathname}${flags}${location.hash}`);
  const session = new Session({ fake: FAKE });
  let charts = null;
  const hook = window.dissipate = {
    session, fake: FAKE, errors: [], notices: initial.notices,
    get state() { return session.state; },
    get info() { return session.info; },
    get records() { return session.store.runs; },
    get config() { return form.getConfig(); },
    get url() { return location.href; },
    pointCounts: () => (charts ? charts.pointCounts() : {}),
  };
  window.addEventListener('error', (e) => hook.errors.push(String(e.message || e)));

  let valid = false;
  let form = null;
  const training = () => session.state === 'training' || session.state === 'paused';
  const showHash = (cfg) => {
    const hash = `#${toUrlParams(cfg)}`;
    if (location.hash !== hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  };
  const start = $('start'), pause = $('pause'), reset = $('reset');
  form = new ConfigForm($('config'), initial.config, {
    onChange: (cfg, result) => {
      valid = result.ok;
      if (valid && !training()) showHash(cfg);
      if (!session.store.runs.length) tryitHint(cfg);
      // Before the first run, the empty charts preview the objectives chosen (legend, colours, step axis), with the
      // labels the runs will get, so that two runs of one objective are told apart before Start too.
      if (valid && charts && !session.store.runs.length) preview(cfg);
      updateButtons();
      showShownRun();
    },
  });
  hook.form = form;
  window.addEventListener('hashchange', () => {
    if (training()) {
      // The form is locked on the running configuration: the address must keep showing it, not the pasted link.
      showHash(form.getConfig());
      showError('The address changed during training: the running configuration stays (the address shows it again). Reset, then open the new link.', true);
      return;
    }
    const next = fromUrlParams(location.hash);
    showNotices(next);
    form.setConfig(next.config);
  });

  // After a run, the charts and exports keep its records until Reset or the next Start, while the form (and with it
  // the address) may move on to other settings. Clearing the charts on every edit would throw a finished run away, so
  // they stay, and this note says plainly that they belong to the last run, links to that run's own settings (the
  // exports describe those too: session.config), and says what Start will train.
  function showShownRun() {
    if (!form) return; // the form's first check runs inside its constructor
    const note = $('shown-run');
    const shown = session.store.runs.length && session.config && !training() && !session.restarting;
    const differs = shown && toUrlParams(form.getConfig()) !== toUrlParams(session.config);
    note.hidden = !differs;
    if (differs) $('shown-run-link').href = linkTo(session.config);
  }

  // ---------------------------------------------------------------- buttons
  function updateButtons() {
    if (!form) return; // the form's first check runs inside its constructor
    const s = session.state;
    const focused = document.activeElement;
    const canStart = valid && (s === 'ready' || s === 'done');
    start.disabled = !canStart;
    pause.disabled = !(s === 'training' || s === 'paused');
    pause.textContent = s === 'paused' ? 'Resume' : 'Pause';
    reset.disabled = !(s === 'training' || s === 'paused' || s === 'done');
    form.setLocked(s === 'training' || s === 'paused' || session.restarting);
    const why = !valid ? 'Start is disabled: fix the values marked in red.'
      : session.restarting ? restartWords()
      : s === 'starting' || s === 'loading' ? 'Start is enabled once the model and data have downloaded.' : '';
    $('start-why').textContent = why;
    const trained = session.store.runs.some((r) => r.steps.length);
    $('export-csv').disabled = $('export-json').disabled = !trained;
    for (const b of $('export-png-row').querySelectorAll('button')) b.disabled = !trained;
    const idle = s === 'paused' || s === 'done';
    $('export-zip').disabled = $('export-files').disabled = $('export-run').disabled = !(trained && idle);
    $('compare').disabled = !(trained && (idle || s === 'training'));
    keepFocus(focused, [pause, start, reset]);
  }
  hook.updateButtons = updateButtons;
  // The thread count the engine restarts with: the one asked for, or the cores when there are fewer.
  function restartWords() {
    const n = session.restartThreads, asked = Number(form.getConfig().threads);
    const cut = asked > n ? ` (${asked} asked; this device has ${navigator.hardwareConcurrency} cores)` : '';
    return `Restarting the engine with ${n} thread${n === 1 ? '' : 's'}${cut}…`;
  }
  start.addEventListener('click', async () => {
    clearError();
    const cfg = form.getConfig();
    try { await session.start(cfg); } catch (e) { showError(e.message); }
  });
  pause.addEventListener('click', () => (session.state === 'paused' ? session.resume() : session.pause()));
  reset.addEventListener('click', () => { clearError(); session.reset(); });
  $('copy-link').addEventListener('click', async () => {
    // A link must reproduce a run the page would start: none while a value is refused (the address bar keeps the
    // last valid configuration, which is not what the form shows either).
    if (!valid) { $('start-why').textContent = 'Nothing copied: fix the values marked in red.'; return; }
    const link = linkTo(form.getConfig()); // the configuration shown, whatever the address bar holds
    try { await navigator.clipboard.writeText(link); $('start-why').textContent = 'Link copied.'; }
    catch { $('start-why').textContent = `Copy this link: ${link}`; }
  });

  // ---------------------------------------------------------------- charts
  const Chart = await loadChartJs();
  charts = new ChartsPanel($('charts'), CHART_NAMES, Chart);
  hook.charts = charts;
  // (charts.preview skips a redraw of what it shows already; its key follows every path here, Reset included)
  function preview(cfg) { charts.preview(previewRuns(cfg.runs), Number(cfg.steps) || 100); }
  preview(form.getConfig());
  for (const name of CHART_NAMES) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `${CHART_DEFS[name].title.split(' (')[0]} (PNG)`;
    b.dataset.chart = name;
    b.disabled = true;
    b.addEventListener('click', () => exporter.exportPNG(session, charts, name).catch((e) => say('export-msg', e.message)));
    $('export-png-row').append(b);
  }

  // ---------------------------------------------------------------- session events
  const trainLabel = $('train-label'), trainBar = $('train-progress');
  let lastStatusDraw = 0;
  let comparedAt = null; // the try-it box's step: the cosines shown, which training may have left behind
  function drawStatus(force) {
    const now = performance.now();
    if (!force && now - lastStatusDraw < 300) return;
    lastStatusDraw = now;
    $('status').textContent = describeEngine(session, FAKE);
    const reason = threadsOffReason(session.info, query);
    $('why').hidden = !reason;
    $('why').textContent = reason ? `Threads are off: ${reason}` : '';
    const s = session.state;
    if (s === 'training' || s === 'paused' || s === 'done') {
      trainBar.max = session.stepsPlanned;
      trainBar.value = session.stepsDone;
      trainLabel.textContent = `Training: step ${session.stepsDone} / ${session.stepsPlanned}` +
        `${s === 'paused' ? ' (paused)' : s === 'done' ? endWords() : ''}`;
    } else if (s === 'ready') {
      trainBar.value = 0;
      trainLabel.textContent = 'Training: ready to start';
    }
  }
  // A run that stopped with an error did not finish: the label says so rather than "done".
  function endWords() {
    const failed = session.failedRuns();
    return failed.length ? ` — ended; ${failed.join(', ')} stopped with an error` : ' — done';
  }
  session.on('info', () => drawStatus(true));
  session.on('state', (s) => {
    drawStatus(true);
    updateButtons();
    showShownRun();
    if (s === 'done') fillExportRuns();
    announce($('status-live'), session); // (#status redraws with every step and is not live)
  });
  session.on('status', () => drawStatus(false));
  session.on('error', (e) => { showError(e.message); drawStatus(true); updateButtons(); });
  session.on('warning', (e) => showError(e.message, true));
  session.on('runs', ({ runs, steps }) => {
    charts.setRuns(runs, steps);
    fillExportRuns();
    $('tryit-out').hidden = true;
    tryitHint(session.config);
  });
  // While paused, the step that was in flight at the pause still lands: the label counts it at once (the 300 ms
  // throttle would skip it and leave "step 5 (paused)" with 6 steps recorded).
  session.on('step', ({ run, record }) => {
    charts.addStep(run, record);
    if (comparedAt !== null && !$('tryit-out').hidden && session.stepsDone > comparedAt) {
      say('tryit-msg', `At step ${comparedAt}; the runs have trained on since: compare again for their current weights.`, true);
      comparedAt = null; // said once
    }
    drawStatus(session.state === 'paused');
    if (record.step === 1) updateButtons();
  });
  session.on('eval', ({ run, record }) => charts.addEval(run, record));
  session.on('reset', () => {
    preview(form.getConfig());
    session.store.reset([]);
    $('tryit-out').hidden = true; // the cosines of weights that are gone
    say('tryit-msg', '');
    tryitHint(form.getConfig()); // (the hint followed the run's configuration until now)
    showShownRun();
    updateButtons();
    drawStatus(true);
  });

  function fillExportRuns() {
    const sel = $('export-run');
    sel.textContent = '';
    session.store.runs.forEach((r, i) => {
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = r.label;
      sel.append(o);
    });
  }

  function showError(message, warning = false) {
    const box = $('errors');
    box.hidden = false;
    box.classList.toggle('warning', warning);
    box.textContent = message;
  }
  // Reset and Start leave the run the warnings were about (a run that stopped, an address changed during training);
  // an engine that failed is still failed.
  function clearError() {
    if (session.state !== 'error') $('errors').hidden = true;
  }

  // ---------------------------------------------------------------- downloads
  const rows = {};
  session.on('manifest', (m) => {
    const list = $('download-list');
    list.textContent = '';
    for (const g of [...assetGroups(m, session.siteBase), { id: 'prepare', label: 'tokenizing', files: [] }]) {
      const li = document.createElement('li');
      const id = `dl-${g.id}`;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = g.label;
      const bar = document.createElement('progress');
      bar.id = id;
      bar.max = 1;
      bar.value = 0;
      const text = document.createElement('span');
      text.className = 'bytes';
      const bytes = g.files.reduce((s, f) => s + (f.bytes || 0), 0);
      text.textContent = g.files.length ? `0 / ${formatBytes(bytes)}` : '';
      li.append(label, bar, text);
      list.append(li);
      rows[g.id] = { bar, text };
    }
    const variant = session.info ? session.info.variant : 'single-simd';
    $('download-total').textContent = `(${formatBytes(downloadSize(m, variant))} in all)`;
  });
  session.on('progress', ({ id, loaded, total }) => {
    const r = rows[id];
    if (!r) return;
    r.bar.max = total || 1;
    r.bar.value = Math.min(loaded, total || 1);
    if (id !== 'prepare') r.text.textContent = `${formatBytes(loaded)} / ${formatBytes(total)}`;
  });
  session.on('state', (s) => { if (s === 'ready') $('downloads').open = false; });

  // ---------------------------------------------------------------- try it
  // The hint names how the runs read a sentence: the pooler and the max tokens of the configuration that trains them.
  function tryitHint(cfg) {
    $('tryit-pooling').textContent = POOLING_HINTS[cfg.pooler] || cfg.pooler;
    if (checkValue(FIELD_BY_ID.maxLen, cfg.maxLen).ok) $('tryit-maxlen').textContent = cfg.maxLen; // (not a value being typed)
  }
  // What a comparison left out: the engine reads only the first max tokens of a sentence, silently; a longer sentence
  // would get a cosine of its beginning. Said when minTokens proves the cut (the hint states the limit always).
  function cutWords(a, b) {
    const max = Number(session.config.maxLen);
    const cut = [['A', a], ['B', b]].filter(([, s]) => minTokens(s) > max).map(([n]) => n);
    if (!cut.length) return '';
    const which = cut.length === 2 ? 'Sentences A and B were' : `Sentence ${cut[0]} was`;
    return ` ${which} cut to ${cut.length === 2 ? 'their' : 'its'} first ${max} tokens (the run's max tokens): the cosines compare only those.`;
  }
  $('compare').addEventListener('click', async () => {
    const a = $('s1').value.trim(), b = $('s2').value.trim();
    if (!a || !b) {
      $('tryit-out').hidden = true; // cosines of sentences no longer in the boxes
      say('tryit-msg', 'Type two sentences first.');
      return;
    }
    say('tryit-msg', 'Encoding…', true);
    const tbody = $('tryit-out').querySelector('tbody');
    tbody.textContent = '';
    const styles = runStyles(session.store.runs);
    try {
      for (let i = 0; i < session.store.runs.length; i++) {
        const cos = await session.similarity(i, a, b);
        const tr = document.createElement('tr');
        const name = document.createElement('td');
        const sw = document.createElement('span');
        sw.className = 'swatch';
        sw.style.setProperty('--c', styles[i].color);
        name.append(sw, ` ${session.store.runs[i].label}`);
        const val = document.createElement('td');
        val.textContent = Number(cos).toFixed(3);
        const bar = document.createElement('span');
        bar.className = 'cos-bar';
        bar.style.setProperty('--w', `${Math.max(0, Math.min(1, Number(cos))) * 100}%`);
        bar.style.setProperty('--c', styles[i].color);
        val.append(bar);
        tr.append(name, val);
        tbody.append(tr);
      }
      $('tryit-out').hidden = false;
      comparedAt = session.stepsDone;
      say('tryit-msg', `At step ${comparedAt}.${cutWords(a, b)}`, true);
    } catch (e) {
      $('tryit-out').hidden = true;
      say('tryit-msg', `Could not compare: ${e.message}`);
    }
  });

  // ---------------------------------------------------------------- exports
  $('export-csv').addEventListener('click', () => exporter.exportCSV(session));
  $('export-json').addEventListener('click', () => exporter.exportJSON(session));
  const run = () => Number($('export-run').value || 0);
  $('export-zip').addEventListener('click', () => exporter.exportModelZip(session, run())
    .then(() => say('export-msg', 'Saved the zip.', true)).catch((e) => say('export-msg', `Export failed: ${e.message}`)));
  $('export-files').addEventListener('click', () => exporter.exportModelFiles(session, run())
    .then((names) => say('export-msg', `Saved ${names.join(', ')}: put them in one folder for from_pretrained ` +
      '(your browser may number a name that is already in its download folder).', true))
    .catch((e) => say('export-msg', `Export failed: ${e.message}`)));

  updateButtons();

  // ---------------------------------------------------------------- engine
  const threads = Number(form.getConfig().threads) || 1;
  try {
    await session.open(globalThis.crossOriginIsolated ? threads : 1);
    await session.prepare();
  } catch (e) {
    console.warn('dissipate:', e); // the message is on the page already
  }
  drawStatus(true);
  updateButtons();
  hook.ready = true;
}

// A message line: in the error colour, or neutral for news that is no problem ("At step 12.", "Saved the zip.").
function say(id, text, neutral = false) {
  $(id).textContent = text;
  $(id).classList.toggle('neutral', neutral);
}

main().catch((e) => {
  console.error(e);
  const box = $('errors');
  box.hidden = false;
  box.textContent = `The page failed to start: ${e.message}`;
});
