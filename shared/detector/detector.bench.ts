/**
 * Detector training and scoring cost. End to end: `npm run train` on the default training data set (16
 * turbines x 60 min, written as the CSV `npm run dataset` writes, empty cache) as a child process, against
 * the same command with tfjs-backend-wasm's own transposed matMul and the calibration on the main thread
 * (the pipeline before both speed-ups), in the same run; both must write the same weights. Then the dense
 * model's time per epoch next to the original convolutional architecture's on the same windows, on wasm
 * (with our Conv2DBackpropFilter kernel) and on the cpu backend (what tfjs would fall back to without it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchLine } from '../bench/types';
import { DEFAULT_PREPROCESSING } from '../features/params';
import { writeFramesCsv } from '../turbine/csv';
import { simulateFarm } from '../turbine/farm';
import { initBackend } from './backend';
import { buildAutoencoder } from './models';
import { DEFAULT_TRAIN_STRIDE, DEFAULT_TRAINING_DATA, everyNth, everyNthWithTransients, prepareTrainingData } from './training-data';
import { reconstructionErrors } from './scoring';
import { DEFAULT_TRAINING, trainAutoencoder } from './training';
import { WINDOW_SIZE } from './windows';

export const name = 'detector';

function cpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Wall and CPU seconds of fn. */
function timed<T>(fn: () => T): { value: T; wall: number; cpu: number } {
  const w = performance.now();
  const c = cpuS();
  const value = fn();
  return { value, wall: (performance.now() - w) / 1000, cpu: cpuS() - c };
}

/**
 * One `npm run train` in a child process with an empty cache: wall seconds, its steps line, and what it
 * wrote (weights and detector.json without its training seconds).
 */
function trainCommand(dir: string, name: string, extraArgs: string[], env: Record<string, string>): { wall: number; steps: string; model: string } {
  const root = join(__dirname, '..', '..');
  const args = ['--import', 'tsx', join(root, 'shared', 'cli', 'train.ts'), '--data', join(dir, 'train.csv.gz'), '--out', join(dir, name), '--cache', join(dir, `cache-${name}`), ...extraArgs];
  const t0 = performance.now();
  const child = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000;
  if (child.status !== 0) throw new Error(`npm run train (${name}) failed: ${child.stderr.slice(-2000)}`);
  const steps = /^steps: (.*)$/m.exec(child.stdout)?.[1] ?? '?';
  const description = JSON.parse(readFileSync(join(dir, name, 'detector.json'), 'utf8'));
  delete description.training.seconds;
  return { wall, steps, model: readFileSync(join(dir, name, 'weights.bin')).toString('base64') + JSON.stringify(description) };
}

