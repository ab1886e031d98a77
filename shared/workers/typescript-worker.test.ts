import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import type { EchoReply } from './echo-worker-testing';
import { startTypeScriptWorker } from './typescript-worker';

// execArgv: [] so the worker does not inherit this test's `--import tsx`: only the bootstrap can load TypeScript.
test('a worker runs a TypeScript entry with the caller workerData and argv, without an inherited loader', async () => {
  const worker = startTypeScriptWorker(join(__dirname, 'echo-worker-testing.ts'), { workerData: { turbines: [1, 2] }, argv: ['--flag'], execArgv: [] });
  try {
    worker.postMessage('hello');
    const [reply] = (await once(worker, 'message')) as [EchoReply];
    assert.deepEqual(reply, { message: 'hello', workerData: { turbines: [1, 2] }, argv: [join(__dirname, 'echo-worker-testing.ts'), '--flag'] });
  } finally {
    await worker.terminate();
  }
});

test('a missing entry fails the worker with an error that names it', async () => {
  const missing = join(__dirname, 'no-such-worker.ts');
  const worker = startTypeScriptWorker(missing, { execArgv: [] });
  const [err] = (await once(worker, 'error')) as [Error];
  assert.match(err.message, /Cannot find module/);
  assert.ok(err.message.includes(missing), err.message);
});
