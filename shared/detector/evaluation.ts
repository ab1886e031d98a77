/**
 * Event-wise evaluation, the way wind-turbine fault detection is reported. Definitions (time base: the
 * eventTime of a window's last frame, "window time" below; a label's start/end are its first/last frame):
 *
 * - Event interval of a label: [start - preS, end + graceS] on its turbine. preS (default 1.6 s, one
 *   denoising block) because the block denoiser lets a fault reach the frames of its block before the
 *   start; graceS (default 6.6 s, one window of 5 s plus a block) because windows ending that long after
 *   the end still hold faulty frames.
 * - An event is detected when an alarm (debounced) on its turbine has a window time inside its interval.
 *   Its delay is the first such window time minus start, clamped at 0 (seconds).
 * - Alarm episode: a maximal run of consecutive alarming windows of one turbine. A false alarm is an
 *   episode with no window time inside any event interval of that turbine.
 * - event_precision = detected / (detected + false alarms); event_recall = detected / events; F1 their
 *   harmonic mean. false_alarms_per_turbine_day = false alarms / normal time, where normal time is each
 *   turbine's covered time (first to last window time) minus the union of its event intervals.
 * - auc: ROC AUC of the window score (max over features of error / threshold), positives = windows whose
 *   time is inside an event interval of their turbine, negatives = all other windows (ties count half).
 */
import type { FaultLabel } from '../turbine/faults';
import { parseEventTime } from '../turbine/event-time';

/** Scored windows of a data set, in turbine order and time order within a turbine. */
export interface ScoredWindows {
  turbineId: ArrayLike<number>;
  /** Window time (epoch ms of the last frame's eventTime). */
  timeMs: ArrayLike<number>;
  /** Window score (> 1 means over threshold on some feature). */
  scores: ArrayLike<number>;
  /** Debounced alarm flag per window (1 = alarm). */
  alarms: ArrayLike<number>;
}

/** First and last frame time of each turbine in the data (epoch ms). */
export type Coverage = Map<number, { startMs: number; endMs: number }>;

export interface EvaluationOptions {
  preS: number;
  graceS: number;
}
export const DEFAULT_EVALUATION: Readonly<EvaluationOptions> = Object.freeze({ preS: 1.6, graceS: 6.6 });

export interface GroupRecall {
  events: number;
  detected: number;
  recall: number;
  median_delay_s: number | null;
}

/** Recall of one fault kind (under the name its labels give), and of its labels marked mild and severe. */
export interface KindRecall extends GroupRecall {
  mild: GroupRecall;
  severe: GroupRecall;
}

export interface DetectionMetrics {
  event_precision: number;
  event_recall: number;
  event_f1: number;
  median_delay_s: number | null;
  p95_delay_s: number | null;
  false_alarms_per_turbine_day: number;
  auc: number | null;
  per_kind: Record<string, KindRecall>;
  events: number;
  detected: number;
  false_alarms: number;
  alarm_episodes: number;
  normal_turbine_days: number;
}

interface Interval {
  label: FaultLabel;
  fromMs: number;
  toMs: number;
  startMs: number;
}

/** Checks labels against the data: known turbine, inside its time range; throws naming the label. */
export function validateLabels(labels: readonly FaultLabel[], coverage: Coverage): void {
  labels.forEach((l, i) => {
    const where = `label ${i + 1} (turbine ${l.turbineId}, ${l.start} to ${l.end}, ${l.kind}${l.severity ? `:${l.severity}` : ''})`;
    const c = coverage.get(l.turbineId);
    if (!c) throw new Error(`${where}: turbine ${l.turbineId} is not in the data (turbines: ${[...coverage.keys()].join(', ')})`);
    const s = parseEventTime(l.start);
    const e = parseEventTime(l.end);
    if (!Number.isFinite(s) || !Number.isFinite(e) || e < s) throw new Error(`${where}: start and end must be date-times with start <= end`);
    if (s < c.startMs || e > c.endMs) {
      throw new Error(`${where}: lies outside the data's time range for that turbine (${new Date(c.startMs).toISOString()} to ${new Date(c.endMs).toISOString()})`);
    }
  });
}

