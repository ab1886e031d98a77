/**
 * A small physical model of the original workshop's 3D-printed mini turbine, one frame every 50 ms:
 * wind (slow Ornstein–Uhlenbeck drift, turbulence, gust events) drives the rotor through its inertia, the
 * generator's voltage follows the rotor speed, the nacelle vibrates more the faster the rotor turns and yaws
 * after a slowly veering wind, and the IMU, anemometer, hall sensor and environment sensors read it all with
 * noise. Rare stops (brake, standstill, start-up) and strong gusts are part of normal operation.
 *
 * Faults act only on what the sensors report, never on the physical state, and draw their randomness from
 * their own stream: a run with faults is frame for frame identical to the same-seed run without them outside
 * the injected episodes, which is what makes the labels provably exact.
 */
import { EventClock, DEFAULT_START_TIME, toEpochMs } from './event-time';
import { FAULT_MAGNITUDES, assertFault, type FaultKind, type FaultSeverity, type SimulatedFaultLabel } from './faults';
import { Random } from './random';
import { FRAME_PERIOD_MS, NUMERIC_COLUMNS, type NumericColumn, type RawFrame } from './schema';

const DT = FRAME_PERIOD_MS / 1000;
const TWO_PI = 2 * Math.PI;

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
const ou = (tauS: number, std: number): [number, number] => {
  const a = Math.exp(-DT / tauS);
  return [a, std * Math.sqrt(1 - a * a)];
};
const [WIND_SLOW_A, WIND_SLOW_B] = ou(M.windSlowTauS, M.windSlowStd);
const [WIND_TURB_A, WIND_TURB_B] = ou(M.windTurbulenceTauS, M.windTurbulenceStd);
const [SWAY_A, SWAY_B] = ou(M.swayTauS, M.swayStd);
const [DIR_A, DIR_B] = ou(M.windDirectionTauS, M.windDirectionStd);
const GUST_DECAY = Math.exp(-DT / M.gustDecayTauS);
const GUST_RISE = 1 - Math.exp(-DT / M.gustRiseTauS);
const ROTOR_K = 1 - Math.exp(-DT / M.rotorTauS);
const ROTOR_STARTUP_K = 1 - Math.exp(-DT / M.rotorStartupTauS);
const ROTOR_BRAKE_STEP = M.rotorBrakeDecel * DT;
const VIB_A = M.vibrationCorrelation;
const VIB_B = Math.sqrt(1 - VIB_A * VIB_A);
const YAW_STEP = M.yawRate * DT;
/** Environment sensors (BME680, thermistor) report once a second. */
const ENV_EVERY = Math.round(1000 / FRAME_PERIOD_MS);
const envOu = (tauS: number, std: number): [number, number] => {
  const a = Math.exp(-1 / tauS);
  return [a, std * Math.sqrt(1 - a * a)];
};
const [AMB_A, AMB_B] = envOu(900, 0.4);
const [HUM_A, HUM_B] = envOu(900, 2);
const [PRES_A, PRES_B] = envOu(1800, 0.6);
const [GAS_A, GAS_B] = envOu(300, 6);
const GEARBOX_K = 1 - Math.exp(-1 / 240);

// Column positions in a numeric row (NUMERIC_COLUMNS order).
const col = (name: NumericColumn): number => NUMERIC_COLUMNS.indexOf(name);
const C_NANO = col('nanoId');
const C_TURBINE = col('turbineId');
const C_TS = col('arduino_timestamp');
const C_MEM = col('nanoFreemem');
const C_RPS = col('rps');
const C_VOLT = col('voltage');
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
const C_GEARBOX = col('gearboxtemp');
const C_AMB = col('ambtemp');
const C_HUM = col('humidity');
const C_PRES = col('pressure');
const C_GAS = col('gas');
const C_WIND = col('wind_speed_rps');
/** The IMU's columns: what a stuck or dropped-out IMU affects. */
const IMU_COLUMNS = [C_QW, C_QX, C_QY, C_QZ, C_GX, C_GY, C_GZ, C_AX, C_AY, C_AZ];

/** Number of numeric values in a row. */
export const NUMERIC_WIDTH = NUMERIC_COLUMNS.length;

