/**
 * Operating-state conditioning of reconstruction errors. A normal window's error has no single size: roll
 * and pitch carry vibration that grows with rotor speed, and rps and voltage are harder to reconstruct
 * while the rotor speeds up or slows down. One fixed threshold per feature must sit above the worst normal
 * state, which makes it lenient (slow) everywhere else, and it still misses normal states the held-out data
 * did not show (a stop braked from high speed, a strong gust).
 *
 * The error scale model predicts each conditioned feature's typical (geometric-mean) error from the
 * window's operating state, by least squares on the log errors of the normal training and held-out
 * windows; thresholds then apply to error / expected error. The state is the normalised rotor speed only:
 * its level over the error's span and how much it changed within the window.
 */
import { CHANNELS, type WindowSet, WINDOW_SIZE } from './windows';

/** Channel of rps in a window (feature order roll, pitch, yaw, wind_speed_rps, rps, voltage). */
export const RPS_CHANNEL = 4;
const STEPS = WINDOW_SIZE / CHANNELS;

/**
 * Features whose errors are conditioned: roll and pitch (vibration grows with rotor speed), rps and voltage
 * (transients). Chosen on validation farms: conditioning yaw and wind speed as well cost recall (their
 * errors do not follow rotor speed, and a fault that changes the rotor speed would excuse itself).
 */
export const CONDITIONED_FEATURES: readonly number[] = Object.freeze([0, 1, 4, 5]);

/** A window's operating state, in normalised rps (training standard deviations). */
export interface OperatingState {
  /** Mean rps over the whole window. */
  level: number;
  /** Mean rps over the newest `recentSteps` steps. */
  recentLevel: number;
  /** |level - recentLevel|: how much the rotor sped up or slowed down within the window. */
  change: number;
}

/** Log-linear model of the expected error: coefficients of [1, level, level^2, change, change x level] per feature. */
export interface ErrorScale {
  /** Per feature (window order): coefficients for the whole-window error, or null (not conditioned). */
  full: Array<number[] | null>;
  /** The same for the onset rule's newest-steps error (level = recentLevel). */
  recent: Array<number[] | null>;
  /** Newest steps recentLevel and change are taken over. */
  recentSteps: number;
  /** Levels and changes are clamped to the range of the fitting windows: the model never extrapolates. */
  levelRange: [number, number];
  changeMax: number;
}

export const SCALE_COEFFICIENTS = 5;

/** The operating state of the window starting at `offset` in `windows` (NCHW, 6 x 100 steps). */
export function operatingState(windows: ArrayLike<number>, offset: number, recentSteps: number): OperatingState {
  const base = offset + RPS_CHANNEL * STEPS;
  let all = 0;
  let recent = 0;
  for (let k = 0; k < STEPS; k++) {
    const v = windows[base + k];
    all += v;
    if (k >= STEPS - recentSteps) recent += v;
  }
  const level = all / STEPS;
  const recentLevel = recent / recentSteps;
  return { level, recentLevel, change: Math.abs(level - recentLevel) };
}

/** operatingState of every window of a set. */
export function operatingStates(set: WindowSet, recentSteps: number): OperatingState[] {
  checkSteps(recentSteps);
  return Array.from({ length: set.count }, (_, i) => operatingState(set.windows, i * WINDOW_SIZE, recentSteps));
}

function checkSteps(recentSteps: number): void {
  if (!Number.isInteger(recentSteps) || recentSteps < 1 || recentSteps > STEPS) throw new Error(`recentSteps must be an integer from 1 to ${STEPS}, got ${recentSteps}`);
}

function covariates(scale: Pick<ErrorScale, 'levelRange' | 'changeMax'> | null, state: OperatingState, span: 'full' | 'recent'): number[] {
  let level = span === 'full' ? state.level : state.recentLevel;
  let change = state.change;
  if (scale) {
    level = Math.min(Math.max(level, scale.levelRange[0]), scale.levelRange[1]);
    change = Math.min(change, scale.changeMax);
  }
  return [1, level, level * level, change, change * level];
}

/** Expected error of `feature` for a window in `state` (1 when the feature is not conditioned). */
export function expectedError(scale: ErrorScale, span: 'full' | 'recent', feature: number, state: OperatingState): number {
  const coefficients = scale[span][feature];
  if (!coefficients) return 1;
  const x = covariates(scale, state, span);
  let log = 0;
  for (let k = 0; k < SCALE_COEFFICIENTS; k++) log += coefficients[k] * x[k];
  return Math.exp(log);
}

/** errors (count x 6) divided by their expected values: what conditioned thresholds are fitted on. */
export function normaliseErrors(errors: Float32Array, states: readonly OperatingState[], scale: ErrorScale, span: 'full' | 'recent'): Float32Array {
  if (errors.length !== states.length * CHANNELS) throw new Error(`normaliseErrors: ${errors.length} errors for ${states.length} windows`);
  const out = new Float32Array(errors.length);
  for (let i = 0; i < states.length; i++) for (let f = 0; f < CHANNELS; f++) out[i * CHANNELS + f] = errors[i * CHANNELS + f] / expectedError(scale, span, f, states[i]);
  return out;
}

