/**
 * Memory stays flat over 100k inferences: the JS heap (after a forced GC) and the process's resident
 * size (onnxruntime's native tensors) do not grow between the first 20k and the last 80k inferences.
 * Windows every step (stride 1) make 100k inferences from about 100k frames.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createHash } from 'node:crypto';
import { DEFAULT_PREPROCESSING } from '../features/params';
import { TurbineSimulator } from '../turbine/simulator';
import { ModelManager } from './model-manager';
import { ScoringRuntime } from './scoring-runtime';
import { deployWithFrames, testDescription, testKeys, testPackage, testVerifier } from './stand-in-model-testing';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function settle(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

test('heap and native memory stay flat over 100k inferences', { timeout: 85_000 }, async () => {
  const keys = testKeys();
  const manager = new ModelManager(testVerifier(keys.publicKey));
  const runtime = new ScoringRuntime(manager, { keepTensors: false });
  const bytes = testPackage(keys.privateKey, testDescription({ params: { ...DEFAULT_PREPROCESSING, stride: 1 } }), { bias: 0.01 });
  const sim = new TurbineSimulator({ seed: 3 });
  // The health verdict waits for real frames: the first 200 frames follow the deploy.
  await deployWithFrames(runtime, await manager.load(bytes, createHash('sha256').update(bytes).digest('hex')), Array.from({ length: 200 }, () => sim.next()));
  const feed = async (inferences: number): Promise<void> => {
    const target = runtime.counters.windowsScored + inferences;
    while (runtime.counters.windowsScored < target) {
      for (let k = 0; k < 3200; k++) runtime.push(sim.next());
      await runtime.idle();
    }
  };
  await feed(20_000);
  const before = settle();
  const t0 = Date.now();
  await feed(80_000);
  const seconds = (Date.now() - t0) / 1000;
  const after = settle();
  const c = runtime.counters;
  assert.ok(c.windowsScored >= 100_000);
  assert.equal(c.windowsUnscored + c.inferenceErrors + c.framesRejected + c.framesDropped, 0);
  const heapGrowth = (after.heap - before.heap) / 2 ** 20;
  const rssGrowth = (after.rss - before.rss) / 2 ** 20;
  console.log(`100k inferences: ${c.windowsScored} windows, last 80k in ${seconds.toFixed(1)} s; heap ${(before.heap / 2 ** 20).toFixed(1)} -> ${(after.heap / 2 ** 20).toFixed(1)} MiB, rss ${(before.rss / 2 ** 20).toFixed(1)} -> ${(after.rss / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(heapGrowth < 4, `heap grew ${heapGrowth.toFixed(2)} MiB`);
  assert.ok(rssGrowth < 40, `rss grew ${rssGrowth.toFixed(2)} MiB`);
  await manager.close();
});
