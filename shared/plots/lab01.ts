/**
 * Lab 01's story as data: a simulated farm with labelled faults and its fault-free twin (same seed, same
 * random streams), one turbine's features at every preprocessing step, and the figures built from them.
 * The notebook shows the steps one by one; `npm run plots` renders the same figures into imgs/.
 */
import { FEATURE_NAMES, type FeatureName } from '../features/euler';
import { batchWindows, preprocessSeries, type BatchWindows, type PreprocessedSeries } from '../features/batch';
import { extractFeatures } from '../features/extract';
import { turbineSeries, fitFarmStatistics, type TurbineSeries } from '../features/farm';
import { DEFAULT_PREPROCESSING, type PreprocessingParams } from '../features/params';
import type { FeatureStatistics } from '../features/statistics';
import { StreamingFeaturePipeline } from '../features/streaming';
import { frameAt } from '../turbine/frames';
import { simulateFarm, type FarmData } from '../turbine/farm';
import type { FaultKind, SimulatedFaultLabel } from '../turbine/faults';
import type { Figure } from './figure';
import {
  correlationFigure,
  distributionsFigure,
  faultComparisonFigure,
  rawSensorsFigure,
  rawVsDenoisedFigure,
  stackedSeriesFigure,
  windowFigure,
} from './lab01-figures';

/** The feature in which each fault kind shows most plainly, for the fault-beside-normal figure. */
export const FAULT_FEATURE: Record<FaultKind, FeatureName> = {
  vib: 'roll',
  rot: 'rps',
  volt: 'voltage',
  bearing_wear: 'pitch',
  yaw_misalignment: 'yaw',
  generator_fault: 'voltage',
  stuck_sensor: 'roll',
  sensor_dropout: 'voltage',
};

export interface Lab01Options {
  turbines: number;
  minutes: number;
  seed: number;
  params?: PreprocessingParams;
}

/** Everything Lab 01 shows, computed once. */
export interface Lab01Data {
  /** The farm with its fault schedule, and the same farm without faults. */
  farm: FarmData;
  normalFarm: FarmData;
  /** Both farms split by turbine once, in ascending turbineId. */
  faultyTurbines: TurbineSeries[];
  normalTurbines: TurbineSeries[];
  /** Statistics fitted on the fault-free farm, as training would. */
  stats: FeatureStatistics;
  params: PreprocessingParams;
  /** Turbine 0 of the fault-free farm: raw, denoised and normalised features, and its model windows. */
  turbine: TurbineSeries;
  series: PreprocessedSeries;
  windows: BatchWindows;
}

/** Simulates the farm (with and without faults) and runs turbine 0 through the feature pipeline. */
export function lab01Data(options: Lab01Options): Lab01Data {
  const params = options.params ?? DEFAULT_PREPROCESSING;
  const farm = simulateFarm({ turbines: options.turbines, minutes: options.minutes, seed: options.seed, faults: true });
  const normalFarm = simulateFarm({ turbines: options.turbines, minutes: options.minutes, seed: options.seed, faults: false });
  const normalTurbines = turbineSeries(normalFarm.frames);
  const stats = fitFarmStatistics(normalTurbines, params);
  const turbine = normalTurbines[0];
  return {
    farm,
    normalFarm,
    faultyTurbines: turbineSeries(farm.frames),
    normalTurbines,
    stats,
    params,
    turbine,
    series: preprocessSeries(turbine.frames, stats, params),
    windows: batchWindows(turbine.frames, stats, params),
  };
}

/** The first label of the given kind (or the first label at all), with its turbine's frame indexes. */
export function pickFault(data: Lab01Data, kind?: FaultKind): { label: SimulatedFaultLabel; startIndex: number; endIndex: number } {
  const label = data.farm.labels.find((l) => kind === undefined || l.kind === kind);
  if (!label) throw new Error(kind ? `the simulated farm has no ${kind} fault; simulate more minutes or turbines` : 'the simulated farm has no faults');
  const frames = turbineFrames(data.faultyTurbines, label.turbineId);
  const startIndex = frames.eventTime.indexOf(label.start);
  const endIndex = frames.eventTime.indexOf(label.end);
  return { label, startIndex, endIndex };
}

/** One turbine's frames out of a farm already split by turbine. */
function turbineFrames(turbines: TurbineSeries[], turbineId: number): TurbineSeries['frames'] {
  return turbines.find((t) => t.turbineId === turbineId)!.frames;
}

