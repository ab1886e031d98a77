/**
 * Stability across training runs: trains the detector the documented way (the default data size and
 * options) on several training data seeds, then measures each model on the same normal-only farms (false
 * alarms, with their 95 % upper bound) and on the same labelled farm with every fault kind (event F1,
 * median delay). Models go through the real pipeline (CSV -> runTrainingPipeline -> model directory ->
 * loadDetector), so what is measured is what `npm run train` ships; trained steps are cached.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFramesCsv } from '../turbine/csv';
import { type FarmSet, simulateFarm } from '../turbine/farm';
import { FAULT_KINDS } from '../turbine/faults';
import { type Detector, loadDetector } from './detector';
import { rateUpperBound } from './poisson';
import { LocalDirectoryRegistry } from './model-registry';
import { type PipelineEvent, type PipelineOptions, runTrainingPipeline } from './pipeline';
import { evaluateOnFrames } from './report';
import { DEFAULT_TRAINING_DATA } from './training-data';

export interface StabilityOptions {
  /** Seeds of the training data sets (each DEFAULT_TRAINING_DATA in size). */
  trainingSeeds: number[];
  /** Normal-only farms (no faults), the false alarms' normal time. */
  normal: FarmSet;
  /** The labelled farm with faults (one farm: count 1). */
  test: Omit<FarmSet, 'count'>;
  /** Training CSVs, the pipeline cache and the model directories go here. */
  workDir: string;
  /** Size of each training data set (default DEFAULT_TRAINING_DATA's, the documented one). */
  trainingData?: { turbines: number; minutes: number };
  /** Pipeline options other than the defaults (none for the documented study; tests make training short). */
  pipeline?: Partial<Omit<PipelineOptions, 'dataPath' | 'cacheDir' | 'registry' | 'onEvent'>>;
  onProgress?(text: string): void;
  onPipelineEvent?(event: PipelineEvent): void;
}

/** One training seed's figures. */
export interface StabilityRow {
  trainingSeed: number;
  trainSeconds: number;
  /** Per-feature multipliers of the error thresholds (calibration.ts), or null without calibration. */
  thresholdMultipliers: number[] | null;
  falseAlarms: number;
  normalTurbineDays: number;
  falseAlarmsPerTurbineDay: number;
  falseAlarmsUpper95: number;
  eventF1: number;
  eventRecall: number;
  eventPrecision: number;
  medianDelayS: number | null;
  testFalseAlarms: number;
  testFaultKinds: number;
}

/** Mean, smallest and largest of a figure over the rows. */
export function figureSpread(values: readonly number[]): { mean: number; min: number; max: number } {
  if (values.length === 0) throw new Error('spread: no values');
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, min: Math.min(...values), max: Math.max(...values) };
}

