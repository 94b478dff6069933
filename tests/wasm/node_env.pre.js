// node_env.pre.js — linked (--pre-js) into the unit tests of the WebAssembly builds. Emscripten gives a program
// only a fixed default environment, not node's process.env, so getenv("DSP_DATA_DIR") would be NULL under ctest
// and the data-reading checks would skip. This copies the DSP_* variables ctest sets into the program's
// environment before its C runtime starts.
Module['preRun'] = [].concat(Module['preRun'] || [], function () {
  // ENV exists only in programs that call getenv.
  if (typeof ENV === 'undefined' || typeof process !== 'object' || !process.env) return;
  for (var key in process.env) if (key.indexOf('DSP_') === 0) ENV[key] = process.env[key];
});