// Readings are rounded to what the sensor resolves; `+ 0` turns -0 into 0, so a CSV round trip is exact.
const q6 = (x: number): number => Math.round(x * 1e6) / 1e6 + 0;
const q4 = (x: number): number => Math.round(x * 1e4) / 1e4 + 0;
const q2 = (x: number): number => Math.round(x * 100) / 100 + 0;
/** x, pushed away from zero to at least `min` so an injected perturbation always shows after rounding. */
const atLeast = (x: number, min: number): number => (x >= 0 ? (x < min ? min : x) : x > -min ? -min : x);

/** Generator voltage at rotor speed omega (rps), before noise: back-EMF plus the load's rise. */
const generatorVoltage = (omega: number): number => omega * (M.voltageLinear + M.voltageQuadratic * omega);

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

/** A stretch of frames [start, end] (inclusive frame indices) during which the rotor is braked. */
export interface StopWindow {
  start: number;
  end: number;
}

export interface TurbineSimulatorOptions {
  /** Turbine number written in turbineId (nanoId is turbineId + 1). Default 0. */
  turbineId?: number;
  /** Integer seed; with turbineId it fixes every random stream. Default 42. */
  seed?: number;
  /** eventTime of frame 0. Default 2021-03-01T12:00:00Z. */
  startTime?: Date | string | number;
}

