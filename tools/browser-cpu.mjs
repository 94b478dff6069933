// browser-cpu.mjs — CPU time of a running Chromium's threads, read from Linux's /proc, for bench-browser.mjs.
// The engine's threads in the page are Web Workers (thread name "DedicatedWorker"); everything else — the page's own
// thread, the compositor, V8's background compiler and collector, the GPU and browser processes — competes with
// them for the cores. On a two-core machine a 2-thread run has no core to spare for that work, a 1-thread run has
// one, so this share is what the 2-thread speedup loses to the browser itself.
import fs from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ (getconf CLK_TCK): 100 on x86 and ARM Linux, the unit of utime and stime

function read(file) {
  try { return fs.readFileSync(file, 'utf8'); } catch { return null; }
}

/** The pids of the Chromium launched with --user-data-dir=`userDataDir` and of all its descendants. */
function browserPids(userDataDir) {
  const parent = new Map();
  let root = null;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (!stat) continue; // exited meanwhile
    parent.set(name, stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (root === null && (read(`/proc/${name}/cmdline`) || '').includes(`--user-data-dir=${userDataDir}`)) root = name;
  }
  if (root === null) return [];
  // the browser process is the one whose parent is not itself a process of this browser
  while (parent.has(parent.get(root)) && (read(`/proc/${parent.get(root)}/cmdline`) || '').includes(userDataDir))
    root = parent.get(root);
  const pids = [root];
  for (let i = 0; i < pids.length; i++)
    for (const [pid, ppid] of parent) if (ppid === pids[i]) pids.push(pid);
  return pids;
}

/** { engine, other } seconds of CPU used so far by the browser's Web Worker threads and by all its other threads,
 *  or null where /proc cannot tell (not Linux, or the browser was not found). */
export function browserCpu(userDataDir) {
  if (!fs.existsSync('/proc/self/stat')) return null;
  const pids = browserPids(userDataDir);
  if (!pids.length) return null;
  const out = { engine: 0, other: 0 };
  for (const pid of pids) {
    let tids = [];
    try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tids) {
      const stat = read(`/proc/${pid}/task/${tid}/stat`);
      if (!stat) continue;
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const s = (Number(f[11]) + Number(f[12])) / TICKS_PER_S; // utime + stime (fields 14 and 15 of stat)
      out[name === 'DedicatedWorker' ? 'engine' : 'other'] += s;
    }
  }
  return out;
}
