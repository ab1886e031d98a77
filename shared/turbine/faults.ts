/**
 * The faults the simulator can inject, their two severities, how large each one is, and the label that
 * records an injection.
 */

/** Every fault kind: the original dashboard's three (vib, rot, volt) and five real-world ones. */
export const FAULT_KINDS = [
  'vib',
  'rot',
  'volt',
  'bearing_wear',
  'yaw_misalignment',
  'generator_fault',
  'stuck_sensor',
  'sensor_dropout',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_SEVERITIES = ['mild', 'severe'] as const;
export type FaultSeverity = (typeof FAULT_SEVERITIES)[number];

/**
 * One labelled fault episode on one turbine, as a labels file holds it. `start` and `end` are the eventTime
 * strings of the first and the last affected frame (both inclusive). `kind` is any name (the simulator's
 * kinds, or a user's own incident names such as blade_icing); `severity` is given or not.
 */
export interface FaultLabel {
  turbineId: number;
  start: string;
  end: string;
  kind: string;
  severity?: FaultSeverity;
}

/** A fault the simulator injected: one of its kinds at one of its severities. */
export interface SimulatedFaultLabel extends FaultLabel {
  kind: FaultKind;
  severity: FaultSeverity;
}

/** What a fault kind name in a labels file may be: letters, digits, _ . - (no comma or colon), at most 64. */
export const FAULT_KIND_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Calibrated normal statistics of the original recording (mean and raw standard deviation of the six model
 * features). Fault sizes are expressed in these standard deviations.
 */
export const NORMAL_STATISTICS = {
  roll: { mean: -0.008, std: 0.0164 },
  pitch: { mean: 0.0012, std: 0.0163 },
  wind_speed_rps: { mean: 2.154, std: 0.391 },
  rps: { mean: 1.611, std: 0.62 },
  voltage: { mean: 47.8, std: 26.4 },
} as const;

/** Size parameter of each fault at each severity, with what it means. Mild stays within 3 normal std. */
export interface FaultMagnitude {
  mild: number;
  severe: number;
  /** What the number is, in which unit. */
  meaning: string;
}

const NOISE_MILD_STD = 2.4; // noise faults at mild: RMS 2.4 normal std (< 3), large enough to survive denoising
const NOISE_SEVERE_STD = 6;

/** Fault sizes: the simulator reads them from here, tests check mild against 3 normal std. */
export const FAULT_MAGNITUDES: Record<FaultKind, FaultMagnitude> = {
  vib: {
    mild: NOISE_MILD_STD * NORMAL_STATISTICS.roll.std,
    severe: NOISE_SEVERE_STD * NORMAL_STATISTICS.roll.std,
    meaning: 'std (rad) of white noise added to roll, pitch and yaw before they become the quaternion',
  },
  rot: {
    mild: NOISE_MILD_STD * NORMAL_STATISTICS.rps.std,
    severe: NOISE_SEVERE_STD * NORMAL_STATISTICS.rps.std,
    meaning: 'std (rps) of white noise added to the rotor-speed reading (clamped at 0)',
  },
  volt: {
    mild: NOISE_MILD_STD * NORMAL_STATISTICS.voltage.std,
    severe: NOISE_SEVERE_STD * NORMAL_STATISTICS.voltage.std,
    meaning: 'std (V) of white noise added to the voltage reading (clamped at 0)',
  },
  bearing_wear: {
    mild: NOISE_MILD_STD * NORMAL_STATISTICS.roll.std,
    severe: NOISE_SEVERE_STD * NORMAL_STATISTICS.roll.std,
    meaning: 'final RMS (rad) of extra roll/pitch vibration at the rotor frequency, growing linearly from 10% over the episode',
  },
  yaw_misalignment: {
    mild: 0.15,
    severe: 0.45,
    meaning: 'yaw offset (rad) from the wind, reached at 0.05 rad/s; the rotor slows by cos(offset) and the yaw oscillates at the rotor frequency',
  },
  generator_fault: {
    mild: 0.5,
    severe: 0.85,
    meaning: 'fraction of the voltage lost for the rotor speed',
  },
  stuck_sensor: {
    mild: 1,
    severe: 2,
    meaning: '1: the IMU (quaternion, gyro, accelerometer) repeats its last reading; 2: the whole board hangs and every reading, arduino_timestamp included, repeats',
  },
  sensor_dropout: {
    mild: 1,
    severe: 2,
    meaning: '1: voltage reads 0; 2: IMU, anemometer, rotor speed and voltage read 0',
  },
};

/** True if text is a fault kind. */
export function isFaultKind(text: string): text is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(text);
}

/** True if text is a fault severity. */
export function isFaultSeverity(text: string): text is FaultSeverity {
  return (FAULT_SEVERITIES as readonly string[]).includes(text);
}

/** Throws a clear error unless kind and severity are known. */
export function assertFault(kind: string, severity: string): asserts kind is FaultKind {
  if (!isFaultKind(kind)) throw new Error(`unknown fault kind "${kind}": expected one of ${FAULT_KINDS.join(', ')}`);
  if (!isFaultSeverity(severity)) throw new Error(`unknown fault severity "${severity}": expected mild or severe`);
}
