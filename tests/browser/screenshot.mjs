// screenshot.mjs — a developer's tool, not a test: serves the site, opens a page in headless Chromium, optionally
// starts training and waits, and saves a PNG, to look at the layout.
//   node tests/browser/screenshot.mjs --page 'index.html?fake=1' --out /tmp/page.png [--width 1280] [--train 1]
//        [--wait 3000] [--full 1] [--no-isolation 1] [--site DIR]

import { parseArgs, requirePrerequisites, startServer, launchBrowser, watchPage } from './lib.mjs';

const opts = parseArgs();
const pw = await requirePrerequisites(opts);
const server = await startServer(opts.site, { isolation: !opts.noIsolation });
const { context, close } = await launchBrowser(pw, opts, { viewport: { width: Number(opts.width || 1280), height: Number(opts.height || 900) } });
try {
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(server.url + (opts.page || 'index.html?fake=1'));
  await page.waitForFunction(() => window.dissipate && window.dissipate.ready, null, { timeout: 60000 }).catch(() => {});
  if (opts.train) {
    await page.click('#start');
    await page.waitForFunction(() => ['done', 'error'].includes(window.dissipate.state), null, { timeout: 600000 });
  }
  if (opts.scroll) await page.evaluate((y) => window.scrollTo(0, Number(y)), opts.scroll);
  await page.waitForTimeout(Number(opts.wait || 800));
  await page.screenshot({ path: opts.out || '/tmp/page.png', fullPage: opts.full === '1' });
  console.log(`saved ${opts.out || '/tmp/page.png'}; state ${await page.evaluate(() => window.dissipate && window.dissipate.state)}`);
  if (problems.length) console.log(`problems:\n  ${problems.join('\n  ')}`);
} finally {
  await close();
  server.close();
}
