// test_coi_sw.mjs — on a host that sends no COOP/COEP headers (serve.mjs --no-isolation), coi-serviceworker makes
// the page cross-origin isolated after one reload, so the threads + SIMD build still runs (the GitHub Pages case).

import { browserTest, watchPage, waitFor, trainToDone, smallConfigHash } from './lib.mjs';


await browserTest('coi_serviceworker', { isolation: false }, async (t, { server, browser, cleanup }) => {
  const page = await browser.context.newPage();
  const problems = watchPage(page);
  let loads = 0; // navigations of the main frame (a reload may come before the first 'load' event)
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) loads++; });
  await page.goto(`${server.url}index.html${smallConfigHash({ steps: 4, evalEvery: 2 })}`);
  // The service worker registers, the page reloads itself, and the second load is isolated.
  const deadline = Date.now() + 60000;
  let isolated = false;
  while (Date.now() < deadline && !isolated) {
    isolated = await page.evaluate(() => self.crossOriginIsolated === true && !!window.dissipate).catch(() => false);
    if (!isolated) await page.waitForTimeout(250);
  }
  t.ok('the page became cross-origin isolated through the service worker', isolated);
  t.ok('it reloaded itself (at most twice)', loads >= 2 && loads <= 3, `${loads} loads`);
  t.ok('the URL (configuration) survived the reload', (await page.evaluate(() => location.hash)).includes('steps=4'));
  await waitFor(page, () => window.dissipate && (window.dissipate.ready || window.dissipate.state === 'error'), null, { timeout: 120000, what: 'assets' });
  const info = await page.evaluate(() => window.dissipate.info);
  t.ok('the threads-simd build runs', info && info.variant === 'threads-simd', JSON.stringify(info));
  await trainToDone(page);
  t.ok('training finished', (await page.evaluate(() => window.dissipate.state)) === 'done');
  const real = problems.filter((p) => !/ERR_ABORTED|net::ERR_FAILED/.test(p));
  t.ok('no console errors', real.length === 0, real.join('\n'));
});
