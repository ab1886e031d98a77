/**
 * What the sensors report, as one numeric row in NUMERIC_COLUMNS order: the IMU's quaternion, gyro
 * (body rates of the reported orientation) and accelerometer (gravity in the body frame), rounded to what
 * each sensor resolves.
 */
import { NUMERIC_COLUMNS, type NumericColumn } from './schema';

// Column positions in a numeric row (NUMERIC_COLUMNS order).
const col = (name: NumericColumn): number => NUMERIC_COLUMNS.indexOf(name);
export const C_NANO = col('nanoId');
export const C_TURBINE = col('turbineId');
export const C_TS = col('arduino_timestamp');
export const C_MEM = col('nanoFreemem');
export const C_RPS = col('rps');
export const C_VOLT = col('voltage');
const C_QW = col('qw');
const C_QX = col('qx');
const C_QY = col('qy');
const C_QZ = col('qz');
const C_GX = col('gx');
const C_GY = col('gy');
const C_GZ = col('gz');
const C_AX = col('ax');
const C_AY = col('ay');
const C_AZ = col('az');
export const C_GEARBOX = col('gearboxtemp');
export const C_AMB = col('ambtemp');
export const C_HUM = col('humidity');
export const C_PRES = col('pressure');
export const C_GAS = col('gas');
export const C_WIND = col('wind_speed_rps');
/** The IMU's columns: what a stuck or dropped-out IMU affects. */
export const IMU_COLUMNS = [C_QW, C_QX, C_QY, C_QZ, C_GX, C_GY, C_GZ, C_AX, C_AY, C_AZ];

/** Number of numeric values in a row. */
export const NUMERIC_WIDTH = NUMERIC_COLUMNS.length;

// Readings are rounded to what the sensor resolves; `+ 0` turns -0 into 0, so a CSV round trip is exact.
export const q6 = (x: number): number => Math.round(x * 1e6) / 1e6 + 0;
export const q4 = (x: number): number => Math.round(x * 1e4) / 1e4 + 0;
export const q2 = (x: number): number => Math.round(x * 100) / 100 + 0;

/** The IMU's inputs for one frame: reported orientation, its rates of change, and sensor noise. */
export interface ImuInput {
  roll: number;
  pitch: number;
  yaw: number;
  /** Rates of change of roll, pitch, yaw (rad/s). */
  dRoll: number;
  dPitch: number;
  dYaw: number;
  gyroNoise: [number, number, number];
  accelNoise: [number, number, number];
}

/** Writes the IMU's quaternion, gyro and accelerometer readings into `out`. */
export function writeImu(out: Float64Array, m: ImuInput): void {
  // Quaternion from roll, pitch, yaw (the inverse of the original's euler conversion).
  const cr = Math.cos(m.roll * 0.5);
  const sr = Math.sin(m.roll * 0.5);
  const cp = Math.cos(m.pitch * 0.5);
  const sp = Math.sin(m.pitch * 0.5);
  const cy = Math.cos(m.yaw * 0.5);
  const sy = Math.sin(m.yaw * 0.5);
  // Full-angle sines and cosines from the half angles (double-angle formulas): four fewer trig calls.
  const sinR = 2 * sr * cr;
  const cosR = cr * cr - sr * sr;
  const sinP = 2 * sp * cp;
  const cosP = cp * cp - sp * sp;
  out[C_QW] = q6(cr * cp * cy + sr * sp * sy);
  out[C_QX] = q6(sr * cp * cy - cr * sp * sy);
  out[C_QY] = q6(cr * sp * cy + sr * cp * sy);
  out[C_QZ] = q6(cr * cp * sy - sr * sp * cy);
  // Gyro: body rates from the change of the reported orientation (Z-Y-X euler kinematics).
  out[C_GX] = q6(m.dRoll - m.dYaw * sinP + m.gyroNoise[0]);
  out[C_GY] = q6(m.dPitch * cosR + m.dYaw * cosP * sinR + m.gyroNoise[1]);
  out[C_GZ] = q6(-m.dPitch * sinR + m.dYaw * cosP * cosR + m.gyroNoise[2]);
  // Gravity seen in the body frame (in g), plus vibration-driven noise.
  out[C_AX] = q6(-sinP + m.accelNoise[0]);
  out[C_AY] = q6(cosP * sinR + m.accelNoise[1]);
  out[C_AZ] = q6(cosP * cosR + m.accelNoise[2]);
}
