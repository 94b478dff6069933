// test_url.mjs — the URL holds the whole configuration: a link with settings → the controls show them → the URL
// generated from the controls equals it; changing a control updates the URL (a value typed with surrounding spaces
// goes in trimmed); invalid values in a link fall back to their defaults with a visible notice. A link with the
// configuration in the query moves it to the fragment (later loads say nothing); a query overruled by a fragment is
// not called invalid. The warning that the address changed during training goes away on Reset and on Start.

import { browserTest, watchPage, waitFor, openLab, smallConfigHash } from './lib.mjs';


// Every value differs from its default, and the per-run settings of three objectives are all there.
const CANON = 'r1=dclp&r1.tau=0.1&r2=au&r2.lambda=0.7&r2.alpha=2&r2.t=6&r3=mat&r3.margin=0.2&r3.perAnchor=1' +
  '&opt=sgd&mom=0.8&lr=3e-3&batch=32&steps=120&eval=10&seed=1234&threads=1&maxlen=40&pool=cls';

async function open(context, url) {
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(url);
  await waitFor(page, () => window.dissipate && window.dissipate.form, null, { what: 'the form' });
  return { page, problems };
}

await browserTest('url', { isolation: true }, async (t, { server, browser, cleanup }) => {

  // 1. a link with settings
  const { page, problems } = await open(browser.context, `${server.url}index.html#${CANON}`);
  const shown = await page.evaluate(() => {
    const v = (sel) => document.querySelector(sel)?.value;
    return {
      objectives: [...document.querySelectorAll('.run-head select')].map((s) => s.value),
      tau: v('[name="r0-tau"]'), lambda: v('[name="r1-lambda"]'), t: v('[name="r1-t"]'), margin: v('[name="r2-margin"]'),
      perAnchor: v('[name="r2-perAnchor"]'), opt: v('[name="optimizer"]'), mom: v('[name="momentum"]'), lr: v('[name="lr"]'),
      batch: v('[name="batch"]'), steps: v('[name="steps"]'), eval: v('[name="evalEvery"]'), seed: v('[name="seed"]'),
      threads: v('[name="threads"]'), maxlen: v('[name="maxLen"]'), pool: v('[name="pooler"]'),
      notices: !document.getElementById('notices').hidden,
    };
  });
  t.ok('the controls show the three objectives', shown.objectives.join() === 'dclp,au,mat', shown.objectives.join());
  t.ok('the controls show the per-run settings', shown.tau === '0.1' && shown.lambda === '0.7' && shown.t === '6' && shown.margin === '0.2' && shown.perAnchor === '1', JSON.stringify(shown));
  t.ok('the controls show the training settings', shown.opt === 'sgd' && shown.mom === '0.8' && shown.lr === '3e-3' && shown.batch === '32' &&
    shown.steps === '120' && shown.eval === '10' && shown.seed === '1234' && shown.threads === '1' && shown.maxlen === '40' && shown.pool === 'cls', JSON.stringify(shown));
  t.ok('no notice for a valid link', !shown.notices);
  const generated = await page.evaluate(async () => (await import('./js/config.mjs')).toUrlParams(window.dissipate.form.getConfig()));
  t.ok('the URL generated from the controls equals the link', generated === CANON, generated);
  t.ok('the address bar still holds the link', (await page.evaluate(() => location.hash)) === `#${CANON}`);

  // 2. editing a control updates the URL (keyboard, as a reader would)
  await page.fill('[name="seed"]', '');
  await page.type('[name="seed"]', '99');
  // surrounding spaces are not part of a value: the link holds 3e-5, not %203e-5%20 (which a reader could not read)
  await page.fill('[name="lr"]', '');
  await page.type('[name="lr"]', ' 3e-5 ');
  await page.selectOption('select[name="r2"]', 'met');
  const hash = await page.evaluate(() => location.hash);
  t.ok('typing a seed updates the URL', /[#&]seed=99(&|$)/.test(hash), hash);
  t.ok('a value typed with surrounding spaces goes into the URL trimmed', /[#&]lr=3e-5(&|$)/.test(hash), hash);
  t.ok('choosing another objective updates the URL with its defaults', /&r2=met&r2\.margin=0\.44&r2\.perAnchor=0&/.test(hash), hash);
  // a fresh page from the updated URL shows the same configuration
  const { page: again } = await open(browser.context, `${server.url}index.html${hash}`);
  const regenerated = await again.evaluate(async () => (await import('./js/config.mjs')).toUrlParams(window.dissipate.form.getConfig()));
  t.ok('the updated link reproduces the configuration', `#${regenerated}` === hash, `${regenerated} vs ${hash}`);

  // 3. invalid values in a link
  const notices = (p) => p.evaluate(() => (document.getElementById('notices').hidden ? '' : document.getElementById('notices').textContent));
  const { page: bad, problems: badProblems } = await open(browser.context, `${server.url}index.html#r1=infonce&r1.tau=0&r2=au&lr=abc&batch=1&steps=50&bogus=1`);
  const after = await bad.evaluate(() => ({
    tau: document.querySelector('[name="r0-tau"]').value, lr: document.querySelector('[name="lr"]').value,
    batch: document.querySelector('[name="batch"]').value, steps: document.querySelector('[name="steps"]').value,
    notice: document.getElementById('notices').hidden ? '' : document.getElementById('notices').textContent, hash: location.hash,
  }));
  t.ok('invalid values fall back to defaults', after.tau === '0.05' && after.lr === '1e-4' && after.batch === '32', JSON.stringify(after));
  t.ok('valid values beside them are kept', after.steps === '50');
  t.ok('a visible notice names each refused setting', /tau/.test(after.notice) && /lr=abc/.test(after.notice) && /batch=1/.test(after.notice) && /bogus/.test(after.notice), after.notice);
  // (audit finding 4) the unknown key is under a heading that says it was ignored, not that it fell back to a default
  const kinds = await bad.evaluate(() => [...document.querySelectorAll('#notices p')].map((p) => ({ head: p.textContent, items: p.nextElementSibling?.textContent || '' })));
  const fellBack = kinds.find((k) => /not valid/.test(k.head)), ignoredKind = kinds.find((k) => /ignored/.test(k.head));
  t.ok('the notice lists bad values as fallen back and the unknown key as ignored, apart',
    fellBack && /lr=abc/.test(fellBack.items) && !/bogus/.test(fellBack.items) && ignoredKind && /bogus/.test(ignoredKind.items), JSON.stringify(kinds));
  const { page: unknownOnly, problems: uoProblems } = await open(browser.context, `${server.url}index.html?r1=au&r2=dcl&steps=40&zzz=1`);
  const zzz = await notices(unknownOnly);
  t.ok('a link whose only problem is an unknown key does not say "not valid" or "fell back"', /zzz/.test(zzz) && /ignored/.test(zzz) && !/not valid|fell back/.test(zzz), zzz);
  t.ok('the address bar is rewritten to the valid configuration', !/abc|bogus|tau=0(&|$)/.test(after.hash) && /lr=1e-4/.test(after.hash), after.hash);

  // 4. the configuration in the query: it moves to the fragment, the page's own flags stay in the query
  const { page: q, problems: qProblems } = await open(browser.context, `${server.url}index.html?fake=1&r1=au&r2=dcl&steps=40&lr=2e-4`);
  const fromQuery = await q.evaluate(() => ({ search: location.search, hash: location.hash, cfg: window.dissipate.form.getConfig() }));
  t.ok('a query link: the controls show its configuration', fromQuery.cfg.runs.map((r) => r.objective).join() === 'au,dcl' && fromQuery.cfg.steps === '40' && fromQuery.cfg.lr === '2e-4', JSON.stringify(fromQuery.cfg));
  t.ok('a query link: no notice', (await notices(q)) === '', await notices(q));
  t.ok('a query link: the address keeps only the page flags in the query, the configuration in the fragment',
    fromQuery.search === '?fake=1' && /^#r1=au&.*r2=dcl&.*steps=40&.*/.test(fromQuery.hash) && /lr=2e-4/.test(fromQuery.hash), `${fromQuery.search} ${fromQuery.hash}`);
  await q.reload();
  await waitFor(q, () => window.dissipate && window.dissipate.form, null, { what: 'the form after a reload' });
  const reloaded = await q.evaluate(() => ({ search: location.search, objectives: window.dissipate.form.getConfig().runs.map((r) => r.objective).join() }));
  t.ok('a query link, reloaded: the same configuration and no notice', reloaded.objectives === 'au,dcl' && reloaded.search === '?fake=1' && (await notices(q)) === '',
    `${JSON.stringify(reloaded)} ${await notices(q)}`);
  // a query overruled by the fragment: said once, not as an invalid setting, and dropped from the address
  const { page: both, problems: bothProblems } = await open(browser.context, `${server.url}index.html?steps=40#r1=au&r2=dcl&steps=50`);
  const overruled = { notice: await notices(both), search: await both.evaluate(() => location.search), steps: await both.evaluate(() => window.dissipate.form.getConfig().steps) };
  t.ok('query and fragment: the fragment wins, and the notice says the query was ignored without calling it invalid',
    overruled.steps === '50' && /query/.test(overruled.notice) && !/not valid/.test(overruled.notice), JSON.stringify(overruled));
  t.ok('query and fragment: the query settings leave the address', overruled.search === '', overruled.search);

  // 5. the address changed during training: the warning stays through the run, and goes on Reset and on Start
  const { page: lab, problems: labProblems } = await openLab(browser.context, `${server.url}index.html${smallConfigHash({ steps: 8, evalEvery: 4 })}`);
  const errorBox = () => lab.evaluate(() => (document.getElementById('errors').hidden ? '' : document.getElementById('errors').textContent));
  const startPauseAndChangeAddress = async () => {
    await lab.click('#start');
    await waitFor(lab, () => window.dissipate.state === 'training' && window.dissipate.session.stepsDone >= 1, null, { what: 'training to start' });
    await lab.click('#pause');
    await lab.evaluate(() => { location.hash = '#r1=dcl&r2=au'; });
    await waitFor(lab, () => !document.getElementById('errors').hidden, null, { timeout: 5000, what: 'the address warning' });
  };
  await startPauseAndChangeAddress();
  t.ok('changing the address during training warns', /address changed/.test(await errorBox()), await errorBox());
  await lab.click('#reset');
  t.ok('Reset clears the warning', (await errorBox()) === '', await errorBox());
  await startPauseAndChangeAddress();
  await lab.click('#pause'); // resume
  await waitFor(lab, () => window.dissipate.state === 'done', null, { timeout: 120000, what: 'training to finish' });
  t.ok('the warning stays until the reader acts', /address changed/.test(await errorBox()), await errorBox());
  await lab.click('#start');
  t.ok('Start clears the warning', (await errorBox()) === '', await errorBox());
  await lab.evaluate(() => window.dissipate.session.pause());

  // 6. (audit finding 1) after a run, other settings in the address or the form: the charts and exports keep the run
  // they hold, and a note beside the charts says so, with a link to that run's own settings; back to those, it goes.
  const RUN = smallConfigHash({ steps: 4, evalEvery: 2 });
  const { page: done, problems: doneProblems } = await openLab(browser.context, `${server.url}index.html${RUN}`);
  const note = () => done.evaluate(() => {
    const n = document.getElementById('shown-run');
    return { shown: !n.hidden, text: n.textContent.replace(/\s+/g, ' '), link: new URL(document.getElementById('shown-run-link').href).hash };
  });
  await done.click('#start');
  await waitFor(done, () => window.dissipate.state === 'done', null, { timeout: 120000, what: 'the short run to finish' });
  t.ok('after a run, with the form unchanged, no note', !(await note()).shown, JSON.stringify(await note()));
  const runHash = await done.evaluate(async () => `#${(await import('./js/config.mjs')).toUrlParams(window.dissipate.session.config)}`);
  await done.evaluate(() => { location.hash = '#r1=dcl&r2=mpt&steps=300'; });
  await waitFor(done, () => !document.getElementById('shown-run').hidden, null, { timeout: 5000, what: 'the note that the charts show the last run' });
  const moved = { note: await note(), legend: await done.evaluate(() => window.dissipate.charts.charts.stsb.data.datasets.filter((d) => d.dspLegend).map((d) => d.label).join()),
    exported: await done.evaluate(() => window.dissipate.session.meta().url), form: await done.evaluate(() => window.dissipate.form.getConfig().runs.map((r) => r.objective).join()) };
  t.ok('new settings in the address after a run: the form takes them, the charts keep the run', moved.form === 'dcl,mpt' && moved.legend === 'infonce,au', JSON.stringify(moved));
  t.ok('a note beside the charts says they show the last run and what Start trains', moved.note.shown && /last run/.test(moved.note.text) && /Start trains/.test(moved.note.text), moved.note.text);
  t.ok('the note links to the settings of the run shown, which the exports describe too', moved.note.link === runHash && moved.exported === runHash, `${moved.note.link} / ${moved.exported} / ${runHash}`);
  await done.click('#shown-run-link'); // back to the run's own settings: the note has nothing left to say
  await waitFor(done, () => document.getElementById('shown-run').hidden, null, { timeout: 5000, what: 'the note to go once the form holds the run\'s settings' });
  t.ok('following the link restores the run\'s settings in the form and the address', (await done.evaluate(() => location.hash)) === runHash);
  await done.fill('[name="seed"]', '8'); // an edit by hand counts the same
  t.ok('editing a setting by hand after a run shows the note too', (await note()).shown);
  await done.click('#reset');
  t.ok('Reset clears the charts and the note', !(await note()).shown);

  const all = [...problems, ...badProblems, ...uoProblems, ...qProblems, ...bothProblems, ...labProblems, ...doneProblems];
  t.ok('no console errors', all.length === 0, all.join('\n'));
});
