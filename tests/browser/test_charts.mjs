// test_charts.mjs — two objectives train N steps and every chart receives points, for every run where the
// quantity applies (gd does not apply to au), with one colour per objective shared by all charts. Then Reset:
// records of the reset run that were still on their way reach neither a new run nor the emptied charts. Reset
// also hides the try-it results and redraws the preview so that a later change of steps redraws it again; the
// paused label counts the step that lands after the pause. The try-it box hides its table when it refuses a
// comparison, and says its result is stale once training moves past the step it was made at.

import { browserTest, openLab, trainToDone, smallConfigHash } from './lib.mjs';

// Clicks Start, then clicks the given buttons in order from inside the handler of the step-2 record of run `at`
// (0: the first): the worker has already posted more records by then, so they arrive after the clicks. After the
// last run's record (1 of two), the worker is into step 3, which it finishes before it pauses.
function startThenClickAtStep2(page, buttons, at = 0) {
  return page.evaluate(({ ids, at }) => new Promise((resolve) => {
    let clicked = false;
    window.dissipate.session.on('step', ({ run, record }) => {
      if (clicked || run !== at || record.step < 2) return;
      clicked = true;
      for (const id of ids) document.getElementById(id).click();
      resolve();
    });
    document.getElementById('start').click();
  }), { ids: buttons, at });
}

// Waits until every message the worker posted before this call has reached the page: a request's reply follows
// them on the same channel, and the worker handles messages only between steps, in order, so no record of a
// paused or reset run can come after it. (A 'no run' refusal after a Reset is a reply too.) Exact where a sleep
// could only let a late record slip past the check.
const workerBarrier = (page) => page.evaluate(() => window.dissipate.session.similarity(0, 'a', 'b').then(() => 0, () => 0));

const STEPS = 12, EVAL = 4;

