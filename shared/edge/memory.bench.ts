/**
 * Memory over 100k inferences: how much the JS heap (after a forced GC) and the process's resident size
 * (onnxruntime's native tensors) grow over the last 80k inferences, against their size after the first
 * 20k (flat is the goal: a leak shows as growth). Windows every step (stride 1) make 100k inferences from
 * about 100k frames. A figure, not a test threshold: memory on a shared machine is not a pass/fail signal.
 */
import type { BenchLine } from '../bench/types';
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

export const name = 'edge agent memory';

/** Runs 100k inferences and reports heap and resident-size growth. */
export async function run(): Promise<BenchLine[]> {
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
  await manager.close();
  const lost = c.windowsUnscored + c.inferenceErrors + c.framesRejected + c.framesDropped;
  if (c.windowsScored < 100_000 || lost > 0) throw new Error(`the run did not score every window: ${JSON.stringify(c)}`);
  const mib = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(2));
  const note = `${c.windowsScored} windows, last 80k in ${seconds.toFixed(1)} s`;
  return [
    { label: 'heap growth over the last 80k inferences', value: mib(after.heap - before.heap), unit: 'MiB', baseline: { label: 'heap after the first 20k', value: mib(before.heap) }, note },
    { label: 'resident size growth over the last 80k inferences', value: mib(after.rss - before.rss), unit: 'MiB', baseline: { label: 'resident size after the first 20k', value: mib(before.rss) } },
  ];
}
