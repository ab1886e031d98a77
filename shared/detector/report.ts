/**
 * Evaluation of a detector on a labelled data set: the detector's figures (thresholds fitted for the
 * false-alarm budget, debounced) next to the same figures for the original threshold rule (mean training
 * error, no debouncing, as the workshop did) and a per-feature z-score baseline (no model: the error of
 * predicting the training mean, thresholds fitted the same way as the detector's).
 */
import { type FeatureStatistics } from '../features/statistics';
import type { PreprocessingParams } from '../features/params';
import { farmWindows, turbineSeries } from '../features/farm';
import { parseEventTime } from '../turbine/event-time';
import type { FaultLabel } from '../turbine/faults';
import type { FrameColumns } from '../turbine/schema';
import { type Coverage, DEFAULT_EVALUATION, type DetectionMetrics, evaluateDetections, type EvaluationOptions, validateLabels } from './evaluation';
import { type OperatingState, operatingStates } from './conditioning';
import { windowVariation, zScoreErrors } from './scoring';
import { debouncedAlarms, fastScores, type Thresholds, windowScores } from './thresholds';
import type { WindowSet } from './windows';

/** What `npm run evaluate` prints. */
export interface EvaluationReport extends DetectionMetrics {
  baselines: {
    original_threshold: DetectionMetrics;
    zscore: DetectionMetrics;
  };
  data: { turbines: number; frames: number; windows: number; rejected_frames: number; turbine_hours: number; labels: number };
  definitions: string;
}

/** Per-window results behind a report, for plots (timelines, error distributions, ROC). */
export interface WindowResults {
  turbineId: Int32Array;
  timeMs: Float64Array;
  /** count x 6 model errors and z-score baseline errors. */
  errors: Float32Array;
  /** count x 6 variation of the newest steps (stuck-sensor rule), or null if the detector has none. */
  variation: Float32Array | null;
  zErrors: Float32Array;
  /** Operating state of each window when the thresholds are conditioned on it (Thresholds.scale), else null. */
  states: OperatingState[] | null;
  scores: Float64Array;
  alarms: Uint8Array;
}

/** The pieces of a detector evaluation needs (a loaded Detector or the training pipeline's state). */
export interface Scorable {
  /**
   * Per-feature errors averaged over each window's newest `spans[k]` steps, one array per span, from one
   * reconstruction of the windows (reconstructionErrorsOver).
   */
  scoreWindowsOver(set: WindowSet, spans: readonly number[]): Float32Array[];
  stats: FeatureStatistics;
  params: PreprocessingParams;
  thresholds: Thresholds;
  originalThresholds: Thresholds;
  zScoreThresholds: Thresholds;
}

export const EVALUATION_DEFINITIONS =
  'time = eventTime of a window\'s last frame; event interval = [start - preS, end + graceS] on the label\'s turbine; ' +
  'detected = a debounced alarm inside it; delay = first such alarm - start (>= 0); false alarm = alarm episode ' +
  '(consecutive alarming windows) touching no event interval; precision = detected / (detected + false alarms); ' +
  'false alarms per turbine-day over normal time (coverage minus event intervals); auc over windows, positive = inside an event interval.';

/** First and last eventTime (ms) of each turbine in farm frames. */
export function frameCoverage(frames: FrameColumns): Coverage {
  const coverage: Coverage = new Map();
  const ids = frames.columns.turbineId;
  for (let i = 0; i < frames.length; i++) {
    const t = parseEventTime(frames.eventTime[i]);
    if (!Number.isFinite(t)) continue;
    const c = coverage.get(ids[i]);
    if (!c) coverage.set(ids[i], { startMs: t, endMs: t });
    else {
      if (t < c.startMs) c.startMs = t;
      if (t > c.endMs) c.endMs = t;
    }
  }
  return coverage;
}

