/**
 * Raw feature extraction: the six feature series (roll, pitch, yaw from the quaternion; wind_speed_rps, rps,
 * voltage as recorded) from column-wise frames, and which frames are usable at all.
 */
import type { FrameColumns, NumericColumn } from '../turbine/schema';
import { FEATURE_COUNT, pitchOf, rollOf, yawOf } from './euler';

/** The raw columns the features are computed from; a frame is usable when all of them are finite. */
export const FEATURE_INPUT_COLUMNS: readonly NumericColumn[] = ['qx', 'qy', 'qz', 'qw', 'wind_speed_rps', 'rps', 'voltage'];

/** The six raw feature series, in FEATURE_NAMES order; a bad input gives NaN (nothing is dropped). */
export function extractFeatures(frames: FrameColumns): Float64Array[] {
  return extractFeatureRows(frames, null);
}

/** The six raw feature series for the given frame indexes only (all frames when `rows` is null). */
export function extractFeatureRows(frames: FrameColumns, rows: Int32Array | null): Float64Array[] {
  const n = rows ? rows.length : frames.length;
  const out = Array.from({ length: FEATURE_COUNT }, () => new Float64Array(n));
  extractFeaturesInto(frames, rows, 0, n, out);
  return out;
}

/**
 * Writes the features of steps [from, from + count) (frame rows[k], or frame k when rows is null) to
 * out[f][0 .. count). One tight loop: it is part of the batch throughput.
 */
export function extractFeaturesInto(frames: FrameColumns, rows: Int32Array | null, from: number, count: number, out: Float64Array[]): void {
  const c = frames.columns;
  const [roll, pitch, yaw, wind, rps, voltage] = out;
  const { qx, qy, qz, qw } = c;
  const windIn = c.wind_speed_rps;
  const rpsIn = c.rps;
  const voltageIn = c.voltage;
  // Local bindings: calling through the module's export accessors in the loop costs measurably.
  const rollFn = rollOf;
  const pitchFn = pitchOf;
  const yawFn = yawOf;
  for (let k = 0; k < count; k++) {
    const i = rows ? rows[from + k] : from + k;
    const x = qx[i];
    const y = qy[i];
    const z = qz[i];
    const w = qw[i];
    roll[k] = rollFn(x, y, z, w);
    pitch[k] = pitchFn(x, y, z, w);
    yaw[k] = yawFn(x, y, z, w);
    wind[k] = windIn[i];
    rps[k] = rpsIn[i];
    voltage[k] = voltageIn[i];
  }
}

/** Indexes of the frames whose feature inputs are all finite, and how many were not. */
export function usableFrameIndexes(frames: FrameColumns): { rows: Int32Array; rejected: number } {
  const n = frames.length;
  const inputs = FEATURE_INPUT_COLUMNS.map((name) => {
    const column = frames.columns[name];
    if (!column || column.length < n) throw new Error(`frames lack column "${name}" (needed for features)`);
    return column;
  });
  const [qx, qy, qz, qw, wind, rps, voltage] = inputs;
  const rows = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    // x - x is 0 exactly when x is finite (NaN for NaN and infinities); one sum checks all seven inputs.
    const check = qx[i] - qx[i] + (qy[i] - qy[i]) + (qz[i] - qz[i]) + (qw[i] - qw[i]) + (wind[i] - wind[i]) + (rps[i] - rps[i]) + (voltage[i] - voltage[i]);
    if (check === 0) rows[count++] = i;
  }
  return { rows: count === n ? rows : rows.slice(0, count), rejected: n - count };
}
