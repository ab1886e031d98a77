/**
 * Thresholds fitted for a stated false-alarm rate. The budget rule puts each threshold a margin above the
 * largest held-out normal error, so how rare an excursion it covers depends on the luck of one training
 * farm. Here the error thresholds get multipliers chosen so that the expected false alarms on normal data
 * of other turbines meet a target rate per turbine-day: alarm levels (alarm-levels.ts) on the calibration
 * windows are cut into excursions, a generalised Pareto tail is fitted to the peaks of the largest (peaks
 * over threshold, tail-fit.ts), and the multiplier is the level whose expected exceedances meet the target.
 * Per feature first, on the whole-window rule only, because the excursions come from a few features in a
 * few states (voltage and rps at low rotor speed above all) and from that rule (the onset rule's normal
 * errors stay well below its thresholds, and raising them delayed detection), then one common multiplier
 * of both rules over the whole detector (calibrateThresholds). The comparison that chose this method is in
 * the README.
 */
import type * as tf from '@tensorflow/tfjs';
import type { PreprocessingParams } from '../features/params';
import type { FeatureStatistics } from '../features/statistics';
import { FRAME_PERIOD_MS } from '../turbine/schema';
import type { FarmSet } from '../turbine/farm';
import { alarmLevels, episodePeaks, featureAlarmLevels, scaleThresholds, type ScoredNormalWindows } from './alarm-levels';
import { calibrationScoring, type CalibrationSource, scoreCalibrationSource, scoredNormalWindows } from './calibration-data';
import { seededUniform } from './random';
import { fitParetoTail, type ParetoTail, tailQuantile } from './tail-fit';
import type { Thresholds } from './thresholds';

/** The false-alarm rate thresholds are fitted for when none is given (per turbine-day; issue 16). */
export const DEFAULT_FALSE_ALARM_TARGET = 0.5;

export interface CalibrationOptions {
  /** Target false alarms per turbine-day on normal data. */
  targetPerTurbineDay: number;
  /** Excursion peaks the tail is fitted to (the largest ones). */
  peaks: number;
  /**
   * Smallest tail shape used: 0 (an exponential tail) by default, so that a short-tailed fit on a few tens
   * of peaks never promises a bound on normal excursions that the data cannot show.
   */
  minShape: number;
  /** Smallest multiplier returned (1 in calibrateThresholds: never below the budget rule). */
  minMultiplier: number;
  /**
   * 0: the multiplier is the tail's point estimate. Otherwise the `confidence` quantile of the multipliers
   * refitted on `resamples` parametric bootstrap samples of the excursions (their count Poisson, their peaks
   * drawn from the fitted tail): an upper confidence bound, so that a tail fitted on a few tens of peaks
   * errs towards fewer false alarms rather than more.
   */
  confidence: number;
  resamples: number;
}

export const DEFAULT_CALIBRATION: Readonly<CalibrationOptions> = Object.freeze({ targetPerTurbineDay: DEFAULT_FALSE_ALARM_TARGET, peaks: 40, minShape: 0, minMultiplier: 0, confidence: 0, resamples: 400 });

/** One tail fit: the multiplier whose expected excursions per turbine-day meet a target. */
export interface RateCalibration {
  targetPerTurbineDay: number;
  multiplier: number;
  /** Excursions over `level` (alarm-level units), their rate per turbine-day, and the tail of their peaks. */
  level: number;
  peaks: number;
  peaksPerTurbineDay: number;
  tail: ParetoTail;
  /** The tail's point estimate of the multiplier; `multiplier` is above it with a confidence bound. */
  pointMultiplier: number;
  confidence: number;
}

/** What the calibration found; detector.json keeps it in training.falseAlarm (informational). */
export interface FalseAlarmCalibration {
  method: 'peaks-over-threshold, per feature (whole-window rule) then common, upper confidence bound';
  /** Target for the whole detector; each feature was fitted for an equal share of it. */
  targetPerTurbineDay: number;
  /** Normal time of the calibration data. */
  normalTurbineDays: number;
  /** Multiplier applied to each feature's whole-window error threshold, window feature order. */
  multipliers: number[];
  /** Multiplier applied to each feature's onset threshold (the common stage's alone). */
  onsetMultipliers: number[];
  /** Each feature's tail fit (an equal share of the target), then the common one over the whole detector. */
  features: RateCalibration[];
  detector: RateCalibration;
}

/** Normal turbine-days covered by `windows` windows taken every `strideFrames` frames. */
export function windowTurbineDays(windows: number, strideFrames: number): number {
  return (windows * strideFrames * FRAME_PERIOD_MS) / 86_400_000;
}

/**
 * The threshold multiplier whose expected false alarms on normal data are `targetPerTurbineDay`, from the
 * alarm levels of normal windows (`groups`: one id per contiguous series) covering `normalTurbineDays`.
 */
