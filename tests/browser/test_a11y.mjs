// test_a11y.mjs — the page and an embedded figure as a reader on a phone, with a keyboard or with a screen reader
// meets them: no sideways scrolling at 375 px (and 320 px, WCAG's reflow width), a name for every visible control
// (as Chromium's accessibility tree computes it), a live status region that speaks at state changes but not at
// every step, a text alternative for each chart that names the runs and their latest values, Start, Pause and
// Reset by keyboard with the focus kept on a usable button, and no chart animation under prefers-reduced-motion.

import { browserTest, openLab, smallConfigHash, waitFor } from './lib.mjs';

// Every visible input, select, textarea and button of the page, inside figures' shadow roots too, with the name
// Chromium gives it (CDP Accessibility.getPartialAXTree on the element itself).
async function controlNames(page) {
  const cdp = await page.context().newCDPSession(page);
  const count = await page.evaluate(() => {
    const found = [];
    const walk = (root) => {
      for (const e of root.querySelectorAll('input, select, textarea, button')) {
        const r = e.getBoundingClientRect();
        if (r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden') found.push(e);
      }
      for (const e of root.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot);
    };
    walk(document);
    window.a11yControls = found;
    return found.length;
  });
  const out = [];
  for (let i = 0; i < count; i++) {
    const { result } = await cdp.send('Runtime.evaluate', { expression: `window.a11yControls[${i}]` });
    const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { objectId: result.objectId, fetchRelatives: false });
    const what = await page.evaluate((j) => { const e = window.a11yControls[j]; return `${e.tagName.toLowerCase()}#${e.id || e.name || e.className}`; }, i);
    out.push({ what, name: (nodes[0]?.name?.value || '').trim() });
  }
  await cdp.detach();
  return out;
}

// Each chart canvas as the accessibility tree has it: role, name and description.
async function chartAlternatives(page) {
  const cdp = await page.context().newCDPSession(page);
  const { nodes } = await cdp.send('Accessibility.getFullAXTree');
  await cdp.detach();
  const canvases = await page.evaluate(() => {
    let n = 0;
    const walk = (root) => { n += root.querySelectorAll('canvas').length; for (const e of root.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot); };
    walk(document);
    return n;
  });
  const images = nodes.filter((n) => !n.ignored && n.role?.value === 'image')
    .map((n) => ({ name: n.name?.value || '', description: n.description?.value || '' }));
  return { canvases, images };
}

// The page's width against the viewport's at `width` px. Chart.js resizes its canvases from a ResizeObserver, a
// frame or so after the viewport changes: the measure waits for that, as a reader on a phone never sees it.
async function overflow(page, width) {
  await page.setViewportSize({ width, height: 812 });
  await page.waitForTimeout(500);
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
}

