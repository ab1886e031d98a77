/**
 * The data sets Lab 02 trains and evaluates on, written once into a data folder (the same files
 * `npm run dataset` writes, so the CLIs can be pointed at them). The 'full' profile uses the training data
 * the detector's defaults were chosen on and a held-out test set of 20 turbine-hours on another seed with
 * every fault kind at both severities; 'ci' a few minutes of each, enough to run every step.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { batchWindows } from '../features/batch';
import { turbineSeries } from '../features/farm';
import type { FeatureStatistics } from '../features/statistics';
import type { PreprocessingParams } from '../features/params';
import { writeFramesCsv } from '../turbine/csv';
import { parseEventTime } from '../turbine/event-time';
import type { FaultLabel } from '../turbine/faults';
import type { FrameColumns } from '../turbine/schema';
import { simulateFarm } from '../turbine/farm';
import { labelsPathFor, writeLabelsCsv } from '../turbine/labels';
import { DEFAULT_TRAINING_DATA } from './training-data';

export interface LabDataSpec {
  turbines: number;
  minutes: number;
  seed: number;
}

export interface LabDataSets {
  train: LabDataSpec & { path: string };
  test: LabDataSpec & { path: string; labelsPath: string };
}

/** The full profile's held-out test set: 8 turbines x 150 min = 20 turbine-hours, another seed. */
export const FULL_TEST_DATA: Readonly<LabDataSpec> = Object.freeze({ turbines: 8, minutes: 150, seed: 7 });

/** Data set specs for a lab profile ('ci' takes the configured turbines and minutes). */
export function labDataSpecs(profile: 'ci' | 'full', turbines: number, minutes: number, seed: number): { train: LabDataSpec; test: LabDataSpec } {
  if (profile === 'full') return { train: { ...DEFAULT_TRAINING_DATA }, test: { ...FULL_TEST_DATA } };
  return { train: { turbines, minutes, seed }, test: { turbines, minutes: Math.max(minutes, 6), seed: seed + 1 } };
}

/** Writes the training (normal) and test (faults + labels) files into dataDir unless they exist. */
export async function ensureLabDataSets(dataDir: string, specs: { train: LabDataSpec; test: LabDataSpec }): Promise<LabDataSets> {
  mkdirSync(dataDir, { recursive: true });
  const name = (kind: string, s: LabDataSpec) => join(dataDir, `${kind}-${s.turbines}x${s.minutes}min-seed${s.seed}.csv.gz`);
  const trainPath = name('normal', specs.train);
  const testPath = name('faults', specs.test);
  const testLabels = labelsPathFor(testPath);
  if (!existsSync(trainPath)) await writeFramesCsv(simulateFarm({ ...specs.train, faults: false }).frames, trainPath);
  if (!existsSync(testPath) || !existsSync(testLabels)) {
    const farm = simulateFarm({ ...specs.test, faults: true });
    await writeFramesCsv(farm.frames, testPath);
    writeLabelsCsv(farm.labels, testLabels);
  }
  return { train: { ...specs.train, path: trainPath }, test: { ...specs.test, path: testPath, labelsPath: testLabels } };
}

/**
 * Two windows of the label's turbine for a side-by-side look: the last one ending 20 s or more before the
 * fault starts (normal), and the first one ending 5 s (a whole window) after it started (faulty).
 */
export function exampleWindows(frames: FrameColumns, label: FaultLabel, stats: FeatureStatistics, params: PreprocessingParams): { normal: Float32Array; faulty: Float32Array } {
  const series = turbineSeries(frames).find((s) => s.turbineId === label.turbineId);
  if (!series) throw new Error(`turbine ${label.turbineId} is not in the frames`);
  const w = batchWindows(series.frames, stats, params);
  const start = parseEventTime(label.start);
  const time = (k: number) => parseEventTime(series.frames.eventTime[w.endIndex[k]]);
  let normal = 0;
  let faulty = -1;
  for (let k = 0; k < w.count; k++) {
    if (time(k) <= start - 20_000) normal = k;
    if (faulty < 0 && time(k) >= start + 5_000) faulty = k;
  }
  if (faulty < 0) throw new Error(`no complete window after the start of the ${label.kind} fault on turbine ${label.turbineId}`);
  const size = 6 * params.windowLength;
  return { normal: w.windows.slice(normal * size, (normal + 1) * size), faulty: w.windows.slice(faulty * size, (faulty + 1) * size) };
}
