import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollUntil, waitUntil } from './poll-until';

test('returns the first defined answer, asking again after undefined and after errors', async () => {
  const answers: Array<() => number | undefined> = [() => undefined, () => { throw new Error('not yet'); }, () => 0, () => 5];
  let calls = 0;
  const value = await pollUntil('the value', async () => answers[calls++](), { intervalMs: 1 });
  assert.equal(value, 0, 'a falsy answer other than undefined counts');
  assert.equal(calls, 3);
});

test('a timeout names what was awaited, the tries and the last error', async () => {
  let calls = 0;
  await assert.rejects(
    pollUntil('a heartbeat', async () => {
      calls++;
      throw new Error('NoSuchKey');
    }, { timeoutMs: 50, intervalMs: 5 }),
    (err: Error) => /^timed out after 0 s \(\d+ tries\) waiting for a heartbeat; last error: NoSuchKey$/.test(err.message) && err.message.includes(`(${calls} tries)`),
  );
  assert.ok(calls >= 2, `asked more than once (${calls})`);
});

test('the pause doubles up to the limit, and the last one ends at the deadline', async (t) => {
  // A mocked clock makes the schedule exact: real timers on a loaded machine only ever stretch it.
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const at: number[] = [];
  let settled = false;
  const polling = pollUntil('never', async () => void at.push(Date.now()), { timeoutMs: 1000, intervalMs: 20, maxIntervalMs: 80 });
  const outcome = polling.then(() => 'resolved', (err: Error) => err.message).finally(() => (settled = true));
  for (let ms = 0; ms <= 1100 && !settled; ms++) {
    await new Promise((r) => setImmediate(r));
    t.mock.timers.tick(1);
  }
  assert.match(await outcome, /^timed out after 1 s \(15 tries\) waiting for never$/);
  const gaps = at.slice(1).map((time, i) => time - at[i]);
  assert.deepEqual(gaps, [20, 40, 80, ...Array<number>(10).fill(80), 60]);
});

test('waitUntil polls a condition until it holds, and names it on timeout', async () => {
  let calls = 0;
  await waitUntil('the third call', () => ++calls === 3, { intervalMs: 1 });
  assert.equal(calls, 3);
  await assert.rejects(waitUntil('a false condition', () => false, { timeoutMs: 20, intervalMs: 5 }), /waiting for a false condition$/);
});
