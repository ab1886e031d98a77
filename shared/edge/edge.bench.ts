/**
 * What the edge agent adds around the model: (a) frames per second through the whole scoring runtime
 * (queue, feature pipeline, an ONNX model that is one Mul and one Add, per-feature errors, thresholds,
 * debouncing, drift) against the feature pipeline alone on the same frames; (b) a hot swap (replay of the
 * recent frames into the new model's pipeline plus an 8-window canary) against loading the same package.
 */
import { createHash } from 'node:crypto';
import type { BenchLine } from '../bench/types';
import { StreamingFeaturePipeline } from '../features/streaming';
import { ModelManager } from './model-manager';
import { ScoringRuntime } from './scoring-runtime';
import { simulatedFrames, testDescription, testKeys, testPackage, testStatistics, testVerifier } from './testing';

export const name = 'edge agent';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Runs the edge agent benchmarks. */
export async function run(): Promise<BenchLine[]> {
  const keys = testKeys();
  const manager = new ModelManager(testVerifier(keys.publicKey));
  const runtime = new ScoringRuntime(manager, { keepTensors: false });
  const bytes = testPackage(keys.privateKey, testDescription(), { bias: 0.01 });
  const sha = createHash('sha256').update(bytes).digest('hex');
  await runtime.deploy(await manager.load(bytes, sha));
  const frames = simulatedFrames(20_000, 9);
  const pipelineMs: number[] = [];
  const runtimeMs: number[] = [];
  for (let round = 0; round < 5; round++) {
    let t0 = now();
    const pipeline = new StreamingFeaturePipeline(testStatistics());
    for (const f of frames) pipeline.push(f);
    pipelineMs.push(now() - t0);
    t0 = now();
    for (const f of frames) runtime.push(f);
    await runtime.idle();
    runtimeMs.push(now() - t0);
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
    { label: 'hot swap: warm-up replay + 8-window canary', value: Number(median(swapMs).toFixed(2)), unit: 'ms', baseline: { label: 'verify + load the package', value: Number(median(loadMs).toFixed(2)) } },
  ];
}
