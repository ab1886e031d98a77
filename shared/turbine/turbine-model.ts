/**
 * The mini turbine's physical parameters (calibrated so long normal runs match the original's statistics),
 * the per-frame coefficients derived from them, and the two steady-state curves (rotor speed, voltage).
 */
import { FRAME_PERIOD_MS } from './schema';

/** Seconds per frame. */
export const DT = FRAME_PERIOD_MS / 1000;
export const TWO_PI = 2 * Math.PI;

/** Model parameters, calibrated so that long normal runs match the original's statistics. */
export const TURBINE_MODEL = {
  /** Mean wind (anemometer rps) and the spread of its slow drift, turbulence and gusts. */
  windMean: 2.152,
  windSlowStd: 0.33,
  windSlowTauS: 60,
  windTurbulenceStd: 0.17,
  windTurbulenceTauS: 1,
  gustMeanIntervalS: 120,
  gustMeanAmplitude: 0.35,
  gustMaxAmplitude: 1.6,
  gustDecayTauS: 6,
  gustRiseTauS: 1.2,
  anemometerNoise: 0.01,
  /** Rotor: speed target softplus(gain * (wind - cutIn)), followed with a time constant (inertia). */
  rotorGain: 1.6,
  rotorCutIn: 1.08,
  rotorSoftness: 0.12,
  rotorTauS: 1.5,
  rotorStartupTauS: 3,
  /**
   * Brake: a bounded torque, so a constant deceleration (rps per second) and a stop that takes time in
   * proportion to the speed braked from (3.4 rps: 8.5 s); near standstill friction ends the spin-down.
   */
  rotorBrakeDecel: 0.4,
  rotorReadingNoise: 0.012,
  /** Generator: voltage = linear * rps + quadratic * rps^2 + noise, read by an ADC (integer). */
  voltageLinear: 13.3,
  voltageQuadratic: 8.8,
  voltageNoise: 1.5,
  /** Nacelle: mounting offsets, tower sway, thrust tilt and vibration amplitude a0 + a1 * rps. */
  rollOffset: -0.008,
  pitchOffset: 0.0012,
  swayStd: 0.004,
  swayTauS: 4,
  thrustTilt: 0.0008,
  /** Mean rps^2 in normal operation: thrust tilt is measured from it so the pitch mean stays the offset. */
  thrustTiltReference: 3.2,
  vibrationBase: 0.0032,
  vibrationPerRps: 0.0075,
  vibrationCorrelation: 0.55,
  yawVibrationShare: 0.35,
  /** Wind direction veers slowly around the prevailing one; the yaw drive follows with a dead band. */
  windDirection: -0.1,
  windDirectionStd: 0.08,
  windDirectionTauS: 150,
  yawDeadBand: 0.06,
  yawSettle: 0.01,
  yawRate: 0.04,
  gyroNoise: 0.01,
  accelNoise: 0.01,
  accelPerVibration: 0.6,
  /** Stops: mean interval, minimum interval and duration range (s). */
  stopMeanIntervalS: 720,
  stopMinIntervalS: 180,
  stopMinDurationS: 15,
  stopMaxDurationS: 45,
} as const;

/** Seconds after a stop's release during which the rotor is still spinning up (start-up). */
export const STARTUP_S = 20;

const M = TURBINE_MODEL;

/** Ornstein–Uhlenbeck step coefficients [decay, noise] for a time constant and stationary std, per `stepS`. */
function ou(tauS: number, std: number, stepS: number): [number, number] {
  const a = Math.exp(-stepS / tauS);
  return [a, std * Math.sqrt(1 - a * a)];
}

export const [WIND_SLOW_A, WIND_SLOW_B] = ou(M.windSlowTauS, M.windSlowStd, DT);
export const [WIND_TURB_A, WIND_TURB_B] = ou(M.windTurbulenceTauS, M.windTurbulenceStd, DT);
export const [SWAY_A, SWAY_B] = ou(M.swayTauS, M.swayStd, DT);
export const [DIR_A, DIR_B] = ou(M.windDirectionTauS, M.windDirectionStd, DT);
export const GUST_DECAY = Math.exp(-DT / M.gustDecayTauS);
export const GUST_RISE = 1 - Math.exp(-DT / M.gustRiseTauS);
export const ROTOR_K = 1 - Math.exp(-DT / M.rotorTauS);
export const ROTOR_STARTUP_K = 1 - Math.exp(-DT / M.rotorStartupTauS);
export const ROTOR_BRAKE_STEP = M.rotorBrakeDecel * DT;
export const VIB_A = M.vibrationCorrelation;
export const VIB_B = Math.sqrt(1 - VIB_A * VIB_A);
export const YAW_STEP = M.yawRate * DT;
/** Environment sensors (BME680, thermistor) report once a second. */
export const ENV_EVERY = Math.round(1000 / FRAME_PERIOD_MS);
// The environment drifts per report (1 s), not per frame.
export const [AMB_A, AMB_B] = ou(900, 0.4, 1);
export const [HUM_A, HUM_B] = ou(900, 2, 1);
export const [PRES_A, PRES_B] = ou(1800, 0.6, 1);
export const [GAS_A, GAS_B] = ou(300, 6, 1);
export const GEARBOX_K = 1 - Math.exp(-1 / 240);

/** Generator voltage at rotor speed omega (rps), before noise: back-EMF plus the load's rise. */
export function generatorVoltage(omega: number): number {
  return omega * (M.voltageLinear + M.voltageQuadratic * omega);
}

/** Steady rotor speed (rps) for a wind speed: a smooth cut-in, then proportional. */
export function rotorTarget(wind: number): number {
  const x = (wind - M.rotorCutIn) / M.rotorSoftness;
  return M.rotorGain * M.rotorSoftness * (x > 30 ? x : Math.log1p(Math.exp(x)));
}