/** Trains one model per training seed and measures each on the same farms (see the module comment). */
export async function measureTrainingStability(o: StabilityOptions): Promise<StabilityRow[]> {
  if (o.trainingSeeds.length === 0) throw new Error('stability: give at least one training seed');
  for (const [name, f] of [['normal', o.normal], ['test', { ...o.test, count: 1 }]] as const) {
    if (!(Number.isInteger(f.turbines) && f.turbines > 0 && f.minutes > 0 && Number.isInteger(f.count) && f.count > 0)) throw new Error(`stability: bad ${name} farm ${JSON.stringify(f)}`);
  }
  const progress = o.onProgress ?? (() => undefined);
  mkdirSync(o.workDir, { recursive: true });
  const test = simulateFarm({ turbines: o.test.turbines, minutes: o.test.minutes, seed: o.test.firstSeed, faults: true });
  const kinds = new Set(test.labels.map((l) => l.kind));
  const missing = FAULT_KINDS.filter((k) => !kinds.has(k));
  if (missing.length) throw new Error(`stability: the test farm (seed ${o.test.firstSeed}) lacks fault kinds ${missing.join(', ')}; make it longer`);
  const size = o.trainingData ?? { turbines: DEFAULT_TRAINING_DATA.turbines, minutes: DEFAULT_TRAINING_DATA.minutes };
  const trained: Array<{ seed: number; result: Awaited<ReturnType<typeof runTrainingPipeline>>; modelDir: string }> = [];
  for (const seed of o.trainingSeeds) {
    const dataPath = join(o.workDir, `train-${size.turbines}x${size.minutes}-${seed}.csv.gz`);
    if (!existsSync(dataPath)) {
      progress(`training seed ${seed}: simulating ${size.turbines} turbines x ${size.minutes} min`);
      await writeFramesCsv(simulateFarm({ ...size, seed }).frames, dataPath);
    }
    progress(`training seed ${seed}: training (npm run train defaults)`);
    const modelDir = join(o.workDir, `model-${seed}`);
    const result = await runTrainingPipeline({ ...o.pipeline, dataPath, cacheDir: join(o.workDir, 'cache'), registry: new LocalDirectoryRegistry(modelDir), onEvent: o.onPipelineEvent });
    trained.push({ seed, result, modelDir });
  }
  // Every model on each farm, so that each farm is simulated once (simulating costs as much as scoring).
  const detectors: Detector[] = [];
  try {
    for (const t of trained) detectors.push(await loadDetector(t.modelDir));
    const normal = trained.map(() => ({ falseAlarms: 0, days: 0 }));
    for (let k = 0; k < o.normal.count; k++) {
      const farmSeed = o.normal.firstSeed + k;
      const { frames } = simulateFarm({ turbines: o.normal.turbines, minutes: o.normal.minutes, seed: farmSeed });
      detectors.forEach((detector, m) => {
        const { report } = evaluateOnFrames(detector, frames, []);
        normal[m].falseAlarms += report.false_alarms;
        normal[m].days += report.normal_turbine_days;
        progress(`training seed ${trained[m].seed}: normal farm ${farmSeed}: ${report.false_alarms} false alarms (total ${normal[m].falseAlarms} in ${normal[m].days.toFixed(2)} turbine-days)`);
      });
    }
    return detectors.map((detector, m) => {
      const { seed, result } = trained[m];
      const { report } = evaluateOnFrames(detector, test.frames, test.labels);
      progress(`training seed ${seed}: test farm ${o.test.firstSeed}: event F1 ${report.event_f1.toFixed(3)}, median delay ${report.median_delay_s} s`);
      const { falseAlarms, days } = normal[m];
      return {
        trainingSeed: seed,
        trainSeconds: result.steps.filter((s) => !s.cached).reduce((a, s) => a + s.seconds, 0),
        thresholdMultipliers: result.description.training.falseAlarm?.multipliers ?? null,
        falseAlarms,
        normalTurbineDays: days,
        falseAlarmsPerTurbineDay: falseAlarms / days,
        falseAlarmsUpper95: rateUpperBound(falseAlarms, days),
        eventF1: report.event_f1,
        eventRecall: report.event_recall,
        eventPrecision: report.event_precision,
        medianDelayS: report.median_delay_s,
        testFalseAlarms: report.false_alarms,
        testFaultKinds: Object.keys(report.per_kind).length,
      };
    });
  } finally {
    for (const d of detectors) d.dispose();
  }
}

/** The rows as a Markdown table, with the spread (mean, min - max) of each figure below. */
export function stabilityTable(rows: readonly StabilityRow[]): string {
  const f = (x: number | null, d = 3) => (x === null ? '-' : x.toFixed(d));
  const lines = [
    '| training seed | largest threshold multiplier | false alarms / normal turbine-days | per turbine-day (95 % upper bound) | event F1 | precision | recall | median delay |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.trainingSeed} | ${r.thresholdMultipliers ? f(Math.max(...r.thresholdMultipliers), 2) : '-'} | ${r.falseAlarms} / ${r.normalTurbineDays.toFixed(2)} | ${f(r.falseAlarmsPerTurbineDay, 2)} (${f(r.falseAlarmsUpper95, 2)}) | ` +
        `${f(r.eventF1)} | ${f(r.eventPrecision)} | ${f(r.eventRecall)} | ${f(r.medianDelayS, 2)} s |`,
    ),
  ];
  const s = (pick: (r: StabilityRow) => number, d: number) => {
    const v = figureSpread(rows.map(pick));
    return `${v.mean.toFixed(d)} (${v.min.toFixed(d)} - ${v.max.toFixed(d)})`;
  };
  lines.push(
    `| mean (min - max) | ${rows.every((r) => r.thresholdMultipliers) ? s((r) => Math.max(...r.thresholdMultipliers!), 2) : '-'} | | ${s((r) => r.falseAlarmsPerTurbineDay, 2)} | ${s((r) => r.eventF1, 3)} | | | ${s((r) => r.medianDelayS ?? Number.NaN, 2)} s |`,
  );
  return lines.join('\n');
}