/** Throws unless value is an integer in [min, max]. */
function assertInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got ${value}`);
  }
}

/** One simulated mini turbine producing frames one at a time (the device's view) or into columns (batch). */
export class TurbineSimulator {
  readonly turbineId: number;
  readonly seed: number;
  readonly clock: EventClock;

  private readonly rng: Random;
  private readonly events: Random;
  private readonly faultRng: Random;
  /** The numeric values of the frame emitted last, in NUMERIC_COLUMNS order. */
  private readonly row = new Float64Array(NUMERIC_WIDTH);
  private readonly frozen = new Float64Array(NUMERIC_WIDTH);
  private k = 0;

  // Physical state.
  private windMean: number;
  private windSlow: number;
  private windTurb: number;
  private gust = 0;
  private gustTarget = 0;
  private nextGustFrame: number;
  private omega: number;
  private rotorPhase = 0;
  private swayRoll: number;
  private swayPitch: number;
  private vibRoll: number;
  private vibPitch: number;
  private vibYaw: number;
  private windDir: number;
  private nacelleYaw: number;
  private yawMoving = false;
  private prevRoll = Number.NaN;
  private prevPitch = 0;
  private prevYaw = 0;
  private readonly bootMs: number;
  private readonly freeMem: number;
  private readonly ambBase: number;
  private readonly humBase: number;
  private readonly presBase: number;
  private readonly gasBase: number;
  private amb = 0;
  private hum = 0;
  private pres = 0;
  private gas = 0;
  private gearbox = 0;
  private envReading = [0, 0, 0, 0, 0];

  // Planned stops (braked intervals), generated ahead from their own stream.
  private readonly stops: StopWindow[] = [];
  private stopCursor = 0;

  // Fault state.
  private active: ActiveFault | null = null;
  private prevPerturbRoll = 0;
  private prevPerturbPitch = 0;
  private prevPerturbYaw = 0;
  private readonly history: SimulatedFaultLabel[] = [];

  constructor(options: TurbineSimulatorOptions = {}) {
    const turbineId = options.turbineId ?? 0;
    const seed = options.seed ?? 42;
    assertInteger('turbineId', turbineId, 0, 1_000_000);
    assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
    this.turbineId = turbineId;
    this.seed = seed;
    this.clock = new EventClock(toEpochMs(options.startTime ?? DEFAULT_START_TIME));
    this.rng = new Random(`${seed}:${turbineId}:physics`);
    this.events = new Random(`${seed}:${turbineId}:events`);
    this.faultRng = new Random(`${seed}:${turbineId}:faults`);

    // Per-turbine constants and a stationary starting state, so statistics hold from the first frame.
    const ev = this.events;
    this.bootMs = 1000 + 50 * ev.integer(0, 2400);
    this.freeMem = 30000 - 8 * ev.integer(0, 12);
    this.ambBase = 22 + ev.between(-1, 1);
    this.humBase = 40 + ev.between(-3, 3);
    this.presBase = 1013 + ev.between(-0.5, 0.5);
    this.gasBase = 120 + ev.between(-10, 10);
    const r = this.rng;
    this.windMean = M.windMean;
    this.windSlow = M.windSlowStd * r.normal();
    this.windTurb = M.windTurbulenceStd * r.normal();
    this.nextGustFrame = Math.ceil(r.exponential(M.gustMeanIntervalS / DT));
    this.omega = this.rotorTarget(this.windMean + this.windSlow + this.windTurb);
    this.swayRoll = M.swayStd * r.normal();
    this.swayPitch = M.swayStd * r.normal();
    this.vibRoll = r.normal();
    this.vibPitch = r.normal();
    this.vibYaw = r.normal();
    this.windDir = M.windDirectionStd * r.normal();
    this.nacelleYaw = M.windDirection + this.windDir;
    this.amb = 0.4 * r.normal();
    this.hum = 2 * r.normal();
    this.pres = 0.6 * r.normal();
    this.gas = 6 * r.normal();
    this.gearbox = this.ambBase + this.amb + 6 + 1.4 * this.omega * this.omega;
  }

  /** Number of frames produced so far (the index of the next frame). */
  get frameIndex(): number {
    return this.k;
  }

  /** The fault being injected now, or null. */
  get fault(): ActiveFault | null {
    return this.active ? { ...this.active } : null;
  }

  /** Every injection that affected at least one frame, oldest first (the last may still be running). */
  get labels(): SimulatedFaultLabel[] {
    return this.history.map((l) => ({ ...l }));
  }

  /**
   * Starts a fault at the next frame for durationFrames frames. Throws, changing nothing, on an unknown kind
   * or severity, a non-positive duration, or while another fault is active (call clear() first).
   */
  inject(kind: FaultKind, severity: FaultSeverity, durationFrames: number): void {
    assertFault(kind, severity);
    assertInteger('durationFrames', durationFrames, 1);
    if (this.active) {
      throw new Error(`turbine ${this.turbineId} is already injecting ${this.active.kind}:${this.active.severity}; call clear() first`);
    }
    this.active = { kind, severity, startFrame: this.k, durationFrames, framesDone: 0 };
    this.prevPerturbRoll = 0;
    this.prevPerturbPitch = 0;
    this.prevPerturbYaw = 0;
    this.frozen.set(this.row); // a stuck sensor repeats the last frame it read before the fault
  }

  /** Ends the current fault (if any) before its planned end; the next frame is normal. */
  clear(): void {
    this.endFault();
  }

  private endFault(): void {
    this.active = null;
    // Later frames must equal the fault-free run's: forget the perturbation the gyro differenced against.
    this.prevPerturbRoll = 0;
    this.prevPerturbPitch = 0;
    this.prevPerturbYaw = 0;
  }

  /** Stops planned from frame 0 up to untilFrame (they depend only on the seed and turbineId). */
  plannedStops(untilFrame: number): StopWindow[] {
    this.planStops(untilFrame);
    return this.stops.filter((s) => s.start < untilFrame).map((s) => ({ ...s }));
  }

  /** Produces the next frame as an object (the streaming device's view). */
  next(): RawFrame {
    this.step();
    const frame = { eventTime: this.clock.at(this.k - 1) } as RawFrame;
    for (let c = 0; c < NUMERIC_WIDTH; c++) frame[NUMERIC_COLUMNS[c]] = this.row[c];
    return frame;
  }

  /**
   * Advances one frame, leaving its numeric values in `out` (NUMERIC_COLUMNS order); its eventTime is
   * `clock.at(frameIndex - 1)`. The batch path: allocates nothing.
   */
  nextInto(out: Float64Array): void {
    this.step();
    out.set(this.row);
  }

  /** Advances one frame into columns[c][row] for every numeric column c (NUMERIC_COLUMNS order). */
  nextIntoColumns(columns: Float64Array[], row: number): void {
    this.step();
    const r = this.row;
    for (let c = 0; c < NUMERIC_WIDTH; c++) columns[c][row] = r[c];
  }

  private planStops(untilFrame: number): void {
    const framesPerS = 1 / DT;
    let last = this.stops.length > 0 ? this.stops[this.stops.length - 1].end : 0;
    while (last < untilFrame) {
      const gapS = Math.max(M.stopMinIntervalS, this.events.exponential(M.stopMeanIntervalS));
      const durS = this.events.between(M.stopMinDurationS, M.stopMaxDurationS);
      const start = last + Math.round(gapS * framesPerS);
      const end = start + Math.round(durS * framesPerS) - 1;
      this.stops.push({ start, end });
      last = end;
    }
  }

  private isBraked(k: number): boolean {
    if (this.stopCursor >= this.stops.length || this.stops[this.stops.length - 1].end < k) this.planStops(k + 1);
    while (this.stops[this.stopCursor].end < k) this.stopCursor++;
    return this.stops[this.stopCursor].start <= k;
  }

  /** Steady rotor speed (rps) for a wind speed: a smooth cut-in, then proportional. */
  private rotorTarget(wind: number): number {
    const x = (wind - M.rotorCutIn) / M.rotorSoftness;
    return M.rotorGain * M.rotorSoftness * (x > 30 ? x : Math.log1p(Math.exp(x)));
  }

  /** Advances the physics one frame and writes the sensor readings into this.row. */
  private step(): void {
    const k = this.k;
    const r = this.rng;
    const out = this.row;

    // Wind: slow drift + turbulence + gusts (a gust lifts a target that decays; the wind follows it).
    this.windSlow = WIND_SLOW_A * this.windSlow + WIND_SLOW_B * r.normal();
    this.windTurb = WIND_TURB_A * this.windTurb + WIND_TURB_B * r.normal();
    if (k >= this.nextGustFrame) {
      this.gustTarget += Math.min(M.gustMaxAmplitude, r.exponential(M.gustMeanAmplitude));
      this.nextGustFrame = k + 1 + Math.ceil(r.exponential(M.gustMeanIntervalS / DT));
    }
    this.gustTarget *= GUST_DECAY;
    this.gust += (this.gustTarget - this.gust) * GUST_RISE;
    const windTrue = Math.max(0, this.windMean + this.windSlow + this.windTurb + this.gust);
    const windReading = Math.max(0, windTrue + M.anemometerNoise * r.normal());

    // Rotor: inertia towards the wind's steady speed; braked during a stop, slower to spin up from rest.
    const braked = this.isBraked(k);
    if (braked) {
      // Constant brake torque against the rotor's inertia: a ramp, not a jump.
      this.omega = Math.max(0, this.omega - ROTOR_BRAKE_STEP);
    } else {
      const target = this.rotorTarget(windTrue);
      this.omega += (target - this.omega) * (this.omega < 0.5 * target ? ROTOR_STARTUP_K : ROTOR_K);
    }
    const omega = this.omega;
    this.rotorPhase += TWO_PI * omega * DT;
    if (this.rotorPhase > TWO_PI) this.rotorPhase -= TWO_PI;
    const rpsNoise = M.rotorReadingNoise * r.normal();
    const voltNoise = M.voltageNoise * r.normal();

    // Nacelle: vibration grows with rotor speed; tower sways; thrust tilts it; yaw follows the wind.
    const vib = M.vibrationBase + M.vibrationPerRps * omega;
    this.vibRoll = VIB_A * this.vibRoll + VIB_B * r.normal();
    this.vibPitch = VIB_A * this.vibPitch + VIB_B * r.normal();
    this.vibYaw = VIB_A * this.vibYaw + VIB_B * r.normal();
    this.swayRoll = SWAY_A * this.swayRoll + SWAY_B * r.normal();
    this.swayPitch = SWAY_A * this.swayPitch + SWAY_B * r.normal();
    this.windDir = DIR_A * this.windDir + DIR_B * r.normal();
    const yawError = M.windDirection + this.windDir - this.nacelleYaw;
    if (!this.yawMoving && Math.abs(yawError) > M.yawDeadBand) this.yawMoving = true;
    if (this.yawMoving) {
      this.nacelleYaw += yawError > 0 ? Math.min(yawError, YAW_STEP) : Math.max(yawError, -YAW_STEP);
      if (Math.abs(yawError) < M.yawSettle) this.yawMoving = false;
    }
    let roll = M.rollOffset + this.swayRoll + vib * this.vibRoll;
    let pitch = M.pitchOffset + M.thrustTilt * (omega * omega - M.thrustTiltReference) + this.swayPitch + vib * this.vibPitch;
    let yaw = this.nacelleYaw + M.yawVibrationShare * vib * this.vibYaw;
    const gyroNoiseX = M.gyroNoise * r.normal();
    const gyroNoiseY = M.gyroNoise * r.normal();
    const gyroNoiseZ = M.gyroNoise * r.normal();
    const accelSigma = M.accelNoise + M.accelPerVibration * vib;
    const accelNoiseX = accelSigma * r.normal();
    const accelNoiseY = accelSigma * r.normal();
    const accelNoiseZ = accelSigma * r.normal();
    if (Number.isNaN(this.prevRoll)) {
      this.prevRoll = roll;
      this.prevPitch = pitch;
      this.prevYaw = yaw;
    }
    const cleanRoll = roll;
    const cleanPitch = pitch;
    const cleanYaw = yaw;

    // Environment sensors report once a second; the gearbox warms with rotor speed.
    if (k % ENV_EVERY === 0) {
      this.amb = AMB_A * this.amb + AMB_B * r.normal();
      this.hum = HUM_A * this.hum + HUM_B * r.normal();
      this.pres = PRES_A * this.pres + PRES_B * r.normal();
      this.gas = GAS_A * this.gas + GAS_B * r.normal();
      const amb = this.ambBase + this.amb;
      this.gearbox += (amb + 6 + 1.4 * omega * omega - this.gearbox) * GEARBOX_K;
      const e = this.envReading;
      e[0] = q2(this.gearbox + 0.03 * r.normal());
      e[1] = q2(amb + 0.02 * r.normal());
      e[2] = q2(Math.min(100, Math.max(0, this.humBase + this.hum + 0.05 * r.normal())));
      e[3] = q2(this.presBase + this.pres + 0.02 * r.normal());
      e[4] = q2(Math.max(1, this.gasBase + this.gas + 0.3 * r.normal()));
    }

    // ---- What the sensors report; faults act from here on, with their own random stream.
    const fault = this.active;
    let rpsReading = omega * (1 + rpsNoise);
    let voltageRaw = generatorVoltage(omega) + voltNoise;
    let perturbRoll = 0;
    let perturbPitch = 0;
    let perturbYaw = 0;
    if (fault) {
      const f = this.faultRng;
      const size = FAULT_MAGNITUDES[fault.kind][fault.severity];
      switch (fault.kind) {
        case 'vib':
          perturbRoll = atLeast(size * f.normal(), 1e-5);
          perturbPitch = atLeast(size * f.normal(), 1e-5);
          perturbYaw = atLeast(size * f.normal(), 1e-5);
          break;
        case 'rot':
          rpsReading = Math.max(0, rpsReading + atLeast(size * f.normal(), 2e-4));
          break;
        case 'volt': {
          const clean = Math.max(0, Math.round(voltageRaw));
          const noisy = Math.max(0, Math.round(voltageRaw + size * f.normal()));
          voltageRaw = noisy === clean ? clean + 1 : noisy; // at least one ADC count off
          break;
        }
        case 'bearing_wear': {
          // A damaged bearing shakes at the rotor frequency; the amplitude grows over the episode.
          const growth = 0.1 + (0.9 * fault.framesDone) / Math.max(1, fault.durationFrames - 1);
          const amplitude = size * growth * Math.SQRT2; // sinusoid RMS = amplitude / sqrt(2)
          const s = Math.sin(this.rotorPhase);
          const c = Math.cos(this.rotorPhase);
          perturbRoll = atLeast(amplitude * (0.9 * s + 0.3 * f.normal()), 1e-5);
          perturbPitch = atLeast(amplitude * (0.9 * c + 0.3 * f.normal()), 1e-5);
          break;
        }
        case 'yaw_misalignment': {
          // The nacelle turns off the wind at the yaw rate, and back at the end of the episode.
          const ramp = YAW_STEP * Math.min(fault.framesDone + 1, fault.durationFrames - fault.framesDone);
          const offset = Math.min(size, ramp);
          perturbYaw = offset + 0.08 * Math.sin(offset) * omega * Math.sin(this.rotorPhase);
          const cos = Math.cos(offset);
          rpsReading *= cos;
          voltageRaw = generatorVoltage(omega * cos) + voltNoise;
          break;
        }
        case 'generator_fault': {
          const clean = Math.max(0, Math.round(voltageRaw));
          const low = Math.max(0, Math.round(voltageRaw - size * (voltageRaw - voltNoise)));
          voltageRaw = low === clean && clean > 0 ? clean - 1 : low;
          break;
        }
        default:
          break; // stuck_sensor and sensor_dropout replace readings below
      }
    }
    roll += perturbRoll;
    pitch += perturbPitch;
    yaw += perturbYaw;

    // Gyro: body rates from the change of the reported orientation (Z-Y-X euler kinematics).
    const dRoll = (cleanRoll + perturbRoll - this.prevRoll - this.prevPerturbRoll) / DT;
    const dPitch = (cleanPitch + perturbPitch - this.prevPitch - this.prevPerturbPitch) / DT;
    const dYaw = (cleanYaw + perturbYaw - this.prevYaw - this.prevPerturbYaw) / DT;
    this.prevRoll = cleanRoll;
    this.prevPitch = cleanPitch;
    this.prevYaw = cleanYaw;
    this.prevPerturbRoll = perturbRoll;
    this.prevPerturbPitch = perturbPitch;
    this.prevPerturbYaw = perturbYaw;
    // Quaternion from roll, pitch, yaw (the inverse of the original's euler conversion).
    const cr = Math.cos(roll * 0.5);
    const sr = Math.sin(roll * 0.5);
    const cp = Math.cos(pitch * 0.5);
    const sp = Math.sin(pitch * 0.5);
    const cy = Math.cos(yaw * 0.5);
    const sy = Math.sin(yaw * 0.5);
    // Full-angle sines and cosines from the half angles (double-angle formulas): four fewer trig calls.
    const sinR = 2 * sr * cr;
    const cosR = cr * cr - sr * sr;
    const sinP = 2 * sp * cp;
    const cosP = cp * cp - sp * sp;
    const qw = cr * cp * cy + sr * sp * sy;
    const qx = sr * cp * cy - cr * sp * sy;
    const qy = cr * sp * cy + sr * cp * sy;
    const qz = cr * cp * sy - sr * sp * cy;

    out[C_NANO] = this.turbineId + 1;
    out[C_TURBINE] = this.turbineId;
    out[C_TS] = this.bootMs + k * FRAME_PERIOD_MS;
    out[C_MEM] = this.freeMem;
    out[C_RPS] = q4(rpsReading);
    out[C_VOLT] = Math.max(0, Math.round(voltageRaw));
    out[C_QW] = q6(qw);
    out[C_QX] = q6(qx);
    out[C_QY] = q6(qy);
    out[C_QZ] = q6(qz);
    out[C_GX] = q6(dRoll - dYaw * sinP + gyroNoiseX);
    out[C_GY] = q6(dPitch * cosR + dYaw * cosP * sinR + gyroNoiseY);
    out[C_GZ] = q6(-dPitch * sinR + dYaw * cosP * cosR + gyroNoiseZ);
    // Gravity seen in the body frame (in g), plus vibration-driven noise.
    out[C_AX] = q6(-sinP + accelNoiseX);
    out[C_AY] = q6(cosP * sinR + accelNoiseY);
    out[C_AZ] = q6(cosP * cosR + accelNoiseZ);
    const e = this.envReading;
    out[C_GEARBOX] = e[0];
    out[C_AMB] = e[1];
    out[C_HUM] = e[2];
    out[C_PRES] = e[3];
    out[C_GAS] = e[4];
    out[C_WIND] = q4(windReading);

    if (fault) {
      if (fault.kind === 'stuck_sensor') {
        if (fault.framesDone === 0 && k === 0) this.frozen.set(out); // nothing read before: freeze the first frame
        if (fault.severity === 'mild') for (const c of IMU_COLUMNS) out[c] = this.frozen[c];
        else out.set(this.frozen);
      } else if (fault.kind === 'sensor_dropout') {
        out[C_VOLT] = 0;
        if (fault.severity === 'severe') {
          for (const c of IMU_COLUMNS) out[c] = 0;
          out[C_RPS] = 0;
          out[C_WIND] = 0;
        }
      }
    }

    if (fault) {
      const eventTime = this.clock.at(k);
      if (fault.framesDone === 0) {
        this.history.push({ turbineId: this.turbineId, start: eventTime, end: eventTime, kind: fault.kind, severity: fault.severity });
      } else {
        this.history[this.history.length - 1].end = eventTime;
      }
      fault.framesDone++;
      if (fault.framesDone >= fault.durationFrames) this.endFault();
    }
    this.k = k + 1;
  }
}