await browserTest('charts', { isolation: true }, async (t, { server, browser, cleanup }) => {
  const { page, problems } = await openLab(browser.context, `${server.url}index.html${smallConfigHash({ objectives: ['infonce', 'au'], steps: STEPS, evalEvery: EVAL })}`);
  // Responsiveness: the main thread only draws (the engine runs in a worker); watch the frame gaps meanwhile.
  await page.evaluate(() => {
    window.frameGaps = [];
    let last = performance.now();
    const tick = (t) => { window.frameGaps.push(t - last); last = t; if (!window.stopFrames) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  // A reader's edit before Start (10, then back to 12): the preview now follows the steps control.
  await page.fill('[name="steps"]', '10');
  await page.fill('[name="steps"]', String(STEPS));
  await trainToDone(page);
  const gaps = await page.evaluate(() => { window.stopFrames = true; return window.frameGaps.slice().sort((a, b) => a - b); });
  const p95 = gaps[Math.floor(gaps.length * 0.95)], worst = gaps[gaps.length - 1];
  t.ok(`the page kept drawing frames while training (95th percentile gap ${p95?.toFixed(0)} ms < 200 ms, worst ${worst?.toFixed(0)} ms < 1000 ms)`,
    gaps.length > 10 && p95 < 200 && worst < 1000);
  await page.waitForTimeout(600); // the charts redraw at most every 250 ms
  const charts = await page.evaluate(() => {
    const out = {};
    for (const [name, c] of Object.entries(window.dissipate.charts.charts)) {
      out[name] = c.data.datasets.map((d) => ({ label: d.label, n: d.data.length, color: d.borderColor,
        finite: d.data.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)) }));
    }
    return out;
  });
  const names = ['stsb', 'loss', 'gd', 'gradh', 'plane', 'gradnorm'];
  t.ok('all six charts exist', names.every((n) => charts[n]), Object.keys(charts).join());
  const byRun = (name, label) => charts[name].filter((d) => d.label === label || d.label.startsWith(`${label} `));
  for (const name of names) {
    const total = charts[name].reduce((s, d) => s + d.n, 0);
    t.ok(`${name}: received points (${total})`, total > 0);
    t.ok(`${name}: every point is finite`, charts[name].every((d) => d.finite));
    for (const label of ['infonce', 'au']) {
      if (name === 'gd' && label === 'au') {
        t.ok('gd: au has no points (it never dissipates)', byRun(name, label).every((d) => d.n === 0));
        continue;
      }
      t.ok(`${name}: ${label} has points`, byRun(name, label).some((d) => d.n > 0), JSON.stringify(byRun(name, label)));
    }
  }
  t.ok(`stsb: ${STEPS / EVAL + 1} evaluations per run`, charts.stsb.every((d) => d.n === STEPS / EVAL + 1), JSON.stringify(charts.stsb));
  t.ok(`loss: ${STEPS} points per run`, charts.loss.every((d) => d.n === STEPS), JSON.stringify(charts.loss));
  t.ok('gradh: total, positive and negative lines per run', charts.gradh.length === 6);
  // The step-0 evaluation lies on the left edge of the chart area (audit finding 7): its marker must be drawn whole,
  // not cut at the edge. The pixel 1.5 px left of the edge, at the marker's height, is inside the marker (radius 2):
  // it must carry a run's colour, not the white of the background (or the grey of a tick).
  const edge = await page.evaluate(() => {
    const chart = window.dissipate.charts.charts.stsb;
    const pt = chart.getDatasetMeta(0).data[0];
    const dpr = chart.currentDevicePixelRatio || 1;
    const px = chart.ctx.getImageData(Math.round((pt.x - 1.5) * dpr), Math.round(pt.y * dpr), 1, 1).data;
    return { x: pt.x, left: chart.chartArea.left, rgb: [px[0], px[1], px[2]] };
  });
  t.ok('stsb: the step-0 marker is on the left edge and drawn whole, not clipped there',
    Math.abs(edge.x - edge.left) < 1 && Math.max(...edge.rgb) - Math.min(...edge.rgb) > 80, JSON.stringify(edge));
  const colour = (name, label) => byRun(name, label)[0].color;
  t.ok('one colour per objective on every chart', names.every((n) => colour(n, 'infonce') === colour('stsb', 'infonce') && colour(n, 'au') === colour('stsb', 'au'))
    && colour('stsb', 'infonce') !== colour('stsb', 'au'));

  // Try it after the run: the table and a success line in a neutral colour; Reset hides both. Then the preview after
  // Reset follows the steps control: steps 10, Reset (axis 10), steps back to 12 → axis 12.
  await page.click('#compare');
  await page.waitForFunction(() => !document.getElementById('tryit-out').hidden, null, { timeout: 30000 });
  const tryit = await page.evaluate(() => ({ msg: document.getElementById('tryit-msg').textContent, color: getComputedStyle(document.getElementById('tryit-msg')).color }));
  t.ok('try it: "At step 12." in a neutral colour, not the error colour', /At step 12/.test(tryit.msg) && tryit.color !== 'rgb(179, 38, 30)', JSON.stringify(tryit));
  t.ok('try it: a sentence that fits says nothing of a cut', !/cut/.test(tryit.msg), tryit.msg);
  // A sentence longer than the run's max tokens (24 here) is read only up to them (audit finding 9): the hint gives
  // the limit, and a comparison says which sentence was cut.
  const hintText = await page.textContent('.tryit .hint');
  t.ok('try it: the hint states the run\'s max tokens (24)', /up to 24 tokens/.test(hintText), hintText);
  const sentenceA = await page.inputValue('#s1');
  await page.fill('#s1', 'word '.repeat(200));
  await page.click('#compare');
  await page.waitForFunction(() => /^At step/.test(document.getElementById('tryit-msg').textContent), null, { timeout: 30000 });
  const cutMsg = await page.textContent('#tryit-msg');
  t.ok('try it: a 200-word sentence A is said to be cut to its first 24 tokens', /Sentence A was cut to its first 24 tokens/.test(cutMsg), cutMsg);
  await page.fill('#s1', sentenceA);
  const xMax = () => page.evaluate(() => window.dissipate.charts.charts.loss.options.scales.x.max);
  await page.fill('[name="steps"]', '10');
  await page.click('#reset');
  const afterTryReset = await page.evaluate(() => ({ table: !document.getElementById('tryit-out').hidden, msg: document.getElementById('tryit-msg').textContent }));
  t.ok('Reset hides the try-it results', !afterTryReset.table && afterTryReset.msg === '', JSON.stringify(afterTryReset));
  t.ok('Reset previews the steps shown (10)', (await xMax()) === 10, String(await xMax()));
  await page.fill('[name="steps"]', String(STEPS));
  t.ok(`after Reset, steps back to ${STEPS} redraws the preview axis`, (await xMax()) === STEPS, String(await xMax()));

  // Reset then Start at once: the records of the reset run still on their way from the worker must not land in the
  // new run. Both clicks happen while run 1's step-2 record is being handled, so run 2's step 2 (at least) is queued.
  await startThenClickAtStep2(page, ['reset', 'start']);
  await page.waitForFunction(() => window.dissipate.state === 'done', null, { timeout: 300000 });
  const rerun = await page.evaluate(() => window.dissipate.records.map((r) => ({ steps: r.steps.map((s) => s.step).join(), evals: r.evals.map((e) => e.step).join() })));
  const wantSteps = Array.from({ length: STEPS }, (_, i) => i + 1).join(), wantEvals = Array.from({ length: STEPS / EVAL + 1 }, (_, i) => i * EVAL).join();
  t.ok('Reset then Start: the new run holds only its own steps', rerun.every((r) => r.steps === wantSteps), JSON.stringify(rerun));
  t.ok('Reset then Start: the new run holds only its own evaluations', rerun.every((r) => r.evals === wantEvals), JSON.stringify(rerun));

  // Pause after step 2: step 3, in flight, still lands, and the paused label counts it (no throttled, stale label).
  await startThenClickAtStep2(page, ['pause'], 1);
  await workerBarrier(page);
  const pausedAt = await page.evaluate(() => ({ done: window.dissipate.session.stepsDone, label: document.getElementById('train-label').textContent }));
  t.ok('the paused label shows the last step recorded', pausedAt.label === `Training: step ${pausedAt.done} / ${STEPS} (paused)`, JSON.stringify(pausedAt));

  // Try it while paused. A refused comparison (a sentence of spaces only) must not leave the previous cosines
  // under sentences that are no longer in the boxes; a comparison made at the paused step must say it is stale
  // once training moves on, since the table then shows weights the runs no longer have.
  const tryBox = () => page.evaluate(() => ({ table: !document.getElementById('tryit-out').hidden, msg: document.getElementById('tryit-msg').textContent }));
  const compared = () => page.waitForFunction(() => /^At step/.test(document.getElementById('tryit-msg').textContent), null, { timeout: 30000 });
  await page.click('#compare');
  await compared();
  const sentence = await page.inputValue('#s1');
  await page.fill('#s1', '   ');
  await page.click('#compare');
  const refused = await tryBox();
  t.ok('try it: a blank sentence is refused: the table is hidden and a message says why', !refused.table && /Type two sentences/.test(refused.msg), JSON.stringify(refused));
  await page.fill('#s1', sentence);
  await page.click('#compare');
  await compared();
  const fresh = await tryBox();
  t.ok('try it while paused: the table and "At step <paused step>."', fresh.table && fresh.msg === `At step ${pausedAt.done}.`, JSON.stringify(fresh));
  await page.click('#pause'); // resume
  await page.waitForFunction(() => /trained on since/.test(document.getElementById('tryit-msg').textContent), null, { timeout: 30000 }).catch(() => {});
  const stale = await tryBox();
  t.ok('try it: once training passes the compared step, the box says the result is stale',
    stale.table && stale.msg.startsWith(`At step ${pausedAt.done}; the runs have trained on since`), JSON.stringify(stale));
  await page.waitForFunction(() => window.dissipate.state === 'done', null, { timeout: 300000 });
  await page.click('#reset');

  // Reset alone: records still on their way do not touch the preview charts or the step count.
  await startThenClickAtStep2(page, ['reset']);
  await workerBarrier(page);
  const afterReset = await page.evaluate(() => ({ state: window.dissipate.state, stepsDone: window.dissipate.session.stepsDone,
    points: window.dissipate.pointCounts(), label: document.getElementById('train-label').textContent }));
  t.ok('Reset: stale records leave the step count at 0', afterReset.state === 'ready' && afterReset.stepsDone === 0, JSON.stringify(afterReset));
  t.ok('Reset: stale records are not drawn on the preview charts', Object.values(afterReset.points).every((n) => n === 0), JSON.stringify(afterReset.points));
  t.ok('no console errors', problems.length === 0, problems.join('\n'));
});
