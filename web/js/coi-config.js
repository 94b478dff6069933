// coi-config.js — settings for coi-serviceworker.js, which this page loads right after this file (both are classic
// scripts: the service worker registers itself from document.currentScript).
// ?coi=0 turns the service worker off and unregisters an earlier one: the browser tests use it to check the
// single-thread fallback on a server without COOP/COEP headers. The reload counter stops a reload loop on a browser
// where the worker cannot make the page cross-origin isolated.
(function () {
  var off = /(^|[?&])coi=0(&|$)/.test(location.search.slice(1));
  window.coi = {
    shouldRegister: function () { return !off; },
    shouldDeregister: function () { return off; },
    quiet: true,
    doReload: function () {
      var n = Number(sessionStorage.getItem('dspCoiReloads') || 0);
      if (n >= 2) return;
      sessionStorage.setItem('dspCoiReloads', String(n + 1));
      location.reload();
    },
  };
  if (window.crossOriginIsolated) sessionStorage.removeItem('dspCoiReloads');
})();
