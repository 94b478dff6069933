// vendor.mjs — loads Chart.js (its UMD build, copied into the site's vendor/ folder by tools/build-site.mjs) once,
// whether the page already has a <script> for it or a widget on someone's blog needs it injected.

let chartPromise = null;

export function loadChartJs() {
  if (globalThis.Chart) return Promise.resolve(globalThis.Chart);
  if (!chartPromise) {
    chartPromise = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = new URL('../vendor/chart.umd.min.js', import.meta.url).href;
      s.onload = () => (globalThis.Chart ? resolve(globalThis.Chart) : reject(new Error('Chart.js loaded but defined no Chart')));
      s.onerror = () => reject(new Error(`could not load Chart.js from ${s.src}`));
      document.head.appendChild(s);
    });
  }
  return chartPromise;
}
