/**
 * How each fault changes what the sensors report (never the physical state), drawing only from the
 * fault stream: noise on the readings, a bearing's rotor-frequency shake, a yaw offset, a weak generator,
 * and stuck or dropped-out sensors that replace the row.
 */
import { FAULT_MAGNITUDES, type FaultKind, type FaultSeverity } from './faults';
import type { Random } from './random';
import * as sensorRow from './sensor-row';
import * as turbineModel from './turbine-model';

// Module-local copies: imported bindings are property reads on every use once compiled to CommonJS.
const { C_RPS, C_VOLT, C_WIND, IMU_COLUMNS } = sensorRow;
const { generatorVoltage, YAW_STEP } = turbineModel;

/** The fault a simulator is injecting right now. */
export interface ActiveFault {
  kind: FaultKind;
  severity: FaultSeverity;
  /** Frame index (0 = the simulator's first frame) of the first affected frame. */
  startFrame: number;
  durationFrames: number;
  /** Affected frames emitted so far. */
  framesDone: number;
}

/** A frame's readings before the ADC and rounding, which a fault changes in place. */
export interface Readings {
  rps: number;
  /** Generator voltage before the ADC. */
  voltage: number;
  /** What the fault adds to the reported roll, pitch and yaw. */
  perturbRoll: number;
  perturbPitch: number;
  perturbYaw: number;
}

/** x, pushed away from zero to at least `min` so an injected perturbation always shows after rounding. */
const atLeast = (x: number, min: number): number => (x >= 0 ? (x < min ? min : x) : x > -min ? -min : x);

/**
 * Applies a fault to the readings, given the true rotor speed and phase and this frame's voltage noise (a
 * weak generator scales the clean part only); stuck_sensor and sensor_dropout act on the written row
 * (replaceReadings).
 */
export function perturbReadings(fault: ActiveFault, f: Random, omega: number, rotorPhase: number, voltNoise: number, r: Readings): void {
  const size = FAULT_MAGNITUDES[fault.kind][fault.severity];
  switch (fault.kind) {
    case 'vib':
      r.perturbRoll = atLeast(size * f.normal(), 1e-5);
      r.perturbPitch = atLeast(size * f.normal(), 1e-5);
      r.perturbYaw = atLeast(size * f.normal(), 1e-5);
      break;
    case 'rot':
      r.rps = Math.max(0, r.rps + atLeast(size * f.normal(), 2e-4));
      break;
    case 'volt': {
      const clean = Math.max(0, Math.round(r.voltage));
      const noisy = Math.max(0, Math.round(r.voltage + size * f.normal()));
      r.voltage = noisy === clean ? clean + 1 : noisy; // at least one ADC count off
      break;
    }
    case 'bearing_wear': {
      // A damaged bearing shakes at the rotor frequency; the amplitude grows over the episode.
      const growth = 0.1 + (0.9 * fault.framesDone) / Math.max(1, fault.durationFrames - 1);
      const amplitude = size * growth * Math.SQRT2; // sinusoid RMS = amplitude / sqrt(2)
      const s = Math.sin(rotorPhase);
      const c = Math.cos(rotorPhase);
      r.perturbRoll = atLeast(amplitude * (0.9 * s + 0.3 * f.normal()), 1e-5);
      r.perturbPitch = atLeast(amplitude * (0.9 * c + 0.3 * f.normal()), 1e-5);
      break;
    }
    case 'yaw_misalignment': {
      // The nacelle turns off the wind at the yaw rate, and back at the end of the episode.
      const ramp = YAW_STEP * Math.min(fault.framesDone + 1, fault.durationFrames - fault.framesDone);
      const offset = Math.min(size, ramp);
      r.perturbYaw = offset + 0.08 * Math.sin(offset) * omega * Math.sin(rotorPhase);
      const cos = Math.cos(offset);
      r.rps *= cos;
      r.voltage = generatorVoltage(omega * cos) + voltNoise;
      break;
    }
    case 'generator_fault': {
      const clean = Math.max(0, Math.round(r.voltage));
      const low = Math.max(0, Math.round(r.voltage - size * (r.voltage - voltNoise)));
      r.voltage = low === clean && clean > 0 ? clean - 1 : low;
      break;
    }
    default:
      break; // stuck_sensor and sensor_dropout replace readings in the written row
  }
}

/**
 * A stuck sensor repeats `frozen` (the last row read before the fault; the first row when nothing was
 * read before), a dropped-out one reads 0. Other kinds leave the row as it is.
 */
export function replaceReadings(fault: ActiveFault, frameIndex: number, out: Float64Array, frozen: Float64Array): void {
  if (fault.kind === 'stuck_sensor') {
    if (fault.framesDone === 0 && frameIndex === 0) frozen.set(out); // nothing read before: freeze the first frame
    if (fault.severity === 'mild') for (const c of IMU_COLUMNS) out[c] = frozen[c];
    else out.set(frozen);
  } else if (fault.kind === 'sensor_dropout') {
    out[C_VOLT] = 0;
    if (fault.severity === 'severe') {
      for (const c of IMU_COLUMNS) out[c] = 0;
      out[C_RPS] = 0;
      out[C_WIND] = 0;
    }
  }
}