export function calibrateFalseAlarmRate(levels: ArrayLike<number>, groups: ArrayLike<number>, normalTurbineDays: number, options: Partial<CalibrationOptions> = {}): RateCalibration {
  const o = { ...DEFAULT_CALIBRATION, ...options };
  if (!(o.targetPerTurbineDay > 0 && Number.isFinite(o.targetPerTurbineDay))) throw new Error(`false-alarm target must be a positive number per turbine-day, got ${o.targetPerTurbineDay}`);
  if (!Number.isInteger(o.peaks) || o.peaks < 10) throw new Error(`calibration peaks must be an integer >= 10, got ${o.peaks}`);
  if (!(normalTurbineDays > 0)) throw new Error(`calibration: normal time must be positive, got ${normalTurbineDays} turbine-days`);
  let top = 0;
  for (let i = 0; i < levels.length; i++) if (Number.isFinite(levels[i]) && levels[i] > top) top = levels[i];
  // Excursions first multiply as the level rises from 0 (long runs break up), then thin out. Start from the
  // level with the most on a coarse grid, then bisect towards the level with o.peaks excursions over it.
  let lo = 0;
  let most = -1;
  for (let g = 0; g < 20; g++) {
    const count = episodePeaks(levels, groups, (top * g) / 20).length;
    if (count > most) [lo, most] = [(top * g) / 20, count];
  }
  if (most < o.peaks) throw new Error(`calibration: the normal data has at most ${most} excursions, fewer than the ${o.peaks} a tail is fitted to; give more normal data`);
  let hi = top;
  for (let k = 0; k < 40; k++) {
    const mid = (lo + hi) / 2;
    if (episodePeaks(levels, groups, mid).length >= o.peaks) lo = mid;
    else hi = mid;
  }
  const peaks = episodePeaks(levels, groups, lo).filter(Number.isFinite);
  // Infinite levels (a stuck-sensor alarm) no multiplier can raise: only finite peaks describe the tail.
  if (peaks.length < 5) throw new Error(`calibration: only ${peaks.length} excursions of the normal data can be moved by a threshold multiplier (the rest are stuck-sensor alarms); give more normal data, or train with a false-alarm target of 0`);
  const fit = fitParetoTail(peaks.map((p) => p - lo));
  const tail = { scale: fit.scale, shape: Math.max(fit.shape, o.minShape) };
  const rate = peaks.length / normalTurbineDays;
  const levelFor = (t: ParetoTail, r: number) => (o.targetPerTurbineDay >= r ? lo : lo + tailQuantile(t, o.targetPerTurbineDay / r));
  const point = levelFor(tail, rate);
  const fitted = o.confidence > 0 ? bootstrapLevel(tail, peaks.length, normalTurbineDays, o, levelFor) : point;
  return { targetPerTurbineDay: o.targetPerTurbineDay, multiplier: Math.max(fitted, o.minMultiplier), level: lo, peaks: peaks.length, peaksPerTurbineDay: rate, tail, pointMultiplier: Math.max(point, o.minMultiplier), confidence: o.confidence };
}

/** Seed of the calibration's bootstrap: the same data give the same thresholds. */
const BOOTSTRAP_SEED = 16;

/**
 * The `confidence` quantile of the level refitted on parametric bootstrap samples: `count` excursions a
 * Poisson count, their excesses drawn from `tail`, refitted (shape floored as the fit itself).
 */
function bootstrapLevel(tail: ParetoTail, count: number, days: number, o: CalibrationOptions, levelFor: (t: ParetoTail, rate: number) => number): number {
  if (!(o.confidence < 1)) throw new Error(`calibration confidence must be in [0, 1), got ${o.confidence}`);
  if (!Number.isInteger(o.resamples) || o.resamples < 20) throw new Error(`calibration resamples must be an integer >= 20, got ${o.resamples}`);
  const u = seededUniform(BOOTSTRAP_SEED);
  const levels: number[] = [];
  for (let b = 0; b < o.resamples; b++) {
    const n = Math.max(5, poissonSample(count, u));
    const excesses = Array.from({ length: n }, () => tailQuantile(tail, 1 - u()));
    const fit = fitParetoTail(excesses);
    levels.push(levelFor({ scale: fit.scale, shape: Math.max(fit.shape, o.minShape) }, n / days));
  }
  levels.sort((a, b) => a - b);
  return levels[Math.min(levels.length - 1, Math.floor(o.confidence * levels.length))];
}

/** A Poisson draw of mean `mean` by inversion of the CDF (means of a few tens here). */
function poissonSample(mean: number, uniform: () => number): number {
  const target = uniform();
  let k = 0;
  let p = Math.exp(-mean);
  let cdf = p;
  while (cdf < target && k < 10 * mean + 100) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}

