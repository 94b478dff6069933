// test_isolated.mjs — with COOP/COEP headers the page is cross-origin isolated, loads the threads + SIMD build,
// trains two objectives with 2 threads to the end, and logs no console error. Another thread count restarts the
// engine: the page says the count it will use (not more than the cores) and shows a restarting state, not the last
// run's speed and "downloading".

import { browserTest, openLab, trainToDone, records, smallConfigHash } from './lib.mjs';

const STEPS = 8, EVAL = 4;

await browserTest('isolated', { isolation: true }, async (t, { server, browser, cleanup }) => {
  const { page, problems } = await openLab(browser.context, `${server.url}index.html${smallConfigHash({ steps: STEPS, evalEvery: EVAL, threads: 2 })}`);
  const env = await page.evaluate(() => ({ coi: self.crossOriginIsolated, sab: typeof SharedArrayBuffer, info: window.dissipate.info }));
  t.ok('the page is cross-origin isolated', env.coi === true);
  t.ok('SharedArrayBuffer exists', env.sab === 'function');
  t.ok('the lab chose the threads-simd build', env.info.variant === 'threads-simd', JSON.stringify(env.info));
  t.ok('the lab runs 2 threads', env.info.threads === 2, JSON.stringify(env.info));
  t.ok('it is the real engine, not the fake lab', !env.info.fake && !(await page.evaluate(() => window.dissipate.fake)));
  t.ok('no "threads are off" line', await page.isHidden('#why'));

  await trainToDone(page);
  const runs = await records(page);
  t.ok('two runs', runs.length === 2);
  for (const r of runs) {
    t.ok(`${r.label}: ${STEPS} step records, steps 1..${STEPS}`, r.steps.length === STEPS && r.steps.every((s, i) => s.step === i + 1));
    t.ok(`${r.label}: finite losses`, r.steps.every((s) => Number.isFinite(s.loss)));
    t.ok(`${r.label}: evaluations at 0, ${EVAL}, ${STEPS}`, r.evals.map((e) => e.step).join() === `0,${EVAL},${STEPS}`, r.evals.map((e) => e.step).join());
    t.ok(`${r.label}: Spearman in [-100, 100] on 1500 pairs`, r.evals.every((e) => Math.abs(e.spearman) <= 100 && e.pairs === 1500));
  }
  const status = await page.textContent('#status');
  t.ok('the status line names the build and 2 threads', /threads \+ SIMD/.test(status) && /2 threads/.test(status), status);
  t.ok('the status line says what its speeds measure (ms per objective step, steps/s for all objectives)',
    /ms per objective step/.test(status) && /steps\/s for all objectives with evaluation/.test(status), status);
  await page.click('#reset');
  const afterReset = await page.textContent('#status');
  t.ok('Reset clears the speeds from the status line', !/ms per|steps\/s/.test(afterReset), afterReset);

  // Start with another thread count: the engine restarts. Record what the page says while it does.
  const restartWith = async (threads) => {
    await page.fill('[name="threads"]', String(threads));
    const seen = await page.evaluate(() => new Promise((resolve) => {
      const s = window.dissipate.session;
      s.on('state', (state) => {
        if (state === 'loading' && s.restarting) resolve({ why: document.getElementById('start-why').textContent, status: document.getElementById('status').textContent });
      });
      document.getElementById('start').click();
    }));
    await page.waitForFunction(() => ['done', 'error'].includes(window.dissipate.state), null, { timeout: 300000 });
    return { ...seen, threads: await page.evaluate(() => window.dissipate.info.threads) };
  };
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const one = await restartWith(1);
  t.ok('threads 1: "Restarting the engine with 1 thread", and 1 is used', /Restarting the engine with 1 thread\b/.test(one.why) && one.threads === 1, JSON.stringify(one));
  t.ok('while restarting, the status line says so, without the last run\'s speed or "downloading"',
    /restarting/i.test(one.status) && !/ms per|steps\/s|downloading/.test(one.status), one.status);
  const many = await restartWith(16);
  const used = Math.min(16, cores);
  t.ok(`threads 16 on ${cores} cores: the message names the ${used} threads used`, new RegExp(`Restarting the engine with ${used} threads`).test(many.why) && many.threads === used,
    JSON.stringify(many));
  t.ok('no console errors', problems.length === 0, problems.join('\n'));
});