/** Event-wise precision, recall, F1, delays, false alarms and AUC of scored windows against labels. */
export function evaluateDetections(scored: ScoredWindows, labels: readonly FaultLabel[], coverage: Coverage, options: Partial<EvaluationOptions> = {}): DetectionMetrics {
  const o = { ...DEFAULT_EVALUATION, ...options };
  validateLabels(labels, coverage);
  const n = scored.scores.length;
  if (scored.turbineId.length !== n || scored.timeMs.length !== n || scored.alarms.length !== n) throw new Error('scored windows: turbineId, timeMs, scores and alarms must have one value per window');
  const byTurbine = new Map<number, Interval[]>();
  for (const label of labels) {
    const startMs = parseEventTime(label.start);
    const list = byTurbine.get(label.turbineId) ?? [];
    list.push({ label, startMs, fromMs: startMs - o.preS * 1000, toMs: parseEventTime(label.end) + o.graceS * 1000 });
    byTurbine.set(label.turbineId, list);
  }
  const insideAny = (turbine: number, t: number): Interval | null => {
    for (const iv of byTurbine.get(turbine) ?? []) if (t >= iv.fromMs && t <= iv.toMs) return iv;
    return null;
  };

  // Detections and delays.
  const firstAlarm = new Map<Interval, number>();
  const positive = new Uint8Array(n);
  let episodes = 0;
  let falseAlarms = 0;
  let episodeTrue = false;
  for (let i = 0; i < n; i++) {
    const turbine = scored.turbineId[i];
    const t = scored.timeMs[i];
    const iv = insideAny(turbine, t);
    if (iv) positive[i] = 1;
    const alarm = scored.alarms[i] === 1;
    const continues = alarm && i > 0 && scored.alarms[i - 1] === 1 && scored.turbineId[i - 1] === turbine;
    if (alarm && !continues) {
      if (i > 0 && episodes > 0 && !episodeTrue) falseAlarms++;
      episodes++;
      episodeTrue = false;
    }
    if (alarm) {
      if (iv) {
        episodeTrue = true;
        if (!firstAlarm.has(iv)) firstAlarm.set(iv, t);
      }
      // A long episode may run over several events: credit every event it touches.
      for (const other of byTurbine.get(turbine) ?? []) if (other !== iv && t >= other.fromMs && t <= other.toMs && !firstAlarm.has(other)) firstAlarm.set(other, t);
    }
  }
  if (episodes > 0 && !episodeTrue) falseAlarms++;

  const intervals = [...byTurbine.values()].flat();
  const delays = intervals.filter((iv) => firstAlarm.has(iv)).map((iv) => Math.max(0, (firstAlarm.get(iv)! - iv.startMs) / 1000));
  const detected = delays.length;
  const events = intervals.length;
  const precision = detected + falseAlarms === 0 ? 0 : detected / (detected + falseAlarms);
  const recall = events === 0 ? 0 : detected / events;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);

  let normalMs = 0;
  for (const [turbine, c] of coverage) normalMs += c.endMs - c.startMs - unionLength(byTurbine.get(turbine) ?? [], c.startMs, c.endMs);
  const normalDays = normalMs / 86_400_000;

  const perKind: Record<string, KindRecall> = {};
  const group = (list: Interval[]): GroupRecall => {
    const d = list.filter((iv) => firstAlarm.has(iv)).map((iv) => Math.max(0, (firstAlarm.get(iv)! - iv.startMs) / 1000));
    return { events: list.length, detected: d.length, recall: list.length ? d.length / list.length : 0, median_delay_s: quantile(d, 0.5) };
  };
  for (const kind of [...new Set(intervals.map((iv) => iv.label.kind))].sort()) {
    const list = intervals.filter((iv) => iv.label.kind === kind);
    perKind[kind] = { ...group(list), mild: group(list.filter((iv) => iv.label.severity === 'mild')), severe: group(list.filter((iv) => iv.label.severity === 'severe')) };
  }

  return {
    event_precision: precision,
    event_recall: recall,
    event_f1: f1,
    median_delay_s: quantile(delays, 0.5),
    p95_delay_s: quantile(delays, 0.95),
    false_alarms_per_turbine_day: normalDays > 0 ? falseAlarms / normalDays : 0,
    auc: rocAuc(scored.scores, positive),
    per_kind: perKind,
    events,
    detected,
    false_alarms: falseAlarms,
    alarm_episodes: episodes,
    normal_turbine_days: normalDays,
  };
}

/** Length (ms) of the union of intervals clipped to [from, to]. */
function unionLength(list: Interval[], from: number, to: number): number {
  const spans = list.map((iv) => [Math.max(from, iv.fromMs), Math.min(to, iv.toMs)] as const).filter(([a, b]) => b > a).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let curA = -Infinity;
  let curB = -Infinity;
  for (const [a, b] of spans) {
    if (a > curB) {
      if (curB > curA) total += curB - curA;
      curA = a;
      curB = b;
    } else curB = Math.max(curB, b);
  }
  if (curB > curA) total += curB - curA;
  return total;
}

/** Linear-interpolated quantile (numpy's default), or null for no values. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** ROC AUC by the rank-sum (Mann–Whitney) formula, ties counted half; null without both classes. */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<number>): number | null {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (positive[order[k]]) {
      pos++;
      rankSum += rank;
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** ROC curve points (false positive rate, true positive rate) at up to `points` thresholds, for plots. */
export function rocCurve(scores: ArrayLike<number>, positive: ArrayLike<number>, points = 200): { fpr: number[]; tpr: number[] } {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let P = 0;
  for (let i = 0; i < n; i++) P += positive[i] ? 1 : 0;
  const N = n - P;
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  const step = Math.max(1, Math.floor(n / points));
  for (let k = 0; k < n; k++) {
    if (positive[order[k]]) tp++;
    else fp++;
    if ((k + 1) % step === 0 || k === n - 1) {
      fpr.push(N ? fp / N : 0);
      tpr.push(P ? tp / P : 0);
    }
  }
  return { fpr, tpr };
}
