/**
 * What the edge agent adds around the model: (a) frames per second through the whole scoring runtime
 * (queue, feature pipeline, an ONNX model that is one Mul and one Add, per-feature errors, thresholds,
 * debouncing, drift) against the feature pipeline alone on the same frames; (b) the same with every
 * detector rule on (thresholds conditioned on the rotor-speed state, onset rule, stuck-sensor rule, fast
 * rule) against plain thresholds; (c) a hot swap (replay of the recent frames into the new model's
 * pipeline plus an 8-window canary) against loading the same package.
 */
import { createHash } from 'node:crypto';
import type { BenchLine } from '../bench/types';
import { StreamingFeaturePipeline } from '../features/streaming';
import { ModelManager } from './model-manager';
import { ScoringRuntime } from './scoring-runtime';
import { deployWithFrames, simulatedFrames, testDescription, testKeys, testPackage, testStatistics, testVerifier } from './stand-in-model-testing';

export const name = 'edge agent';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Milliseconds for a runtime to score all frames. */
async function timeRuntime(runtime: ScoringRuntime, frames: ReturnType<typeof simulatedFrames>): Promise<number> {
  const t0 = now();
  for (const f of frames) runtime.push(f);
  await runtime.idle();
  return now() - t0;
}

/** Runs the edge agent benchmarks. */
export async function run(): Promise<BenchLine[]> {
  const keys = testKeys();
  const manager = new ModelManager(testVerifier(keys.publicKey));
  const runtime = new ScoringRuntime(manager, { keepTensors: false });
  const bytes = testPackage(keys.privateKey, testDescription(), { bias: 0.01 });
  const sha = createHash('sha256').update(bytes).digest('hex');
  const frames = simulatedFrames(20_000, 9);
  await deployWithFrames(runtime, await manager.load(bytes, sha), frames.slice(0, 200));
  const pipelineMs: number[] = [];
  const runtimeMs: number[] = [];
  for (let round = 0; round < 5; round++) {
    let t0 = now();
    const pipeline = new StreamingFeaturePipeline(testStatistics());
    for (const f of frames) pipeline.push(f);
    pipelineMs.push(now() - t0);
    runtimeMs.push(await timeRuntime(runtime, frames));
  }
  // Every rule of the default detector, with realistic values. The stuck-sensor floors are 0 (the variation
  // is still computed): the bench's test frames hold exactly flat features, which the canary would refuse.
  const c = [-0.5, 0.3, -0.05, 0.03, -0.03];
  const thresholds = {
    rule: 'budget' as const, values: [2.7, 2.6, 0.5, 1.0, 5.4, 7.4], errorSteps: 100, debounceWindows: 3,
    recent: { values: [3.2, 4.3, 1.0, 1.4, 13.3, 12.8], errorSteps: 20, margin: 1.5 },
    flatline: [0, 0, 0, 0, 0, 0], variationSteps: 20,
    scale: { full: [c, c, null, null, c, c], recent: [c, c, null, null, c, c], recentSteps: 20, levelRange: [-2.6, 4.5] as [number, number], changeMax: 1.7 },
    fast: 1.93,
  };
  const rulesRuntime = new ScoringRuntime(manager, { keepTensors: false });
  const rulesBytes = testPackage(keys.privateKey, testDescription({ version: '1.1.0', thresholds }), { bias: 0.01 });
  await deployWithFrames(rulesRuntime, await manager.load(rulesBytes, createHash('sha256').update(rulesBytes).digest('hex')), frames.slice(0, 200));
  const plainMs: number[] = [];
  const rulesMs: number[] = [];
  for (let round = 0; round < 5; round++) {
    plainMs.push(await timeRuntime(runtime, frames));
    rulesMs.push(await timeRuntime(rulesRuntime, frames));
  }
  const swapMs: number[] = [];
  const loadMs: number[] = [];
  for (let round = 0; round < 7; round++) {
    let t0 = now();
    const model = await manager.load(bytes, sha);
    loadMs.push(now() - t0);
    t0 = now();
    await runtime.deploy(model);
    swapMs.push(now() - t0);
  }
  await manager.close();
  const fps = (ms: number): number => Math.round(frames.length / (ms / 1000));
  return [
    { label: 'scoring runtime, frames/s (window every 10 frames)', value: fps(median(runtimeMs)), unit: 'frames/s', baseline: { label: 'feature pipeline alone', value: fps(median(pipelineMs)) } },
    { label: 'scoring runtime with every detector rule (conditioned, onset, stuck sensor, fast), frames/s', value: fps(median(rulesMs)), unit: 'frames/s', baseline: { label: 'plain thresholds', value: fps(median(plainMs)) } },
    { label: 'hot swap: warm-up replay + 8-window canary', value: Number(median(swapMs).toFixed(2)), unit: 'ms', baseline: { label: 'verify + load the package', value: Number(median(loadMs).toFixed(2)) } },
  ];
}
