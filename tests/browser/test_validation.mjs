// test_validation.mjs — a bad value typed in a control is refused with a visible message next to it, Start is
// disabled while anything is invalid, the URL keeps the last valid configuration, and fixing the value re-enables
// Start. Copy link refuses a configuration the page refuses. At phone width a long value's message stays in its
// field and quotes the value shortened, and the notices box does not widen the page.

import { browserTest, openLab, smallConfigHash, watchPage, waitFor } from './lib.mjs';


const CASES = [
  { name: 'r0-tau', label: 'τ = 0', bad: '0', good: '0.05', msg: /> 0/ },
  { name: 'batch', label: 'batch 1', bad: '1', good: '16', msg: /≥ 2/ },
  { name: 'lr', label: 'learning rate "abc"', bad: 'abc', good: '1e-4', msg: /not a number/ },
  { name: 'steps', label: 'steps 0', bad: '0', good: '8', msg: /≥ 1/ },
  { name: 'seed', label: 'seed -1', bad: '-1', good: '7', msg: /must be ≥ 0/ },
  { name: 'r1-lambda', label: 'λ = 2', bad: '2', good: '0.5', msg: /≤ 1/ },
  { name: 'evalEvery', label: 'evaluate every 1000 > steps', bad: '1000', good: '4', msg: /≤ steps/ },
];

await browserTest('validation', { isolation: true }, async (t, { server, browser, cleanup }) => {
  const { page, problems } = await openLab(browser.context, `${server.url}index.html${smallConfigHash()}`);
  t.ok('Start is enabled with a valid configuration and loaded assets', await page.isEnabled('#start'));
  const validHash = await page.evaluate(() => location.hash);
  for (const c of CASES) {
    const input = `[name="${c.name}"]`;
    await page.fill(input, c.bad);
    const state = await page.evaluate((sel) => {
      const el = document.querySelector(sel);
      const field = el.closest('.field');
      const msg = field.querySelector('.msg');
      const r = msg.getBoundingClientRect();
      return { invalid: el.getAttribute('aria-invalid'), msg: msg.textContent, visible: r.width > 0 && r.height > 0,
               describedBy: (el.getAttribute('aria-describedby') || '').split(' ').includes(msg.id), hash: location.hash,
               why: document.getElementById('start-why').textContent };
    }, input);
    t.ok(`${c.label}: a visible message next to the control`, state.visible && c.msg.test(state.msg), JSON.stringify(state));
    t.ok(`${c.label}: marked aria-invalid and described by the message`, state.invalid === 'true' && state.describedBy);
    t.ok(`${c.label}: Start is disabled, with a reason`, (await page.isDisabled('#start')) && /fix/i.test(state.why), state.why);
    t.ok(`${c.label}: the URL keeps the last valid configuration`, state.hash === validHash || !state.hash.includes(`=${encodeURIComponent(c.bad)}&`), state.hash);
    await page.fill(input, c.good);
    const fixed = await page.evaluate((sel) => document.querySelector(sel).closest('.field').querySelector('.msg').textContent, input);
    t.ok(`${c.label}: fixing it clears the message and enables Start`, fixed === '' && (await page.isEnabled('#start')), fixed);
  }
  // two bad values at once: fixing one is not enough
  await page.fill('[name="lr"]', 'x');
  await page.fill('[name="batch"]', '1');
  await page.fill('[name="lr"]', '1e-4');
  t.ok('with one of two bad values fixed, Start stays disabled', await page.isDisabled('#start'));
  await page.fill('[name="batch"]', '16');
  t.ok('with both fixed, Start is enabled', await page.isEnabled('#start'));
  // Copy link while a value is refused: no link of the refused configuration, the reason instead
  await page.evaluate(() => { window.copied = []; navigator.clipboard.writeText = async (text) => { window.copied.push(text); }; });
  await page.fill('[name="seed"]', '-1');
  await page.fill('[name="lr"]', '0');
  await page.click('#copy-link');
  const refused = await page.evaluate(() => ({ copied: window.copied.slice(), why: document.getElementById('start-why').textContent }));
  t.ok('Copy link with invalid values copies nothing and says why', refused.copied.length === 0 && !/link copied/i.test(refused.why) && /fix/i.test(refused.why), JSON.stringify(refused));
  await page.fill('[name="seed"]', '7');
  await page.fill('[name="lr"]', '1e-4');
  await page.click('#copy-link');
  const copied = await page.evaluate(() => ({ copied: window.copied.slice(), why: document.getElementById('start-why').textContent }));
  t.ok('Copy link with valid values copies the link', copied.copied.length === 1 && /[#&]seed=7&/.test(copied.copied[0]) && /link copied/i.test(copied.why), JSON.stringify(copied));

  // keyboard: the controls are reachable with Tab and have labels
  const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => !el.labels?.length && !el.getAttribute('aria-label')).map((el) => el.name || el.id));
  t.ok('every control has a label', unlabeled.length === 0, unlabeled.join());
  // Keyboard only: Tab reaches Start, and Enter on it starts training.
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  let reached = false;
  for (let i = 0; i < 80 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.id === 'start');
  }
  t.ok('Tab reaches the Start button', reached);
  if (reached) {
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => ['training', 'done'].includes(window.dissipate.state), null, { timeout: 30000 }).catch(() => {});
    t.ok('Enter on Start starts training', ['training', 'done'].includes(await page.evaluate(() => window.dissipate.state)));
    await page.evaluate(() => window.dissipate.session.pause());
  }
  t.ok('no console errors', problems.length === 0, problems.join('\n'));

  // At 375 px: a 150-character value in a link and typed into seed
  const long = '9'.repeat(150);
  const phone = await browser.context.newPage();
  const phoneProblems = watchPage(phone);
  await phone.setViewportSize({ width: 375, height: 800 });
  await phone.goto(`${server.url}index.html${smallConfigHash()}&lr=${'a'.repeat(150)}`);
  await waitFor(phone, () => window.dissipate && window.dissipate.form, null, { what: 'the form' });
  await phone.fill('[name="seed"]', long);
  const fit = await phone.evaluate(() => {
    const msg = document.querySelector('[name="seed"]').closest('.field').querySelector('.msg');
    const field = msg.closest('.field').getBoundingClientRect(), m = msg.getBoundingClientRect();
    const box = document.getElementById('notices').getBoundingClientRect();
    return { page: document.documentElement.scrollWidth, msgRight: m.right, fieldRight: field.right, noticesRight: box.right,
             msg: msg.textContent, notice: document.getElementById('notices').textContent };
  });
  t.ok('at 375 px the page does not widen (a long value in a link and in a field)', fit.page <= 375, JSON.stringify(fit));
  t.ok('at 375 px the seed message stays inside its field', fit.msgRight <= fit.fieldRight + 1, JSON.stringify(fit));
  t.ok('at 375 px the notices box stays on screen', fit.noticesRight <= 375, JSON.stringify(fit));
  t.ok('messages quote a long value shortened', !fit.msg.includes(long.slice(0, 30)) && !fit.notice.includes('a'.repeat(30)) && /lr=a+…/.test(fit.notice) && /…/.test(fit.msg), `${fit.msg} | ${fit.notice}`);
  t.ok('no console errors at 375 px', phoneProblems.length === 0, phoneProblems.join('\n'));
});
