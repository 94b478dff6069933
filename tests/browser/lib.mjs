// lib.mjs — shared harness of the browser tests: serve the built site with tools/serve.mjs, drive headless
// Chromium through playwright-core (no browser download: the system's /usr/bin/chromium), collect console
// errors, count checks and end with "N passed, N failed" and a non-zero exit on any failure.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** --site DIR, --native BIN, --data DIR, --steps N … → { site, native, data, … } (env fallbacks DSP_SITE_DIR, DSP_DATA_DIR). */
export function parseArgs(argv = process.argv.slice(2)) {
  const o = { site: process.env.DSP_SITE_DIR || path.join(REPO, 'site'), data: process.env.DSP_DATA_DIR || path.join(REPO, '../shared/data'),
              chromium: process.env.DSP_CHROMIUM || '/usr/bin/chromium', headful: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--headful') { o.headful = true; continue; }
    if (!a.startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${a} (expected --name value)`);
    o[a.slice(2).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = argv[++i];
  }
  return o;
}

/** Fails loudly (exit 1, never a skip) when the site, chromium or playwright-core is missing. */
export async function requirePrerequisites(opts) {
  const missing = [];
  if (!fs.existsSync(path.join(opts.site, 'manifest.json'))) missing.push(`the built site (${opts.site}/manifest.json): run node tools/build-site.mjs`);
  if (!fs.existsSync(opts.chromium)) missing.push(`chromium at ${opts.chromium} (apt-get install chromium, or set DSP_CHROMIUM)`);
  let pw = null;
  try { pw = await import('playwright-core'); } catch { missing.push('the npm package playwright-core (npm install)'); }
  if (missing.length) {
    console.error(`FAIL: cannot run this browser test, missing: ${missing.join('; ')}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  return pw;
}

/** Starts tools/serve.mjs on a free port. Returns { url, close }. */
export function startServer(root, { isolation = true } = {}) {
  return new Promise((resolve, reject) => {
    const args = [path.join(REPO, 'tools/serve.mjs'), root, '--port', '0', '--quiet'];
    if (!isolation) args.push('--no-isolation');
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`serve.mjs did not start: ${err}`)); }, 10000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/at (http:\/\/[^\s]+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], close: () => child.kill('SIGTERM') });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve.mjs exited (${code}): ${err}`)); });
  });
}

/** Launches headless Chromium with a fresh user-data dir. Returns { context, close, dir } (dir: that folder). */
export async function launchBrowser(pw, opts, contextOptions = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-chromium-'));
  const context = await pw.chromium.launchPersistentContext(dir, {
    executablePath: opts.chromium,
    headless: !opts.headful,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    ...contextOptions,
  });
  return {
    context,
    dir,
    close: async () => { await context.close().catch(() => {}); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

/** Records console errors, uncaught exceptions and failed requests of a page (and of its workers). */
export function watchPage(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => {
    const f = r.failure();
    if (f && !/ERR_ABORTED/.test(f.errorText)) problems.push(`request failed: ${r.url()} ${f.errorText}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  return problems;
}

/** Waits until fn() (evaluated in the page) is truthy; throws with `what` after timeout ms. */
export async function waitFor(page, fn, arg, { timeout = 60000, what = 'condition' } = {}) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch (e) {
    const state = await page.evaluate(() => window.dissipate && { state: window.dissipate.state, error: window.dissipate.session?.error }).catch(() => null);
    throw new Error(`timed out after ${timeout} ms waiting for ${what} (page: ${JSON.stringify(state)})`);
  }
}

/** Counts checks; `summary()` prints "N passed, N failed" and sets the exit code. */
export class Checks {
  constructor(name) { this.name = name; this.passed = 0; this.failed = 0; }
  ok(what, cond, detail = '') {
    if (cond) { this.passed++; console.log(`ok   ${what}`); }
    else { this.failed++; console.log(`FAIL ${what}${detail ? `: ${detail}` : ''}`); }
    return !!cond;
  }
  summary() {
    console.log(`${this.name}: ${this.passed} passed, ${this.failed} failed`);
    process.exitCode = this.failed || !this.passed ? 1 : 0;
  }
}

/** Runs body(checks) and always prints the summary; an exception counts as a failure. */
export async function runTest(name, body) {
  const checks = new Checks(name);
  const cleanups = [];
  try {
    await body(checks, (fn) => cleanups.push(fn));
  } catch (e) {
    checks.ok(`no exception (${e.message.split('\n')[0]})`, false, e.stack);
  } finally {
    for (const fn of cleanups.reverse()) { try { await fn(); } catch { /* best effort */ } }
  }
  checks.summary();
}

/** A small, fast configuration as a URL fragment: two objectives, a few steps. */
export function smallConfigHash({ objectives = ['infonce', 'au'], steps = 8, evalEvery = 4, batch = 16, threads = 2, seed = 7, maxLen = 24 } = {}) {
  const runs = objectives.map((o, i) => `r${i + 1}=${o}`).join('&');
  return `#${runs}&batch=${batch}&steps=${steps}&eval=${evalEvery}&seed=${seed}&threads=${threads}&maxlen=${maxLen}`;
}

/** Opens the lab page and waits until its assets are loaded (state 'ready') or it failed (then throws). */
export async function openLab(context, url, { timeout = 120000 } = {}) {
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(url);
  await waitFor(page, () => window.dissipate && (window.dissipate.ready || window.dissipate.state === 'error'), null,
    { timeout, what: 'the page to download and load its assets' });
  const state = await page.evaluate(() => window.dissipate.state);
  if (state !== 'ready') {
    const err = await page.evaluate(() => window.dissipate.session.error);
    throw new Error(`the page did not become ready: state ${state}: ${err}`);
  }
  return { page, problems };
}

/** Clicks Start and waits for 'done'. Throws on 'error'. */
export async function trainToDone(page, { timeout = 300000 } = {}) {
  await page.click('#start');
  await waitFor(page, () => ['done', 'error'].includes(window.dissipate.state), null, { timeout, what: 'training to finish' });
  const state = await page.evaluate(() => window.dissipate.state);
  if (state !== 'done') throw new Error(`training ended in state ${state}: ${await page.evaluate(() => window.dissipate.session.error)}`);
}

/** The records of every run: [{ label, objective, steps: [...], evals: [...] }]. */
export function records(page) {
  return page.evaluate(() => JSON.parse(JSON.stringify(window.dissipate.records)));
}

/** The frame of a browser test: checks prerequisites, serves the site (with or without isolation headers),
 *  launches Chromium, runs body(checks, { opts, server, browser, cleanup }) and tears everything down. */
export async function browserTest(name, { isolation = true } = {}, body) {
  const opts = parseArgs();
  const pw = await requirePrerequisites(opts);
  await runTest(name, async (t, cleanup) => {
    const server = await startServer(opts.site, { isolation });
    cleanup(server.close);
    const browser = await launchBrowser(pw, opts);
    cleanup(browser.close);
    await body(t, { opts, server, browser, cleanup });
  });
}
