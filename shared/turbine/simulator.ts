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
import type { ActiveFault, Readings } from './fault-effects';
import * as faultEffects from './fault-effects';
import { assertFault, type FaultKind, type FaultSeverity, type SimulatedFaultLabel } from './faults';
import { Random } from './random';
import { FRAME_PERIOD_MS, NUMERIC_COLUMNS, type RawFrame } from './schema';
import type { ImuInput } from './sensor-row';
import * as sensorRow from './sensor-row';
import * as turbineModel from './turbine-model';

export type { ActiveFault } from './fault-effects';
export { NUMERIC_WIDTH } from './sensor-row';
export { STARTUP_S, TURBINE_MODEL } from './turbine-model';

// Module-local copies of the hot constants and helpers: an imported binding is a property read (a getter
// once compiled to CommonJS) on every use, which tripled the cost of a frame.
const { AMB_A, AMB_B, DIR_A, DIR_B, DT, ENV_EVERY, GAS_A, GAS_B, GEARBOX_K, generatorVoltage, GUST_DECAY, GUST_RISE, HUM_A, HUM_B, PRES_A, PRES_B, ROTOR_BRAKE_STEP, ROTOR_K, ROTOR_STARTUP_K, rotorTarget, SWAY_A, SWAY_B, TURBINE_MODEL, TWO_PI, VIB_A, VIB_B, WIND_SLOW_A, WIND_SLOW_B, WIND_TURB_A, WIND_TURB_B, YAW_STEP } = turbineModel;
const { C_AMB, C_GAS, C_GEARBOX, C_HUM, C_MEM, C_NANO, C_PRES, C_RPS, C_TS, C_TURBINE, C_VOLT, C_WIND, NUMERIC_WIDTH, q2, q4, writeImu } = sensorRow;
const { perturbReadings, replaceReadings } = faultEffects;

const M = TURBINE_MODEL;

/** One frame's intermediate values, reused frame after frame (the batch path allocates nothing). */
interface FrameDraft extends Readings {
  /** True wind and the anemometer's reading. */
  windTrue: number;
  windReading: number;
  /** Noise drawn for the rps and voltage readings. */
  rpsNoise: number;
  voltNoise: number;
  /** Orientation before any fault. */
  cleanRoll: number;
  cleanPitch: number;
  cleanYaw: number;
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

  // This frame's intermediate values and the IMU's inputs, reused frame after frame.
  private readonly draft: FrameDraft = { windTrue: 0, windReading: 0, rpsNoise: 0, voltNoise: 0, cleanRoll: 0, cleanPitch: 0, cleanYaw: 0, rps: 0, voltage: 0, perturbRoll: 0, perturbPitch: 0, perturbYaw: 0 };
  private readonly imu: ImuInput = { roll: 0, pitch: 0, yaw: 0, dRoll: 0, dPitch: 0, dYaw: 0, gyroNoise: [0, 0, 0], accelNoise: [0, 0, 0] };

  // Fault state.
  private active: ActiveFault | null = null;
  private prevPerturbRoll = 0;
  private prevPerturbPitch = 0;
  private prevPerturbYaw = 0;
  private readonly history: SimulatedFaultLabel[] = [];

  // Operator controls (the fleet's contingency actions and wind changes); all off by default.
  private operatorBrake = false;
  private generatorConnected = true;

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
    this.omega = rotorTarget(this.windMean + this.windSlow + this.windTurb);
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

  /** Mean wind (anemometer rps) the turbine sees from the next frame on; drift and gusts stay around it. */
  setWindMean(rps: number): void {
    if (!Number.isFinite(rps) || rps < 0 || rps > 20) throw new Error(`wind mean must be a number of rps from 0 to 20, got ${rps}`);
    this.windMean = rps;
  }

  /** The mean wind now (rps). */
  get windMeanRps(): number {
    return this.windMean;
  }

