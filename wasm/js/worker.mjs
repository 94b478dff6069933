// worker.mjs — the module Worker of the lab: connects a Session (session.mjs: the engine and the lockstep loop) to
// the page's messages. Runs as a browser module Worker, or as a node worker_threads Worker (lab.mjs under node).
import { isNode } from './engine.mjs';
import { Session } from './session.mjs';

if (!isNode) {
    const session = new Session((msg, transfer) => self.postMessage(msg, transfer ?? []));
    self.onmessage = (e) => session.handle(e.data);
} else {
    const { parentPort } = await import('node:worker_threads');
    const session = new Session((msg, transfer) => parentPort.postMessage(msg, transfer ?? []));
    parentPort.on('message', (msg) => session.handle(msg));
}