/**
 * Fits the error scale model on normal windows: per conditioned feature, least squares of log(error) on the
 * covariates, for the whole-window errors and the newest-steps errors. Throws on non-finite or negative
 * errors, or too few windows to fit.
 */
export function fitErrorScale(
  fullErrors: Float32Array,
  recentErrors: Float32Array,
  states: readonly OperatingState[],
  recentSteps: number,
  features: readonly number[] = CONDITIONED_FEATURES,
): ErrorScale {
  checkSteps(recentSteps);
  const count = states.length;
  if (count < 10 * SCALE_COEFFICIENTS) throw new Error(`error scale: need at least ${10 * SCALE_COEFFICIENTS} normal windows, got ${count}`);
  for (const [name, errors] of [['whole-window', fullErrors], ['newest-steps', recentErrors]] as const) {
    if (errors.length !== count * CHANNELS) throw new Error(`error scale: ${errors.length} ${name} errors for ${count} windows`);
    for (let i = 0; i < errors.length; i++) {
      if (!(errors[i] >= 0) || !Number.isFinite(errors[i])) throw new Error(`error scale: ${name} error of window ${Math.floor(i / CHANNELS)}, feature ${i % CHANNELS} is ${errors[i]}`);
    }
  }
  for (const f of features) if (!Number.isInteger(f) || f < 0 || f >= CHANNELS) throw new Error(`error scale: feature index ${f} is not one of 0..${CHANNELS - 1}`);
  let lo = Infinity;
  let hi = -Infinity;
  let changeMax = 0;
  for (const s of states) {
    if (!Number.isFinite(s.level) || !Number.isFinite(s.recentLevel) || !Number.isFinite(s.change)) throw new Error('error scale: operating states must be finite');
    lo = Math.min(lo, s.level, s.recentLevel);
    hi = Math.max(hi, s.level, s.recentLevel);
    changeMax = Math.max(changeMax, s.change);
  }
  const fit = (errors: Float32Array, span: 'full' | 'recent') =>
    Array.from({ length: CHANNELS }, (_, f) => (features.includes(f) ? leastSquaresLog(errors, f, states.map((s) => covariates(null, s, span))) : null));
  return { full: fit(fullErrors, 'full'), recent: fit(recentErrors, 'recent'), recentSteps, levelRange: [lo, hi], changeMax };
}

/** Least squares of log(max(error, tiny)) on the covariate rows (normal equations, a small ridge for stability). */
function leastSquaresLog(errors: Float32Array, feature: number, rows: number[][]): number[] {
  const n = SCALE_COEFFICIENTS;
  const a = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  rows.forEach((x, i) => {
    const y = Math.log(Math.max(errors[i * CHANNELS + feature], 1e-9));
    for (let r = 0; r < n; r++) {
      a[r][n] += x[r] * y;
      for (let c = 0; c < n; c++) a[r][c] += x[r] * x[c];
    }
  });
  for (let r = 0; r < n; r++) a[r][r] += 1e-6 * rows.length;
  // Gauss-Jordan with partial pivoting on the augmented (n x n+1) system.
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const k = a[r][c] / a[c][c];
      for (let j = c; j <= n; j++) a[r][j] -= k * a[c][j];
    }
  }
  return a.map((row, i) => row[n] / row[i]);
}

/** Checks an ErrorScale read from a file; throws naming the first problem. */
export function validateErrorScale(scale: unknown, features: number, where: string): asserts scale is ErrorScale {
  const s = scale as ErrorScale;
  if (typeof s !== 'object' || s === null) throw new Error(`${where}: scale must be an object`);
  for (const span of ['full', 'recent'] as const) {
    const list = s[span];
    if (!Array.isArray(list) || list.length !== features) throw new Error(`${where}: scale.${span} must hold ${features} entries`);
    list.forEach((c, f) => {
      if (c !== null && (!Array.isArray(c) || c.length !== SCALE_COEFFICIENTS || !c.every(Number.isFinite))) {
        throw new Error(`${where}: scale.${span}[${f}] must be null or ${SCALE_COEFFICIENTS} finite numbers`);
      }
    });
  }
  if (!Number.isInteger(s.recentSteps) || s.recentSteps < 1 || s.recentSteps > STEPS) throw new Error(`${where}: scale.recentSteps must be an integer from 1 to ${STEPS}`);
  if (!Array.isArray(s.levelRange) || s.levelRange.length !== 2 || !s.levelRange.every(Number.isFinite) || s.levelRange[0] > s.levelRange[1]) {
    throw new Error(`${where}: scale.levelRange must be [low, high] finite numbers`);
  }
  if (!(Number.isFinite(s.changeMax) && s.changeMax >= 0)) throw new Error(`${where}: scale.changeMax must be a non-negative number`);
}
