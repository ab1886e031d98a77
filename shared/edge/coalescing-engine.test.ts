import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coalescingEngineFactory, MAX_COALESCED_WINDOWS } from './coalescing-engine';
import { type EngineFactory, type InferenceEngine, onnxEngineFactory } from './inference-engine';
import { testOnnxModel } from './onnx-testing';

const WINDOW = 600;

/** `count` windows whose values say which caller and row they are (caller * 1000 + row + position / 1000). */
function windows(caller: number, count: number): Float32Array {
  const data = new Float32Array(count * WINDOW);
  for (let k = 0; k < data.length; k++) data[k] = caller * 1000 + Math.floor(k / WINDOW) + (k % WINDOW) / 1000;
  return data;
}

/** A real onnxruntime engine factory that counts engines made, calls and windows per call, and releases. */
function counted(): { factory: EngineFactory; made: number; calls: number[]; released: number } {
  const c = { made: 0, calls: [] as number[], released: 0, factory: (async () => undefined) as unknown as EngineFactory };
  c.factory = async (onnx, inputName) => {
    c.made++;
    const engine = await onnxEngineFactory(onnx, inputName);
    return {
      ...engine,
      run: (input, shape) => {
        c.calls.push(shape[0]);
        return engine.run(input, shape);
      },
      release: () => {
        c.released++;
        return engine.release();
      },
    } satisfies InferenceEngine;
  };
  return c;
}

test('agents sharing a model get one engine, one call per turn of the event loop, and exactly their own rows', async () => {
  const onnx = testOnnxModel({ scale: 0.5, bias: 0.25 });
  const base = counted();
  const factory = coalescingEngineFactory(base.factory);
  const engines = await Promise.all([0, 1, 2].map(() => factory(onnx, 'input')));
  assert.equal(base.made, 1);
  const counts = [1, 3, 2];
  const inputs = counts.map((n, caller) => windows(caller + 1, n));
  const outs = await Promise.all(engines.map((e, caller) => e.run(inputs[caller], [counts[caller], 6, 10, 10])));
  assert.deepEqual(base.calls, [6], 'one batched call for the three callers');
  const direct = await onnxEngineFactory(onnx, 'input');
  for (let caller = 0; caller < 3; caller++) {
    assert.deepEqual(outs[caller].dims, [counts[caller], 6, 10, 10]);
    // Bit for bit what the model gives the caller's windows alone.
    assert.deepEqual(outs[caller].data, (await direct.run(inputs[caller], [counts[caller], 6, 10, 10])).data);
  }
  await direct.release();

  // Another model is another engine; releasing is counted per caller.
  const other = await factory(testOnnxModel({ scale: 2 }), 'input');
  assert.equal(base.made, 2);
  await other.release();
  assert.equal(base.released, 1);
  await engines[0].release();
  await engines[0].release(); // twice is once
  await engines[1].release();
  assert.equal(base.released, 1, 'still held by the third agent');
  await assert.rejects(engines[0].run(inputs[0], [1, 6, 10, 10]), /engine released/);
  await engines[2].release();
  assert.equal(base.released, 2);
  // After the last release the model is loaded again on demand.
  const again = await factory(onnx, 'input');
  assert.equal(base.made, 3);
  await again.release();
});

test('a large backlog is split into calls of at most MAX_COALESCED_WINDOWS; a failed call fails only its windows', async () => {
  const onnx = testOnnxModel();
  const base = counted();
  const factory = coalescingEngineFactory(base.factory);
  const engines = await Promise.all(Array.from({ length: 10 }, () => factory(onnx, 'input')));
  const per = Math.ceil((MAX_COALESCED_WINDOWS * 1.5) / 10);
  const outs = await Promise.all(engines.map((e, k) => e.run(windows(k, per), [per, 6, 10, 10])));
  assert.ok(base.calls.length === 2 && base.calls.every((n) => n <= MAX_COALESCED_WINDOWS), `calls ${base.calls.join(', ')}`);
  assert.equal(base.calls[0] + base.calls[1], per * 10);
  outs.forEach((o, k) => assert.deepEqual(o.data, windows(k, per), `caller ${k} got its own rows`));

  // A window of the wrong shape goes in its own call: the model refuses it, the others are scored.
  const results = await Promise.allSettled([engines[0].run(windows(0, 1), [1, 6, 10, 10]), engines[1].run(new Float32Array(50), [1, 5, 10]), engines[2].run(windows(2, 2), [2, 6, 10, 10])]);
  assert.equal(results[0].status, 'fulfilled');
  assert.equal(results[1].status, 'rejected');
  assert.equal(results[2].status, 'fulfilled');
  assert.deepEqual((results[2] as PromiseFulfilledResult<{ data: Float32Array }>).value.data, windows(2, 2));
  for (const e of engines) await e.release();
});

test('a model that does not load fails every caller with its error and is not kept', async () => {
  let attempts = 0;
  const factory = coalescingEngineFactory(async () => {
    attempts++;
    throw new Error('not an ONNX model');
  });
  const bytes = new Uint8Array([1, 2, 3]);
  const results = await Promise.allSettled([factory(bytes, 'input'), factory(bytes, 'input')]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  assert.match(String((results[0] as PromiseRejectedResult).reason), /not an ONNX model/);
  await assert.rejects(factory(bytes, 'input'), /not an ONNX model/);
  assert.equal(attempts, 2, 'the failed load was shared, then tried again');
});
