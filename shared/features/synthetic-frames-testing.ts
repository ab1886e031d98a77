/**
 * A seeded synthetic turbine-like series for the feature tests and bench: simple, known noise levels, and
 * a crude noise fault, independent of the simulator's calibration.
 */
import { mulberry32 } from '../turbine/random';
import { type FrameColumns, NUMERIC_COLUMNS, type NumericColumn } from '../turbine/schema';

/** Mulberry32: a small seeded PRNG. */
export const seededRandom = mulberry32;

/** Standard normal deviates from a uniform source (Box-Muller). */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * A seeded synthetic turbine series in the raw schema: slowly varying wind and rotor speed, small nacelle
 * tilt with vibration noise, yaw following a wandering wind direction. `noiseScale` multiplies the vibration
 * noise from frame `noiseFrom` on (a crude noise fault).
 */
export function syntheticFrames(n: number, seed = 1, options: { noiseScale?: number; noiseFrom?: number } = {}): FrameColumns {
  const normal = gaussian(seededRandom(seed));
  const columns = Object.fromEntries(NUMERIC_COLUMNS.map((c) => [c, new Float64Array(n)])) as FrameColumns['columns'];
  const eventTime: string[] = new Array(n);
  let wind = 2.1;
  let direction = 0;
  const t0 = Date.UTC(2021, 2, 1, 12);
  for (let i = 0; i < n; i++) {
    wind += 0.02 * (2.15 - wind) + 0.02 * normal();
    direction += 0.001 * normal();
    const rps = Math.max(0, 0.75 * wind + 0.05 * normal());
    const scale = i >= (options.noiseFrom ?? Infinity) ? (options.noiseScale ?? 1) : 1;
    const roll = -0.008 + 0.004 * Math.sin(i / 40) + scale * 0.01 * normal();
    const pitch = 0.001 + 0.003 * Math.cos(i / 55) + scale * 0.01 * normal();
    const yaw = direction;
    const [qw, qx, qy, qz] = quaternionFromEuler(roll, pitch, yaw);
    const c = columns;
    c.nanoId[i] = 1;
    c.turbineId[i] = 0;
    c.arduino_timestamp[i] = 1000 + 50 * i;
    c.nanoFreemem[i] = 30000;
    c.rps[i] = rps;
    c.voltage[i] = Math.round(30 * rps);
    c.qw[i] = qw;
    c.qx[i] = qx;
    c.qy[i] = qy;
    c.qz[i] = qz;
    c.wind_speed_rps[i] = wind;
    c.az[i] = 1;
    c.gearboxtemp[i] = 31.5;
    c.ambtemp[i] = 22;
    c.humidity[i] = 40;
    c.pressure[i] = 1013;
    c.gas[i] = 120;
    eventTime[i] = new Date(t0 + 50 * i).toISOString();
  }
  return { length: n, eventTime, columns };
}

function quaternionFromEuler(roll: number, pitch: number, yaw: number): [number, number, number, number] {
  const cr = Math.cos(roll / 2);
  const sr = Math.sin(roll / 2);
  const cp = Math.cos(pitch / 2);
  const sp = Math.sin(pitch / 2);
  const cy = Math.cos(yaw / 2);
  const sy = Math.sin(yaw / 2);
  return [cr * cp * cy + sr * sp * sy, sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy, cr * cp * sy - sr * sp * cy];
}

/** A copy of frames with some rows' values replaced (to inject bad frames). */
export function withValues(frames: FrameColumns, edits: { row: number; column: NumericColumn; value: number }[]): FrameColumns {
  const columns = Object.fromEntries(NUMERIC_COLUMNS.map((c) => [c, frames.columns[c].slice()])) as FrameColumns['columns'];
  for (const e of edits) columns[e.column][e.row] = e.value;
  return { length: frames.length, eventTime: frames.eventTime.slice(), columns };
}
