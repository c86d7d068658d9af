// Preload for scripts/path-files.mjs (node --require): in a worker thread, records which Lion source files
// run while the worker handles each message, with V8 precise coverage (call counts), into $LION_PATH_FILES_OUT.
const { isMainThread, parentPort, threadId } = require('node:worker_threads');
if (!isMainThread && process.env.LION_PATH_FILES_OUT) {
  const { Session } = require('node:inspector');
  const { appendFileSync } = require('node:fs');
  const s = new Session();
  s.connect();
  const post = (m, p) => { let out; s.post(m, p, (e, r) => { if (e) throw e; out = r; }); return out; };
  post('Profiler.enable');
  post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  parentPort.on('message', () => {
    post('Profiler.takePreciseCoverage'); // reset the counts: what follows is this message only
    setImmediate(() => {
      const files = new Set(), functions = [];
      for (const sc of post('Profiler.takePreciseCoverage').result) {
        for (const f of sc.functions) if (f.ranges[0].count > 0 && f.ranges[0].startOffset > 0) { files.add(sc.url); functions.push(`${sc.url}:${f.ranges[0].startOffset}`); }
      }
      appendFileSync(process.env.LION_PATH_FILES_OUT, `${JSON.stringify({ thread: threadId, files: [...files], functions })}\n`);
    });
  });
}
