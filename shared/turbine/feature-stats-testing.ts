/**
 * Test helpers for the simulator's tests: the six model features of a frame series and simple statistics.
 * Not part of the public API.
 */
import { eulerFromQuaternion } from '../features/euler'; // the model's own conversion
import type { FrameColumns } from './schema';

/** Names of the six model features, in model order. */
export const SIX_FEATURES = ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage'] as const;

/** The six features of every row: [feature][row]. */
export function sixFeatures(frames: FrameColumns): Float64Array[] {
  const c = frames.columns;
  const out = SIX_FEATURES.map(() => new Float64Array(frames.length));
  for (let i = 0; i < frames.length; i++) {
    const [roll, pitch, yaw] = eulerFromQuaternion(c.qx[i], c.qy[i], c.qz[i], c.qw[i]);
    out[0][i] = roll;
    out[1][i] = pitch;
    out[2][i] = yaw;
  }
  out[3].set(c.wind_speed_rps);
  out[4].set(c.rps);
  out[5].set(c.voltage);
  return out;
}

/** Mean and population standard deviation. */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}

/** True if row i differs between a and b in any numeric column or its eventTime. */
export function rowsDiffer(a: FrameColumns, b: FrameColumns, i: number): boolean {
  if (a.eventTime[i] !== b.eventTime[i]) return true;
  for (const name of Object.keys(a.columns) as Array<keyof FrameColumns['columns']>) {
    if (a.columns[name][i] !== b.columns[name][i]) return true;
  }
  return false;
}
