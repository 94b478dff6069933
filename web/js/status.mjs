// status.mjs — the words of the status line: which engine build runs, with how many threads, how fast, and why
// threads are off when they are.

const VARIANT_NAMES = { 'threads-simd': 'threads + SIMD build', 'single-simd': 'single-thread SIMD build' };

export function describeEngine(session, fake) {
  const info = session.info;
  if (session.state === 'error') return `Error: ${session.error}`;
  if (!info) return 'Starting the engine…';
  const parts = [`${fake ? 'FAKE LAB (UI only) — ' : ''}Engine: ${VARIANT_NAMES[info.variant] || info.variant}`,
    `${info.threads} thread${info.threads === 1 ? '' : 's'}`];
  if (Number.isFinite(session.msPerStep) && session.msPerStep > 0) {
    parts.push(`${session.msPerStep.toFixed(1)} ms/step`);
    const sps = Number.isFinite(session.stepsPerSecond) ? session.stepsPerSecond : 1000 / session.msPerStep;
    parts.push(`${sps.toFixed(1)} steps/s`);
  }
  const st = { starting: 'starting', loading: 'downloading', ready: 'ready', training: 'training', paused: 'paused', done: 'done' }[session.state];
  if (st) parts.push(st);
  return parts.join(' · ');
}

/** Why this page runs one thread, or '' if it runs several (or one was asked for). */
export function threadsOffReason(info, query) {
  if (!info || info.threads > 1) return '';
  if (info.crossOriginIsolated && globalThis.crossOriginIsolated) return '';
  const why = [];
  if (info.reason) why.push(info.reason);
  else if (!globalThis.crossOriginIsolated) {
    why.push('this page is not cross-origin isolated: the server sends no Cross-Origin-Opener-Policy/Embedder-Policy headers');
    if (query && query.get('coi') === '0') why.push('and ?coi=0 turned the COOP/COEP service worker off');
    else if (!window.isSecureContext) why.push('and the service worker that could add them needs HTTPS or localhost');
    else if (!('serviceWorker' in navigator)) why.push('and this browser offers no service worker to add them');
  }
  if (typeof SharedArrayBuffer === 'undefined' && !why.some((w) => /SharedArrayBuffer/.test(w))) why.push('(so SharedArrayBuffer is unavailable)');
  return why.join(' ');
}