await browserTest('a11y', { isolation: true }, async (t, { server, browser }) => {
  const hash = smallConfigHash({ steps: 40, evalEvery: 20 });
  const { page, problems } = await openLab(browser.context, `${server.url}index.html${hash}`);

  // ------------------------------------------------------------ the page's frame
  const frame = await page.evaluate(() => ({
    lang: document.documentElement.lang, h1: document.querySelectorAll('h1').length,
    landmarks: ['header', 'main', 'footer'].filter((s) => document.querySelector(s)),
  }));
  t.ok('the page has lang, one h1 and header/main/footer landmarks', frame.lang === 'en' && frame.h1 === 1 && frame.landmarks.length === 3, JSON.stringify(frame));

  // ------------------------------------------------------------ phone widths, before training
  for (const width of [375, 320]) {
    const o = await overflow(page, width);
    t.ok(`at ${width} px the page does not scroll sideways (before training)`, o.scrollWidth <= o.clientWidth, JSON.stringify(o));
  }

  // ------------------------------------------------------------ keyboard: Tab to Start, Enter, Space, Reset
  await page.setViewportSize({ width: 375, height: 812 });
  await page.evaluate(() => {
    // every text change of a live region (aria-live, role status/alert/log), to count what a screen reader hears
    window.a11yHeard = [];
    window.a11yStatusLine = 0;
    const live = (n) => n?.closest?.('[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"], [role="log"]');
    new MutationObserver((list) => {
      const regions = new Set();
      for (const m of list) {
        const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
        if (el?.closest('#status')) window.a11yStatusLine++;
        const r = live(el);
        if (r && !r.hidden) regions.add(r);
      }
      for (const r of regions) window.a11yHeard.push(`${r.id || r.className}: ${r.textContent.trim()}`);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
    document.activeElement?.blur();
    window.scrollTo(0, 0);
  });
  let reached = false;
  for (let i = 0; i < 80 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.id === 'start');
  }
  t.ok('Tab reaches Start', reached);
  const outline = await page.evaluate(() => { const cs = getComputedStyle(document.activeElement); return `${cs.outlineStyle} ${cs.outlineWidth}`; });
  t.ok('the focused Start button shows a focus outline', /^solid [1-9]/.test(outline), outline);
  await page.keyboard.press('Enter');
  await waitFor(page, () => window.dissipate.state === 'training', null, { what: 'Enter on Start to start training' });
  const focus = () => page.evaluate(() => { const e = document.activeElement; return { id: e?.id || e?.tagName, disabled: !!e?.disabled, state: window.dissipate.state }; });
  let f = await focus();
  t.ok('Enter on Start trains, and the focus moves to an enabled button (not the page body)', f.id === 'pause' && !f.disabled, JSON.stringify(f));
  if (f.id !== 'pause') await page.focus('#pause'); // (where a Tab from the body would go: the checks go on)
  await waitFor(page, () => window.dissipate.session.stepsDone >= 2, null, { what: 'two steps' });
  await page.keyboard.press('Space');
  await waitFor(page, () => window.dissipate.state === 'paused', null, { what: 'Space on Pause to pause', timeout: 10000 });
  t.ok('Space on Pause pauses', true);
  await page.keyboard.press('Space');
  await waitFor(page, () => window.dissipate.state === 'training', null, { what: 'Space on Resume to resume', timeout: 10000 });
  t.ok('Space on Resume resumes', true);
  await waitFor(page, () => window.dissipate.state === 'done', null, { timeout: 300000, what: 'training to finish' });
  const heard = await page.evaluate(() => ({ heard: window.a11yHeard.slice(), statusLine: window.a11yStatusLine }));
  // ------------------------------------------------------------ screen readers: the status region
  const liveStatus = await page.evaluate(() => [...document.querySelectorAll('.statusbar [role="status"], .statusbar[aria-live], .statusbar [aria-live]')]
    .map((e) => e.textContent.trim()));
  t.ok('the status bar has a live region that says training ended', liveStatus.some((s) => /ended|done/i.test(s)), JSON.stringify(liveStatus));
  t.ok('live regions speak at state changes, not at every status redraw (at most 8 announcements while the status line changed more often)',
    heard.heard.length <= 8 && heard.statusLine > heard.heard.length, `${heard.statusLine} status-line changes; heard ${heard.heard.length}: ${heard.heard.slice(0, 12).join(' | ')}`);

  // ------------------------------------------------------------ charts: a text alternative with the runs' values
  await page.evaluate(() => window.dissipate.charts.flush());
  const charts = await chartAlternatives(page);
  t.ok('each chart canvas is an image in the accessibility tree, with a name', charts.canvases === 6 && charts.images.length === 6 && charts.images.every((i) => i.name),
    JSON.stringify(charts));
  t.ok('each chart\'s text alternative names both runs and gives a value', charts.images.every((i) => /infonce/.test(i.description) && /\bau\b/.test(i.description) && /\d/.test(i.description)),
    JSON.stringify(charts.images.map((i) => i.description)));

  // ------------------------------------------------------------ names, and phone widths after training
  const names = await controlNames(page);
  const nameless = names.filter((n) => !n.name).map((n) => n.what);
  t.ok(`every visible control of the page has an accessible name (${names.length} controls)`, names.length > 20 && !nameless.length, nameless.join());
  for (const width of [375, 320]) {
    const o = await overflow(page, width);
    t.ok(`at ${width} px the page does not scroll sideways (after training)`, o.scrollWidth <= o.clientWidth, JSON.stringify(o));
  }

  // Reset by keyboard: the focus comes back to Start
  await page.focus('#reset');
  await page.keyboard.press('Enter');
  await waitFor(page, () => window.dissipate.state === 'ready', null, { what: 'Enter on Reset to reset', timeout: 10000 });
  f = await focus();
  t.ok('Enter on Reset resets, and the focus moves to Start', f.id === 'start' && !f.disabled, JSON.stringify(f));

  // Removing an objective by keyboard (audit finding 2): the form is rebuilt, and the focus must not fall to the
  // body. Four runs; Enter on "Remove objective 2" → the focus is on the remove button of the run now second; Enter
  // on the last run's → two runs are left, whose remove buttons are disabled: "+ Add an objective" gets it.
  await page.click('.add-run');
  await page.click('.add-run');
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return { tag: e.tagName, cls: e.className, label: e.getAttribute('aria-label') || e.textContent.slice(0, 40), disabled: e.disabled,
      runs: document.querySelectorAll('#config .run').length };
  });
  await page.focus('[aria-label="Remove objective 2"]');
  await page.keyboard.press('Enter');
  const afterMiddle = await focused();
  t.ok('Enter on "Remove objective 2" of 4: the focus moves to the next run\'s remove button, now objective 2',
    afterMiddle.runs === 3 && afterMiddle.tag === 'BUTTON' && afterMiddle.label === 'Remove objective 2' && !afterMiddle.disabled, JSON.stringify(afterMiddle));
  await page.focus('[aria-label="Remove objective 3"]');
  await page.keyboard.press('Enter');
  const afterLast = await focused();
  t.ok('Enter on the last run\'s remove button, leaving the minimum: the focus moves to "+ Add an objective"',
    afterLast.runs === 2 && afterLast.tag === 'BUTTON' && afterLast.cls === 'add-run' && !afterLast.disabled, JSON.stringify(afterLast));
  t.ok('no console errors', problems.length === 0, problems.join('\n'));
  await page.close();

  // ------------------------------------------------------------ the embedded figure at 375 px
  const post = await browser.context.newPage();
  await post.setViewportSize({ width: 375, height: 812 });
  await post.goto(`${server.url}example-post.html`);
  await waitFor(post, () => window.dissipateFigures?.[0]?.charts, null, { what: 'figure 1 to draw its charts' });
  const o = await overflow(post, 375);
  t.ok('example-post at 375 px does not scroll sideways', o.scrollWidth <= o.clientWidth, JSON.stringify(o));
  const figNames = await controlNames(post);
  t.ok(`every visible control of the embedded figure has an accessible name (${figNames.length})`, figNames.length >= 3 && figNames.every((n) => n.name),
    figNames.filter((n) => !n.name).map((n) => n.what).join());
  const fig = await post.evaluate(() => {
    const r = window.dissipateFigures[0].shadowRoot;
    return { live: [...r.querySelectorAll('[role="status"], [aria-live]:not([aria-live="off"])')].map((e) => e.className),
             caption: document.querySelector('#fig-story').closest('figure')?.querySelector('figcaption')?.textContent.slice(0, 9) };
  });
  t.ok('the figure has a live status region', fig.live.length >= 1, JSON.stringify(fig));
  // While it trains (it starts on its own in view), its live regions stay quiet between state changes.
  await waitFor(post, () => window.dissipateFigures[0].session?.state === 'training', null, { timeout: 180000, what: 'figure 1 to train' });
  const figHeard = await post.evaluate(async () => {
    const fig = window.dissipateFigures[0], root = fig.shadowRoot, from = fig.session.stepsDone;
    const heard = [];
    let status = 0;
    new MutationObserver((list) => {
      for (const m of list) {
        const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
        if (el?.closest('.status')) status++;
        if (el?.closest('[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"]')) heard.push(el.textContent);
      }
    }).observe(root, { subtree: true, childList: true, characterData: true });
    const t0 = performance.now();
    while (fig.session.stepsDone < from + 10 && performance.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 200));
    return { steps: fig.session.stepsDone - from, status, heard };
  });
  t.ok('the figure\'s live regions stay quiet while it trains (its status line redraws)', figHeard.status >= 2 && figHeard.heard.length <= 1, JSON.stringify(figHeard).slice(0, 600));
  t.ok('figure 1 and its caption are one <figure>', fig.caption === 'Figure 1.', JSON.stringify(fig));
  const figCharts = await chartAlternatives(post);
  t.ok('the figure\'s charts have names and text alternatives that name the runs', figCharts.canvases === 2 && figCharts.images.length === 2
    && figCharts.images.every((i) => i.name && /infonce/.test(i.description)), JSON.stringify(figCharts));
  await post.close();

  // ------------------------------------------------------------ prefers-reduced-motion: no chart animates
  const calm = await browser.context.newPage();
  await calm.emulateMedia({ reducedMotion: 'reduce' });
  await calm.goto(`${server.url}index.html${hash}`);
  await waitFor(calm, () => window.dissipate?.charts && window.Chart, null, { what: 'the charts' });
  const motion = await calm.evaluate(() => {
    const charts = Object.values(window.dissipate.charts.charts);
    for (const c of charts) c.update(); // the default mode, which animates unless animation is off
    return { reduce: matchMedia('(prefers-reduced-motion: reduce)').matches, charts: charts.length,
             animated: charts.filter((c) => c.options.animation !== false || window.Chart.animator.running(c)).map((c) => c.canvas.getAttribute('aria-label')),
             css: document.getAnimations().length };
  });
  t.ok('with prefers-reduced-motion, no chart animates and no CSS animation runs', motion.reduce && motion.charts === 6 && !motion.animated.length && !motion.css, JSON.stringify(motion));
  await calm.close();
});
