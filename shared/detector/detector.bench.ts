/**
 * Detector training and scoring cost. Trains the default (dense) model with the default settings on the
 * default training data set (simulated in memory, 16 turbines x 60 min), fits its thresholds (operating-state
 * scale, budget, onset, fast rule), calibrates them for the false-alarm target and reports the wall and CPU
 * time of all four (and the load average, since the machine is shared),
 * next to the original convolutional architecture's time per epoch on the same windows, on wasm (with our
 * Conv2DBackpropFilter kernel) and on the cpu backend (what tfjs would fall back to without it).
 */
import { loadavg } from 'node:os';
import type { BenchLine } from '../bench/types';
import { DEFAULT_PREPROCESSING } from '../features/params';
import { simulateFarm } from '../turbine/farm';
import { initBackend } from './backend';
import { CALIBRATION_FARM, calibrateThresholds } from './calibration';
import { buildAutoencoder } from './models';
import { fitAllThresholds } from './threshold-fitting';
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

export async function run(): Promise<BenchLine[]> {
  const backend = await initBackend('wasm');
  const { frames } = simulateFarm(DEFAULT_TRAINING_DATA);
  const prep = timed(() => prepareTrainingData(frames, [], DEFAULT_PREPROCESSING));
  const data = prep.value;
  const train = everyNthWithTransients(data.train, DEFAULT_TRAIN_STRIDE);
  const validation = everyNth(data.holdout, DEFAULT_TRAIN_STRIDE);

  const log = (text: string) => process.stderr.write(`detector bench: ${text}\n`);
  log(`${train.count} training windows prepared in ${prep.wall.toFixed(1)} s; training the dense model`);
  const dense = buildAutoencoder('dense', DEFAULT_TRAINING.seed);
  const fit = timed(() => trainAutoencoder(dense, train, validation));
  const thresholds = timed(() => fitAllThresholds(dense, data));
  // Fitting them for the false-alarm target: simulating the calibration turbines, their forward passes, the tails.
  const calibration = timed(() => calibrateThresholds(dense, thresholds.value.thresholds, data.stats, data.params, simulateFarm(CALIBRATION_FARM).frames));
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
      label: `dense (default): preprocess, train ${epochs} epochs, fit thresholds and calibrate them on the default data set (${DEFAULT_TRAINING_DATA.turbines} turbines x ${DEFAULT_TRAINING_DATA.minutes} min, ${train.count} windows), wall`,
      value: prep.wall + fit.wall + thresholds.wall + calibration.wall,
      unit: 's',
      baseline: { label: 'original architecture, same epochs (extrapolated)', value: origEpoch.wall * epochs + prep.wall + thresholds.wall + calibration.wall },
      note:
        `preprocess ${prep.wall.toFixed(1)} s + train ${fit.wall.toFixed(1)} s + thresholds ${thresholds.wall.toFixed(1)} s + calibration ${calibration.wall.toFixed(1)} s; ` +
        `CPU ${(prep.cpu + fit.cpu + thresholds.cpu + calibration.cpu).toFixed(1)} s; load average ${loadavg()[0].toFixed(1)}; best epoch ${fit.value.bestEpoch}, val MSE ${fit.value.bestValLoss.toFixed(4)}; target <= 60 s`,
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
