/**
 * Alarm levels: for each window, the largest common multiplier of the error thresholds at which the
 * detector still alarms on it. The detector with its error thresholds (whole-window and onset) multiplied
 * by k alarms on window i exactly when level[i] > k, so one pass over normal data gives the false alarms of
 * every k at once; that is what a threshold multiplier is calibrated on (calibration.ts).
 *
 * With e = the window's largest error ratio (whole-window and onset), flat = its stuck-sensor ratios, and F
 * the fast threshold (unchanged by k): the debounced rule alarms when every window j of the run has
 * e_j > k or a flat ratio over 1; the fast rule when e_i > k F or the second-largest flat ratio is over F.
 */
import type { OperatingState } from './conditioning';
import { type Thresholds, windowScores } from './thresholds';
import { errorRatio, flatRatio } from './window-score';
import { CHANNELS } from './windows';

/** Per-window inputs of the alarm levels: what windowScores takes, plus the turbine of each window. */
export interface ScoredNormalWindows {
  /** count x 6 errors over the thresholds' span, and over the onset rule's span (or null). */
  errors: Float32Array;
  recentErrors: Float32Array | null;
  /** count x 6 variation of the newest steps (stuck-sensor rule), or null. */
  variation: Float32Array | null;
  /** Operating states when the thresholds are conditioned (Thresholds.scale), else null. */
  states: readonly OperatingState[] | null;
  /** Turbine (or any series id) of each window; windows of a series are consecutive and in time order. */
  groups: ArrayLike<number>;
}

/** The alarm level of every window (see the module comment): the detector alarms on window i when level[i] > k. */
export function alarmLevels(windows: ScoredNormalWindows, thresholds: Thresholds): Float64Array {
  const count = windows.errors.length / CHANNELS;
  if (windows.groups.length !== count) throw new Error(`alarm levels: ${windows.groups.length} groups for ${count} windows`);
  const t = thresholds;
  const errorRatio = windowScores(windows.errors, t, null, t.recent ? windows.recentErrors : null, t.scale ? windows.states : null);
  const usesFlat = Boolean(t.flatline && windows.variation);
  // Level of one window for the debounced rule: its error ratio, or no limit when a feature is flat.
  const single = new Float64Array(count);
  const fastFlat = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    // The largest and second-largest stuck-sensor ratios of the window.
    let first = 0;
    let second = 0;
    for (let f = 0; usesFlat && f < CHANNELS; f++) {
      const r = flatRatio(t, windows.variation!, f, i * CHANNELS);
      if (r > first) [first, second] = [r, first];
      else if (r > second) second = r;
    }
    single[i] = first > 1 ? Infinity : errorRatio[i];
    if (t.fast && second > t.fast) fastFlat[i] = 1;
  }
  return debouncedLevels(single, errorRatio, fastFlat, windows.groups, t);
}

/**
 * Alarm levels of the detector with one feature's whole-window threshold alone (no onset or stuck-sensor
 * rule), for every feature: what alarmLevels gives for each such detector, from one pass over the windows'
 * conditioned error ratios instead of one per feature.
 */
export function featureAlarmLevels(windows: Pick<ScoredNormalWindows, 'errors' | 'states' | 'groups'>, thresholds: Thresholds): Float64Array[] {
  const count = windows.errors.length / CHANNELS;
  if (windows.groups.length !== count) throw new Error(`alarm levels: ${windows.groups.length} groups for ${count} windows`);
  const t = thresholds;
  if (t.scale && !windows.states) throw new Error('alarm levels: these thresholds are conditioned on the operating state; give the windows\' states');
  const ratios = t.values.map(() => new Float64Array(count));
  for (let i = 0; i < count; i++) {
    const state = t.scale ? windows.states![i] : null;
    for (let f = 0; f < CHANNELS; f++) ratios[f][i] = errorRatio(t, 'full', f, windows.errors[i * CHANNELS + f], state);
  }
  const noFlat = new Uint8Array(count);
  return ratios.map((r) => debouncedLevels(r, r, noFlat, windows.groups, t));
}

/**
 * Levels from each window's debounced-rule level (`single`), its error ratio and whether its stuck-sensor
 * ratios alone trip the fast rule: the debounced rule alarms over k when every window of the run is over k,
 * the fast rule when the window's ratio is over k times the fast threshold.
 */
function debouncedLevels(single: Float64Array, errorRatio: ArrayLike<number>, fastFlat: Uint8Array, groups: ArrayLike<number>, t: Thresholds): Float64Array {
  const count = single.length;
  const levels = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const fast = t.fast ? (fastFlat[i] ? Infinity : errorRatio[i] / t.fast) : 0;
    let debounced = Infinity;
    for (let k = 0; k < t.debounceWindows; k++) {
      const j = i - k;
      debounced = j < 0 || groups[j] !== groups[i] ? 0 : Math.min(debounced, single[j]);
      if (debounced === 0) break;
    }
    levels[i] = Math.max(debounced, fast);
  }
  return levels;
}

/**
 * Thresholds whose error thresholds are multiplied: the whole-window ones by k and the onset ones by `onsetK`
 * (default k), each one number for every feature or one per feature; other rules unchanged.
 */
export function scaleThresholds(thresholds: Thresholds, k: number | readonly number[], onsetK: number | readonly number[] = k): Thresholds {
  const perFeature = (m: number | readonly number[]) => {
    const ks = typeof m === 'number' ? thresholds.values.map(() => m) : m;
    if (ks.length !== thresholds.values.length) throw new Error(`threshold multipliers: ${ks.length} for ${thresholds.values.length} features`);
    for (const x of ks) if (!(x > 0 && Number.isFinite(x))) throw new Error(`threshold multiplier must be a positive number, got ${x}`);
    return ks;
  };
  const whole = perFeature(k);
  const onset = perFeature(onsetK);
  const recent = thresholds.recent;
  return { ...thresholds, values: thresholds.values.map((v, f) => v * whole[f]), ...(recent ? { recent: { ...recent, values: recent.values.map((v, f) => v * onset[f]) } } : {}) };
}

/**
 * Peaks of the episodes over `level`: each maximal run of consecutive windows of one group whose alarm
 * level is over `level` gives its largest level. At a multiplier k, the episodes with a peak over k are
 * the false alarms normal data raises (each episode over k is one alarm episode).
 */
export function episodePeaks(levels: ArrayLike<number>, groups: ArrayLike<number>, level = 0): number[] {
  if (groups.length !== levels.length) throw new Error(`episode peaks: ${groups.length} groups for ${levels.length} levels`);
  const peaks: number[] = [];
  let peak = -Infinity;
  for (let i = 0; i < levels.length; i++) {
    const over = levels[i] > level;
    const continues = over && i > 0 && levels[i - 1] > level && groups[i - 1] === groups[i];
    if (over && !continues) {
      if (peak > level) peaks.push(peak);
      peak = levels[i];
    } else if (over) peak = Math.max(peak, levels[i]);
  }
  if (peak > level) peaks.push(peak);
  return peaks;
}