/** Raw feature `name` of one turbine between two frame indexes (frame-aligned, no denoising needed). */
function featureSlice(frames: TurbineSeries['frames'], name: FeatureName, from: number, to: number): Float64Array {
  const raw = extractFeatures(frames)[FEATURE_NAMES.indexOf(name)];
  return raw.slice(Math.max(0, from), Math.min(raw.length, to));
}

/** A fault of the given kind beside the same stretch of the fault-free twin, with 20 s either side. */
export function faultFigure(data: Lab01Data, kind: FaultKind): Figure {
  const { label, startIndex, endIndex } = pickFault(data, kind);
  const margin = 400; // 20 s of frames before and after
  const from = Math.max(0, startIndex - margin);
  const to = endIndex + margin + 1;
  const feature = FAULT_FEATURE[label.kind];
  return faultComparisonFigure(
    feature,
    featureSlice(turbineFrames(data.normalTurbines, label.turbineId), feature, from, to),
    featureSlice(turbineFrames(data.faultyTurbines, label.turbineId), feature, from, to),
    { kind: `${label.kind} (${label.severity}), turbine ${label.turbineId}`, startIndex: startIndex - from, endIndex: endIndex - from },
  );
}

/** Names of Lab 01's figures, in the notebook's order; each becomes imgs/lab01-<name>.png. */
export const LAB01_FIGURE_NAMES = ['raw-sensors', 'euler-angles', 'raw-vs-denoised', 'distributions', 'correlations', 'model-window', 'fault-vs-normal'] as const;
export type Lab01FigureName = (typeof LAB01_FIGURE_NAMES)[number];

/** Builds one of Lab 01's figures from its data. */
export function lab01Figure(data: Lab01Data, name: Lab01FigureName): Figure {
  const s = data.series;
  const firstMinutes = (x: Float64Array, minutes: number) => x.subarray(0, Math.min(x.length, minutes * 1200));
  switch (name) {
    case 'raw-sensors':
      return rawSensorsFigure(data.turbine.frames, 'Raw sensor readings, turbine 0');
    case 'euler-angles':
      return stackedSeriesFigure('Nacelle orientation: euler angles from the IMU quaternion', ['roll', 'pitch', 'yaw'], [0, 1, 2].map((f) => s.raw[f]), { units: ['rad', 'rad', 'rad'] });
    case 'raw-vs-denoised':
      return rawVsDenoisedFigure('rps', firstMinutes(s.raw[4].subarray(0, s.length), 0.5), firstMinutes(s.denoised[4], 0.5));
    case 'distributions':
      return distributionsFigure(FEATURE_NAMES, s.raw.map((x) => x.subarray(0, s.length)), 'Feature distributions, normal operation');
    case 'correlations':
      return correlationFigure(FEATURE_NAMES, s.raw.map((x) => x.subarray(0, s.length)));
    case 'model-window':
      return windowFigure(FEATURE_NAMES, data.windows.windows, 0, 'The first model input window: 6 features x 100 steps as (6, 10, 10), normalised');
    case 'fault-vs-normal':
      return faultFigure(data, pickFault(data).label.kind);
    default: {
      const unknown: never = name;
      throw new Error(`unknown Lab 01 figure "${unknown}"; expected one of ${LAB01_FIGURE_NAMES.join(', ')}`);
    }
  }
}

/**
 * Feeds turbine 0 frame by frame through the device's StreamingFeaturePipeline and compares every window
 * with the batch (training) pipeline's: the proof, in the notebook, that training and device agree.
 */
export function compareStreamingToBatch(data: Lab01Data): { batchWindows: number; streamedWindows: number; maxAbsDifference: number } {
  const stream = new StreamingFeaturePipeline(data.stats, data.params);
  const size = data.windows.windows.length / Math.max(1, data.windows.count);
  let streamed = 0;
  let maxAbs = 0;
  for (let i = 0; i < data.turbine.frames.length; i++) {
    for (const w of stream.push(frameAt(data.turbine.frames, i))) {
      const offset = streamed * size;
      for (let k = 0; k < w.data.length; k++) maxAbs = Math.max(maxAbs, Math.abs(w.data[k] - data.windows.windows[offset + k]));
      streamed++;
    }
  }
  return { batchWindows: data.windows.count, streamedWindows: streamed, maxAbsDifference: maxAbs };
}