/**
 * Confidence of the multipliers calibrateThresholds fits (an upper bound: CalibrationOptions.confidence).
 * Chosen on validation farms (README): with the onset rule left to the common stage, 0.7 / 0.8 / 0.9 gave
 * 9 / 7 / 5 false alarms in 12.2 model turbine-days at the same event F1 and delay.
 */
export const THRESHOLD_CONFIDENCE = 0.9;

/**
 * Excursion peaks each tail of calibrateThresholds is fitted to, given 2.5 or more normal turbine-days
 * (the default calibration farms have 2.65). Chosen on validation farms with those farms (README): against
 * 80 peaks, the same false alarms with a higher event F1.
 */
export const THRESHOLD_PEAKS = 120;

/** Peaks fitted on `normalTurbineDays` of calibration data: THRESHOLD_PEAKS from 2.5 days, proportionally fewer below, at least 40. */
export function calibrationPeaks(normalTurbineDays: number): number {
  return Math.max(40, Math.min(THRESHOLD_PEAKS, Math.round((THRESHOLD_PEAKS * normalTurbineDays) / 2.5)));
}

/**
 * The default calibration data: 4 farms of 96 turbines x 10 min of normal operation (64 turbine-hours)
 * on seeds no data set of the README uses. Many short turbines rather than a few long ones: each simulated
 * turbine starts in a stationary state, and the excursions that raise false alarms come with slow states
 * of one turbine (long spells of strong wind), so independent turbines sample them better than more time
 * on the same ones (measured: README). How many farms: README, Thresholds fitted for a false-alarm rate.
 */
export const CALIBRATION_FARMS: Readonly<FarmSet> = Object.freeze({ turbines: 96, minutes: 10, firstSeed: 777_001, count: 4 });

/**
 * Thresholds fitted for a false-alarm rate, from the model's alarm levels on normal calibration frames
 * (other turbines than the training data's, forward passes only), in two stages. Per feature, with only that
 * feature's whole-window threshold active, the multiplier of that threshold for an equal share of the
 * target: this allocates the raise to the features whose errors make the excursions. The onset thresholds
 * stay out of this stage: their normal errors stay well below them, and raising them with the feature only
 * delays detection (measured: README). Then one common multiplier of both rules on top, fitted on the
 * whole detector's alarm levels (every rule) with the per-feature multipliers applied, so that the target
 * holds for the detector as a whole (a debounced run can mix features and rules: window one over on
 * voltage, the next on the onset of rps). Both stages never go below 1: the budget rule's thresholds stay
 * the floor.
 */
export function calibrateThresholds(
  model: tf.LayersModel,
  thresholds: Thresholds,
  stats: FeatureStatistics,
  params: PreprocessingParams,
  source: CalibrationSource,
  options: Partial<CalibrationOptions> = {},
): { thresholds: Thresholds; calibration: FalseAlarmCalibration } {
  const scored = scoreCalibrationSource(model, source, stats, params, calibrationScoring(thresholds));
  return calibrateOnWindows(scoredNormalWindows(scored, thresholds), thresholds, windowTurbineDays(scored.count, params.stride), options);
}

/**
 * The calibration of calibrateThresholds on windows already scored (errors, onset errors, variation and
 * states of normal calibration windows covering `normalTurbineDays`): no model needed.
 */
export function calibrateOnWindows(windows: ScoredNormalWindows, thresholds: Thresholds, normalTurbineDays: number, options: Partial<CalibrationOptions> = {}): { thresholds: Thresholds; calibration: FalseAlarmCalibration } {
  const o = { ...DEFAULT_CALIBRATION, peaks: calibrationPeaks(normalTurbineDays), minMultiplier: 1, confidence: THRESHOLD_CONFIDENCE, ...options };
  const t = thresholds;
  const days = normalTurbineDays;
  // Per feature, only its whole-window threshold: the others, the onset rule and the stuck-sensor rule (which
  // no multiplier moves) off.
  const featureLevels = featureAlarmLevels(windows, t);
  const features = featureLevels.map((l) => calibrateFalseAlarmRate(l, windows.groups, days, { ...o, targetPerTurbineDay: o.targetPerTurbineDay / t.values.length }));
  const allocated = scaleThresholds(t, features.map((c) => c.multiplier), 1);
  const detector = calibrateFalseAlarmRate(alarmLevels(windows, allocated), windows.groups, days, o);
  const multipliers = features.map((c) => c.multiplier * detector.multiplier);
  const onsetMultipliers = t.values.map(() => detector.multiplier);
  const calibration: FalseAlarmCalibration = { method: 'peaks-over-threshold, per feature (whole-window rule) then common, upper confidence bound', targetPerTurbineDay: o.targetPerTurbineDay, normalTurbineDays: days, multipliers, onsetMultipliers, features, detector };
  return { thresholds: scaleThresholds(t, multipliers, onsetMultipliers), calibration };
}