  /** Applies (true) or releases (false) the rotor brake from the next frame on (a contingency action). */
  setBrake(on: boolean): void {
    this.operatorBrake = on;
  }

  /** Connects (true) or disconnects (false) the generator: disconnected, the voltage reading is 0. */
  setGeneratorConnected(on: boolean): void {
    this.generatorConnected = on;
  }

  /** Operator controls now: brake applied, generator connected. */
  get controls(): { brake: boolean; generatorConnected: boolean } {
    return { brake: this.operatorBrake, generatorConnected: this.generatorConnected };
  }

  /** True rotor speed (rps) after the last frame, for drawings. */
  get rotorSpeed(): number {
    return this.omega;
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

  /**
   * Advances the physics one frame and writes the sensor readings into this.row. The random draws happen
   * in a fixed order (wind, rotor, nacelle, environment; faults from their own stream), which is what
   * keeps a seed's frames the same.
   */
  private step(): void {
    const k = this.k;
    const d = this.draft;
    this.stepWind(k, d);
    this.stepRotor(k, d);
    this.stepNacelle(d);
    if (k % ENV_EVERY === 0) this.stepEnvironment();
    // ---- What the sensors report; faults act from here on, with their own random stream.
    const fault = this.active;
    d.rps = this.omega * (1 + d.rpsNoise);
    // A disconnected generator delivers nothing: the load's voltage reads 0 (noise still drawn, streams stay aligned).
    d.voltage = this.generatorConnected ? generatorVoltage(this.omega) + d.voltNoise : 0;
    d.perturbRoll = 0;
    d.perturbPitch = 0;
    d.perturbYaw = 0;
    if (fault) perturbReadings(fault, this.faultRng, this.omega, this.rotorPhase, d.voltNoise, d);
    this.writeRow(k, d);
    if (fault) {
      replaceReadings(fault, k, this.row, this.frozen);
      this.recordFaultFrame(fault, k);
    }
    this.k = k + 1;
  }

  /** Wind: slow drift + turbulence + gusts (a gust lifts a target that decays; the wind follows it), and the anemometer. */
  private stepWind(k: number, d: FrameDraft): void {
    const r = this.rng;
    this.windSlow = WIND_SLOW_A * this.windSlow + WIND_SLOW_B * r.normal();
    this.windTurb = WIND_TURB_A * this.windTurb + WIND_TURB_B * r.normal();
    if (k >= this.nextGustFrame) {
      this.gustTarget += Math.min(M.gustMaxAmplitude, r.exponential(M.gustMeanAmplitude));
      this.nextGustFrame = k + 1 + Math.ceil(r.exponential(M.gustMeanIntervalS / DT));
    }
    this.gustTarget *= GUST_DECAY;
    this.gust += (this.gustTarget - this.gust) * GUST_RISE;
    d.windTrue = Math.max(0, this.windMean + this.windSlow + this.windTurb + this.gust);
    d.windReading = Math.max(0, d.windTrue + M.anemometerNoise * r.normal());
  }

  /** Rotor: inertia towards the wind's steady speed; braked during a stop, slower to spin up from rest. */
  private stepRotor(k: number, d: FrameDraft): void {
    const r = this.rng;
    const braked = this.isBraked(k) || this.operatorBrake;
    if (braked) {
      // Constant brake torque against the rotor's inertia: a ramp, not a jump.
      this.omega = Math.max(0, this.omega - ROTOR_BRAKE_STEP);
    } else {
      const target = rotorTarget(d.windTrue);
      this.omega += (target - this.omega) * (this.omega < 0.5 * target ? ROTOR_STARTUP_K : ROTOR_K);
    }
    this.rotorPhase += TWO_PI * this.omega * DT;
    if (this.rotorPhase > TWO_PI) this.rotorPhase -= TWO_PI;
    d.rpsNoise = M.rotorReadingNoise * r.normal();
    d.voltNoise = M.voltageNoise * r.normal();
  }

  /** Nacelle: vibration grows with rotor speed; tower sways; thrust tilts it; yaw follows the wind. IMU noise. */
  private stepNacelle(d: FrameDraft): void {
    const r = this.rng;
    const omega = this.omega;
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
    d.cleanRoll = M.rollOffset + this.swayRoll + vib * this.vibRoll;
    d.cleanPitch = M.pitchOffset + M.thrustTilt * (omega * omega - M.thrustTiltReference) + this.swayPitch + vib * this.vibPitch;
    d.cleanYaw = this.nacelleYaw + M.yawVibrationShare * vib * this.vibYaw;
    const imu = this.imu;
    imu.gyroNoise[0] = M.gyroNoise * r.normal();
    imu.gyroNoise[1] = M.gyroNoise * r.normal();
    imu.gyroNoise[2] = M.gyroNoise * r.normal();
    const accelSigma = M.accelNoise + M.accelPerVibration * vib;
    imu.accelNoise[0] = accelSigma * r.normal();
    imu.accelNoise[1] = accelSigma * r.normal();
    imu.accelNoise[2] = accelSigma * r.normal();
    if (Number.isNaN(this.prevRoll)) {
      this.prevRoll = d.cleanRoll;
      this.prevPitch = d.cleanPitch;
      this.prevYaw = d.cleanYaw;
    }
  }

  /** Environment sensors report once a second; the gearbox warms with rotor speed. */
  private stepEnvironment(): void {
    const r = this.rng;
    const omega = this.omega;
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

  /** Writes frame k's readings into this.row: the IMU from the reported orientation, the rest as read. */
  private writeRow(k: number, d: FrameDraft): void {
    const out = this.row;
    const imu = this.imu;
    imu.roll = d.cleanRoll + d.perturbRoll;
    imu.pitch = d.cleanPitch + d.perturbPitch;
    imu.yaw = d.cleanYaw + d.perturbYaw;
    imu.dRoll = (d.cleanRoll + d.perturbRoll - this.prevRoll - this.prevPerturbRoll) / DT;
    imu.dPitch = (d.cleanPitch + d.perturbPitch - this.prevPitch - this.prevPerturbPitch) / DT;
    imu.dYaw = (d.cleanYaw + d.perturbYaw - this.prevYaw - this.prevPerturbYaw) / DT;
    this.prevRoll = d.cleanRoll;
    this.prevPitch = d.cleanPitch;
    this.prevYaw = d.cleanYaw;
    this.prevPerturbRoll = d.perturbRoll;
    this.prevPerturbPitch = d.perturbPitch;
    this.prevPerturbYaw = d.perturbYaw;
    out[C_NANO] = this.turbineId + 1;
    out[C_TURBINE] = this.turbineId;
    out[C_TS] = this.bootMs + k * FRAME_PERIOD_MS;
    out[C_MEM] = this.freeMem;
    out[C_RPS] = q4(d.rps);
    out[C_VOLT] = Math.max(0, Math.round(d.voltage));
    writeImu(out, imu);
    const e = this.envReading;
    out[C_GEARBOX] = e[0];
    out[C_AMB] = e[1];
    out[C_HUM] = e[2];
    out[C_PRES] = e[3];
    out[C_GAS] = e[4];
    out[C_WIND] = q4(d.windReading);
  }

  /** Extends the fault's label to frame k and ends the fault after its last frame. */
  private recordFaultFrame(fault: ActiveFault, k: number): void {
    const eventTime = this.clock.at(k);
    if (fault.framesDone === 0) {
      this.history.push({ turbineId: this.turbineId, start: eventTime, end: eventTime, kind: fault.kind, severity: fault.severity });
    } else {
      this.history[this.history.length - 1].end = eventTime;
    }
    fault.framesDone++;
    if (fault.framesDone >= fault.durationFrames) this.endFault();
  }
}