/** Evaluates a detector on farm frames against labels; returns the report and the per-window results. */
export function evaluateOnFrames(
  detector: Scorable,
  frames: FrameColumns,
  labels: readonly FaultLabel[],
  options: Partial<EvaluationOptions> = {},
): { report: EvaluationReport; windows: WindowResults } {
  const coverage = frameCoverage(frames);
  validateLabels(labels, coverage); // before the expensive part
  const fw = farmWindows(turbineSeries(frames), detector.stats, detector.params);
  if (fw.count === 0) throw new Error(`evaluation data: no complete window (${detector.params.windowLength} frames) in ${frames.length} frames`);
  const set = { windows: fw.windows, count: fw.count };
  const recent = detector.thresholds.recent;
  // The thresholds' span, the onset rule's and the whole window (the original rule's), from one reconstruction.
  const [errors, fullErrors, recentErrors = null] = detector.scoreWindowsOver(set, [detector.thresholds.errorSteps, 100, ...(recent ? [recent.errorSteps] : [])]);
  const variation = detector.thresholds.flatline ? windowVariation(set, detector.thresholds.variationSteps) : null;
  const zErrors = zScoreErrors(set);
  const timeMs = Float64Array.from(fw.endRow, (r) => parseEventTime(frames.eventTime[r]));
  const states = detector.thresholds.scale ? operatingStates(set, detector.thresholds.scale.recentSteps) : null;
  const run = (errs: Float32Array, t: Thresholds) => {
    const scores = windowScores(errs, t, t.flatline ? variation : null, t.recent ? recentErrors : null, t.scale ? states : null);
    const fast = t.fast ? fastScores(errs, t, t.flatline ? variation : null, t.recent ? recentErrors : null, t.scale ? states : null) : scores;
    const alarms = debouncedAlarms(scores, t.debounceWindows, fw.turbineId, t.fast, fast);
    return { scores, alarms, metrics: evaluateDetections({ turbineId: fw.turbineId, timeMs, scores, alarms }, labels, coverage, options) };
  };
  const main = run(errors, detector.thresholds);
  let hours = 0;
  for (const c of coverage.values()) hours += (c.endMs - c.startMs) / 3_600_000;
  const report: EvaluationReport = {
    ...main.metrics,
    baselines: {
      original_threshold: run(fullErrors, detector.originalThresholds).metrics,
      zscore: run(zErrors, detector.zScoreThresholds).metrics,
    },
    data: { turbines: coverage.size, frames: frames.length, windows: fw.count, rejected_frames: fw.rejectedFrames, turbine_hours: hours, labels: labels.length },
    definitions: `${EVALUATION_DEFINITIONS} preS = ${options.preS ?? DEFAULT_EVALUATION.preS} s, graceS = ${options.graceS ?? DEFAULT_EVALUATION.graceS} s.`,
  };
  return { report, windows: { turbineId: fw.turbineId, timeMs, errors, variation, zErrors, states, scores: main.scores, alarms: main.alarms } };
}

/** The report's headline figures as table rows: the detector, then the baselines. */
export function evaluationRows(report: EvaluationReport): Array<Record<string, string | number | null>> {
  const row = (name: string, m: DetectionMetrics) => ({
    detector: name,
    event_f1: round(m.event_f1),
    event_precision: round(m.event_precision),
    event_recall: round(m.event_recall),
    median_delay_s: m.median_delay_s === null ? null : round(m.median_delay_s),
    p95_delay_s: m.p95_delay_s === null ? null : round(m.p95_delay_s),
    false_alarms_per_turbine_day: round(m.false_alarms_per_turbine_day),
    auc: m.auc === null ? null : round(m.auc),
  });
  return [row('autoencoder, budget thresholds (default)', report), row('autoencoder, original rule (mean error)', report.baselines.original_threshold), row('per-feature z-score baseline', report.baselines.zscore)];
}

/** Recall and median delay per fault kind and severity, as table rows. */
export function perKindRows(report: EvaluationReport): Array<Record<string, string | number | null>> {
  return Object.entries(report.per_kind).map(([kind, k]) => ({
    kind,
    recall: `${k.detected}/${k.events}`,
    delay_s: k.median_delay_s === null ? null : round(k.median_delay_s),
    mild_recall: `${k.mild.detected}/${k.mild.events}`,
    mild_delay_s: k.mild.median_delay_s === null ? null : round(k.mild.median_delay_s),
    severe_recall: `${k.severe.detected}/${k.severe.events}`,
    severe_delay_s: k.severe.median_delay_s === null ? null : round(k.severe.median_delay_s),
  }));
}

function round(x: number): number {
  return Number(x.toFixed(3));
}

/** 1 for windows whose time falls inside an event interval of their turbine (the AUC's positives), else 0. */
export function positiveWindows(windows: { turbineId: ArrayLike<number>; timeMs: ArrayLike<number> }, labels: readonly FaultLabel[], options: Partial<EvaluationOptions> = {}): Uint8Array {
  const o = { ...DEFAULT_EVALUATION, ...options };
  const spans = labels.map((l) => ({ t: l.turbineId, from: parseEventTime(l.start) - o.preS * 1000, to: parseEventTime(l.end) + o.graceS * 1000 }));
  const out = new Uint8Array(windows.timeMs.length);
  for (let i = 0; i < out.length; i++) out[i] = spans.some((s) => s.t === windows.turbineId[i] && windows.timeMs[i] >= s.from && windows.timeMs[i] <= s.to) ? 1 : 0;
  return out;
}
