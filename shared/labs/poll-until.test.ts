import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollUntil } from './poll-until';

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

test('the pause doubles up to the limit', async () => {
  const at: number[] = [];
  await assert.rejects(pollUntil('never', async () => void at.push(Date.now()), { timeoutMs: 1000, intervalMs: 20, maxIntervalMs: 80 }));
  const gaps = at.slice(1).map((t, i) => t - at[i]);
  // The first pauses are 20, 40, 80 ms; none is much shorter than asked, and they stop growing at 80.
  assert.ok(gaps[0] >= 15 && gaps[1] >= 35 && gaps[2] >= 75, `gaps ${gaps.join(', ')}`);
  // Timers never fire early, so 1000 ms hold at most 20 + 40 + 80 + 11 x 80 ms of pauses: the pause stopped doubling.
  assert.ok(gaps.length <= 14, `${gaps.length} pauses in 1000 ms`);
  assert.ok(gaps.length >= 3, `${gaps.length} pauses in 1000 ms`);
});
