import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, acceleratedClock, realClock } from './clock';

test('ManualClock runs due timers in order, including timers scheduled by timers, and cancels', async () => {
  const clock = new ManualClock(1_000);
  const ran: string[] = [];
  clock.setTimeout(() => ran.push(`b@${clock.now()}`), 200);
  clock.setTimeout(() => {
    ran.push(`a@${clock.now()}`);
    clock.setTimeout(() => ran.push(`c@${clock.now()}`), 150);
  }, 100);
  const cancelled = clock.setTimeout(() => ran.push('never'), 50);
  cancelled.cancel();
  await clock.advance(240);
  assert.deepEqual(ran, ['a@1100', 'b@1200']);
  assert.equal(clock.now(), 1240);
  await clock.advance(10);
  assert.deepEqual(ran, ['a@1100', 'b@1200', 'c@1250']);
  assert.equal(clock.pending(), 0);
  await assert.rejects(clock.advance(-1), /ms must be >= 0/);
});

test('acceleratedClock runs time faster and fires its timers early in real time', async () => {
  const clock = acceleratedClock(1000);
  const start = clock.now();
  const realStart = Date.now();
  await new Promise<void>((resolve) => clock.setTimeout(resolve, 20_000));
  const realElapsed = Date.now() - realStart;
  assert.ok(realElapsed < 2_000, `20 s of cloud time took ${realElapsed} ms`);
  assert.ok(clock.now() - start >= 19_000);
  assert.throws(() => acceleratedClock(0), /factor must be a positive number/);
});

test('realClock follows Date.now', async () => {
  const before = Date.now();
  assert.ok(realClock.now() >= before);
  await new Promise<void>((resolve) => realClock.setTimeout(resolve, 5));
});
