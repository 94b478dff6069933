// test_charts.mjs — two objectives train N steps and every chart receives points, for every run where the
// quantity applies (gd does not apply to au), with one colour per objective shared by all charts.

import { browserTest, openLab, trainToDone, smallConfigHash } from './lib.mjs';

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
  const colour = (name, label) => byRun(name, label)[0].color;
  t.ok('one colour per objective on every chart', names.every((n) => colour(n, 'infonce') === colour('stsb', 'infonce') && colour(n, 'au') === colour('stsb', 'au'))
    && colour('stsb', 'infonce') !== colour('stsb', 'au'));
  t.ok('no console errors', problems.length === 0, problems.join('\n'));
});
