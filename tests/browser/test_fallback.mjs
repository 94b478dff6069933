// test_fallback.mjs — without COOP/COEP headers (serve.mjs --no-isolation) and with the COOP/COEP service worker
// turned off (?coi=0), the page is not cross-origin isolated: it falls back to the single-thread SIMD build, says
// why threads are off, and still trains to the end without console errors.

import { browserTest, openLab, trainToDone, records, smallConfigHash } from './lib.mjs';

const STEPS = 6, EVAL = 3;

await browserTest('fallback', { isolation: false }, async (t, { server, browser, cleanup }) => {
  const { page, problems } = await openLab(browser.context, `${server.url}index.html?coi=0${smallConfigHash({ steps: STEPS, evalEvery: EVAL, threads: 2 })}`);
  const env = await page.evaluate(async () => ({
    coi: self.crossOriginIsolated, sab: typeof SharedArrayBuffer, info: window.dissipate.info,
    sw: navigator.serviceWorker ? (await navigator.serviceWorker.getRegistrations()).length : 0,
  }));
  t.ok('the page is not cross-origin isolated', env.coi === false);
  t.ok('no service worker registered (?coi=0)', env.sw === 0);
  t.ok('the lab chose the single-simd build', env.info.variant === 'single-simd', JSON.stringify(env.info));
  t.ok('the lab runs 1 thread', env.info.threads === 1);
  t.ok('the lab gives a reason', typeof env.info.reason === 'string' && env.info.reason.length > 10, env.info.reason);
  const why = await page.textContent('#why');
  t.ok('the page says why threads are off', (await page.isVisible('#why')) && /isolat|SharedArrayBuffer/i.test(why), why);
  t.ok('the page says that its ?coi=0 turned the service worker off', /\?coi=0/.test(why) && /service worker/.test(why), why);
  const status = await page.textContent('#status');
  t.ok('the status line names the single-thread build', /single-thread SIMD/.test(status) && /1 thread\b/.test(status), status);

  await trainToDone(page);
  const runs = await records(page);
  t.ok('two runs trained every step', runs.length === 2 && runs.every((r) => r.steps.length === STEPS));
  t.ok('each run evaluated at 0, 3, 6', runs.every((r) => r.evals.map((e) => e.step).join() === '0,3,6'));
  t.ok('losses are finite', runs.every((r) => r.steps.every((s) => Number.isFinite(s.loss))));
  t.ok('no console errors', problems.length === 0, problems.join('\n'));
});
