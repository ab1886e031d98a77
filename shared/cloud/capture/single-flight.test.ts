import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SingleFlight } from './single-flight';

/** A promise with its resolve and reject. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

test('calls for a key join the run in progress; other keys and later calls run on their own', async () => {
  const flights = new SingleFlight<string>();
  const first = deferred<string>();
  let runs = 0;
  const work = (d: { promise: Promise<string> }) => () => {
    runs++;
    return d.promise;
  };
  const a = flights.run('batch-1', work(first));
  const b = flights.run('batch-1', work(deferred<string>()));
  const other = deferred<string>();
  const c = flights.run('batch-2', work(other));
  assert.equal(runs, 2);
  assert.equal(flights.size, 2);
  first.resolve('stored');
  other.resolve('other');
  assert.deepEqual(await Promise.all([a, b, c]), ['stored', 'stored', 'other']);
  assert.equal(flights.size, 0);
  // Settled: the key runs again.
  assert.equal(await flights.run('batch-1', async () => 'again'), 'again');
  assert.equal(runs, 2, 'the async arrow above is not counted');
});

test('a failed run fails every caller that joined it, and the key is free again', async () => {
  const flights = new SingleFlight<void>();
  const failing = deferred<void>();
  const a = flights.run('batch-1', () => failing.promise);
  const b = flights.run('batch-1', async () => assert.fail('joined, not run'));
  failing.reject(new Error('disk full'));
  await assert.rejects(a, /disk full/);
  await assert.rejects(b, /disk full/);
  assert.equal(flights.size, 0);
  await flights.run('batch-1', async () => undefined);
});
