// status.mjs — the words of the status line: which engine build runs, with how many threads, how fast, and why
// threads are off when they are.

const VARIANT_NAMES = { 'threads-simd': 'threads + SIMD build', 'single-simd': 'single-thread SIMD build' };

export function describeEngine(session, fake) {
  const info = session.info;
  if (session.state === 'error') return `Error: ${session.error}`;
  if (!info) return 'Starting the engine…';
  const parts = [`${fake ? 'FAKE LAB (UI only) — ' : ''}Engine: ${VARIANT_NAMES[info.variant] || info.variant}`,
    describeThreads(info, session.askedThreads)];
  // Two different measures, so each says what it counts: the engine time of one objective's step, and how many
  // lockstep steps (every objective, plus the evaluations) the session makes per second of wall time.
  if (Number.isFinite(session.msPerStep) && session.msPerStep > 0)
    parts.push(`${session.msPerStep.toFixed(1)} ms per objective step`);
  if (Number.isFinite(session.stepsPerSecond) && session.stepsPerSecond > 0)
    parts.push(`${session.stepsPerSecond.toFixed(1)} steps/s for all objectives with evaluation`);
  // (a restart for another thread count is 'loading' too, but downloads nothing: the files are in memory)
  const st = session.restarting ? 'restarting the engine'
    : { starting: 'starting', loading: 'downloading', ready: 'ready', training: 'training', paused: 'paused', done: 'done' }[session.state];
  if (st) parts.push(st);
  return parts.join(' · ');
}

/** Tells a screen reader the session's state through `el`, a live region of its own (role="status"): the status
 *  line changes with every redraw while training (step, speeds) and is not live, or it would be read out several
 *  times a second. Call it on each state change; an error is announced by its own alert. */
export function announce(el, session) {
  const said = announcement(session);
  if (said && el.textContent !== said) el.textContent = said;
}

function announcement(session) {
  const of = `step ${session.stepsDone} of ${session.stepsPlanned}`;
  if (session.restarting) return 'Restarting the engine.';
  switch (session.state) {
    case 'loading': return 'Downloading the model and data.';
    case 'ready': return 'Ready to train: press Start.';
    case 'training': return session.stepsDone ? `Resumed at ${of}.` : `Training ${session.stepsPlanned} steps.`;
    case 'paused': return `Paused at ${of}.`;
    case 'done': return `Training ended at ${of}.`;
    default: return '';
  }
}

/** "2 threads", and why when fewer than asked run because the device has fewer cores. */
function describeThreads(info, asked) {
  const text = `${info.threads} thread${info.threads === 1 ? '' : 's'}`;
  const cores = info.hardwareConcurrency;
  if (info.threads > 1 && asked > info.threads && cores && info.threads >= cores)
    return `${text} (${asked} asked; this device has ${cores} cores)`;
  return text;
}

/** Why this page runs one thread, or '' if it runs several (or one was asked for). */
export function threadsOffReason(info, query) {
  if (!info || info.threads > 1) return '';
  if (info.fallback) return info.reason; // the threaded build failed to start: which file, and that one thread runs
  if (info.crossOriginIsolated && globalThis.crossOriginIsolated) return '';
  const why = [];
  const coiOff = query && query.get('coi') === '0' && !globalThis.crossOriginIsolated;
  // A framed document is isolated only when the page around it is: its own headers or service worker cannot help.
  let framed = false;
  try { framed = typeof window !== 'undefined' && window.top !== window.self; } catch { framed = true; }
  if (framed && !globalThis.crossOriginIsolated && !coiOff)
    why.push('this figure is in a frame of a page that is not cross-origin isolated, and a frame gets threads only ' +
             'when the page around it is isolated too (COOP/COEP headers on that page, or coi-serviceworker loaded by it)');
  else if (info.reason) why.push(info.reason);
  else if (!globalThis.crossOriginIsolated) {
    why.push('this page is not cross-origin isolated: the server sends no Cross-Origin-Opener-Policy/Embedder-Policy headers');
    // (with ?coi=0 the service worker is off on purpose: said last, whatever the engine's reason)
    if (!coiOff && !window.isSecureContext) why.push('and the service worker that could add them needs HTTPS or localhost');
    else if (!coiOff && !('serviceWorker' in navigator)) why.push('and this browser offers no service worker to add them');
  }
  if (typeof SharedArrayBuffer === 'undefined' && !why.some((w) => /SharedArrayBuffer/.test(w))) why.push('(so SharedArrayBuffer is unavailable)');
  // The engine's reason says isolation is missing; only the page knows that its own ?coi=0 is why.
  if (coiOff) why.push('and ?coi=0 in the address turned the COOP/COEP service worker off (remove it to get threads)');
  return why.join(' ');
}