export async function run(): Promise<BenchLine[]> {
  const log = (text: string) => process.stderr.write(`detector bench: ${text}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'detector-bench-'));
  let fast: ReturnType<typeof trainCommand>;
  let plain: ReturnType<typeof trainCommand>;
  const load: number[] = [];
  try {
    await writeFramesCsv(simulateFarm(DEFAULT_TRAINING_DATA).frames, join(dir, 'train.csv.gz'));
    log('npm run train on the default data set, then the same without the speed-ups');
    load.push(loadavg()[0]);
    fast = trainCommand(dir, 'fast', [], {});
    load.push(loadavg()[0]);
    plain = trainCommand(dir, 'plain', ['--no-calibration-worker'], { DETECTOR_WASM_MATMUL: 'tfjs' });
    load.push(loadavg()[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (fast.model !== plain.model) throw new Error('npm run train wrote a different model (weights or detector.json) with and without the speed-ups');

  const backend = await initBackend('wasm');
  const { frames } = simulateFarm(DEFAULT_TRAINING_DATA);
  const prep = timed(() => prepareTrainingData(frames, [], DEFAULT_PREPROCESSING));
  const data = prep.value;
  const train = everyNthWithTransients(data.train, DEFAULT_TRAIN_STRIDE);
  const validation = everyNth(data.holdout, DEFAULT_TRAIN_STRIDE);

  log(`${train.count} training windows prepared in ${prep.wall.toFixed(1)} s; training the dense model`);
  const dense = buildAutoencoder('dense', DEFAULT_TRAINING.seed);
  const fit = timed(() => trainAutoencoder(dense, train, validation));
  const epochs = fit.value.curve.length;
  const denseEpoch = fit.wall / epochs;
  const scoreSet = { windows: data.holdout.windows.subarray(0, 4096 * WINDOW_SIZE), count: Math.min(4096, data.holdout.count) };
  const scoring = timed(() => reconstructionErrors(dense, scoreSet));
  const one = { windows: data.holdout.windows.slice(0, WINDOW_SIZE), count: 1 };
  const single = timed(() => {
    for (let i = 0; i < 500; i++) reconstructionErrors(dense, one);
  });
  dense.dispose();

  // The original architecture: a slice of an epoch on wasm (extrapolated to the full epoch: its cost is
  // linear in windows) and a smaller slice on the cpu backend, which needs seconds per window.
  log(`dense: ${epochs} epochs in ${fit.wall.toFixed(1)} s; the original architecture on wasm and cpu`);
  const slice = (set: typeof train, n: number) => ({ windows: set.windows.subarray(0, n * WINDOW_SIZE), count: Math.min(n, set.count) });
  const perWindow = async (b: 'wasm' | 'cpu', n: number, batchSize: number) => {
    await initBackend(b);
    const m = buildAutoencoder('original', DEFAULT_TRAINING.seed);
    const part = slice(train, n);
    const t = timed(() => trainAutoencoder(m, part, slice(validation, 8), { epochs: 1, batchSize }));
    m.dispose();
    return t.wall / part.count;
  };
  const wasmPerWindow = await perWindow('wasm', 512, DEFAULT_TRAINING.batchSize);
  const cpuPerWindow = await perWindow('cpu', 8, 8);
  await initBackend(backend);
  const origEpoch = { wall: wasmPerWindow * train.count };

  return [
    {
      label: `npm run train on the default data set (${DEFAULT_TRAINING_DATA.turbines} turbines x ${DEFAULT_TRAINING_DATA.minutes} min CSV, empty cache), wall`,
      value: fast.wall,
      unit: 's',
      baseline: { label: "same command with tfjs's own transposed matMul and the calibration on the main thread", value: plain.wall },
      note: `steps ${fast.steps} | baseline ${plain.steps}; same weights and thresholds; load average ${load.map((l) => l.toFixed(1)).join(' / ')}; target < 60 s`,
    },
    {
      label: `dense: preprocess in memory, then train ${epochs} epochs (${train.count} windows), wall`,
      value: prep.wall + fit.wall,
      unit: 's',
      baseline: { label: 'original architecture, same epochs (extrapolated)', value: origEpoch.wall * epochs + prep.wall },
      note: `preprocess ${prep.wall.toFixed(1)} s + train ${fit.wall.toFixed(1)} s; CPU ${(prep.cpu + fit.cpu).toFixed(1)} s; best epoch ${fit.value.bestEpoch}, val MSE ${fit.value.bestValLoss.toFixed(4)}`,
    },
    {
      label: 'dense: time per epoch (wasm)',
      value: denseEpoch,
      unit: 's',
      baseline: { label: 'original per epoch (wasm, from 512 windows)', value: origEpoch.wall },
    },
    {
      label: 'original: training time per window on wasm (with the added Conv2DBackpropFilter kernel, 512 windows)',
      value: wasmPerWindow * 1000,
      unit: 'ms',
      baseline: { label: 'cpu backend (8 windows)', value: cpuPerWindow * 1000 },
    },
    {
      label: 'dense: scoring one window per call (device-like)',
      value: (single.wall / 500) * 1000,
      unit: 'ms',
      baseline: { label: 'per window in batches of 512', value: (scoring.wall / scoreSet.count) * 1000 },
    },
  ];
}
