/**
 * A wind farm of simulated turbines in lockstep, and the fault schedule that spreads every fault kind at
 * both severities over it. Rows are ordered by time, then turbine (as a gateway logging every turbine would
 * write them); the turbineId column tells them apart.
 */
import { DEFAULT_START_TIME, EventClock, toEpochMs } from './event-time';
import { FAULT_KINDS, FAULT_SEVERITIES, type FaultKind, type FaultSeverity, type SimulatedFaultLabel } from './faults';
import { columnList, createFrameColumns } from './frames';
import { Random } from './random';
import { FRAME_PERIOD_MS, type FrameColumns } from './schema';
import { STARTUP_S, TurbineSimulator, type StopWindow } from './simulator';

const FRAMES_PER_S = 1000 / FRAME_PERIOD_MS;
const FRAMES_PER_MINUTE = 60 * FRAMES_PER_S;

/** How faults are spread in time (seconds): episode length, normal gap before each, lead-in and tail. */
export const FAULT_SCHEDULE = {
  minDurationS: 20,
  maxDurationS: 120,
  minGapS: 60,
  maxGapS: 180,
  /** Normal data kept at the end of every turbine's series. */
  tailS: 30,
  /** Normal margin kept around a stop and its start-up. */
  stopMarginS: 10,
} as const;

/** One planned injection: turbine, first frame (per-turbine index), length and kind. */
export interface ScheduledFault {
  turbineId: number;
  startFrame: number;
  durationFrames: number;
  kind: FaultKind;
  severity: FaultSeverity;
}

export interface FarmOptions {
  /** Number of turbines (turbineId 0..turbines-1). Default 4. */
  turbines?: number;
  /** Simulated duration in minutes (frames = minutes * 1200 per turbine). Default 30. */
  minutes?: number;
  /** Integer seed. Default 42. */
  seed?: number;
  /** Inject the fault schedule. Default false (normal data only). */
  faults?: boolean;
  /** eventTime of the first frame. Default 2021-03-01T12:00:00Z. */
  startTime?: Date | string | number;
}

/** A set of farms of one shape: `count` farms of `turbines` x `minutes`, seeds firstSeed, firstSeed + 1, ... */
export interface FarmSet {
  turbines: number;
  minutes: number;
  firstSeed: number;
  count: number;
}

/** A simulated farm: its frames and the labels of every injected fault. */
export interface FarmData {
  frames: FrameColumns;
  labels: SimulatedFaultLabel[];
}

interface ResolvedFarmOptions {
  turbines: number;
  framesPerTurbine: number;
  seed: number;
  faults: boolean;
  startMs: number;
}

/** Validates farm options, naming the bad one; nothing is simulated before this passes. */
function resolveFarmOptions(options: FarmOptions): ResolvedFarmOptions {
  const turbines = options.turbines ?? 4;
  const minutes = options.minutes ?? 30;
  const seed = options.seed ?? 42;
  if (!Number.isInteger(turbines) || turbines < 1 || turbines > 10_000) {
    throw new Error(`turbines must be an integer from 1 to 10000, got ${turbines}`);
  }
  if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0) {
    throw new Error(`minutes must be a positive number, got ${minutes}`);
  }
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const framesPerTurbine = Math.round(minutes * FRAMES_PER_MINUTE);
  if (framesPerTurbine < 1) throw new Error(`minutes must give at least one frame (0.05 s), got ${minutes}`);
  return { turbines, framesPerTurbine, seed, faults: options.faults ?? false, startMs: toEpochMs(options.startTime ?? DEFAULT_START_TIME) };
}

/**
 * Plans fault episodes for every turbine: after a normal gap of 60–180 s, an episode of 20–120 s, the kinds
 * taken in turn from a shuffled deck of every kind × severity (reshuffled when used up) and handed to the
 * turbine that is free earliest, so a short run still covers every pair across the farm. Episodes keep away
 * from planned stops and start-ups; the end of every series stays normal.
 */
export function scheduleFaults(turbines: number, framesPerTurbine: number, seed: number, stops: StopWindow[][]): ScheduledFault[] {
  const rng = new Random(`${seed}:farm:schedule`);
  const s = FAULT_SCHEDULE;
  const deck: Array<[FaultKind, FaultSeverity]> = [];
  const refill = (): void => {
    const pairs: Array<[FaultKind, FaultSeverity]> = [];
    for (const kind of FAULT_KINDS) for (const severity of FAULT_SEVERITIES) pairs.push([kind, severity]);
    deck.push(...rng.shuffle(pairs));
  };
  const nextFree = new Array<number>(turbines).fill(0);
  const done = new Array<boolean>(turbines).fill(false);
  const plan: ScheduledFault[] = [];
  const margin = s.stopMarginS * FRAMES_PER_S;
  const startup = STARTUP_S * FRAMES_PER_S;
  const lastAllowed = framesPerTurbine - s.tailS * FRAMES_PER_S; // an episode must end before this frame
  for (;;) {
    let t = -1;
    for (let i = 0; i < turbines; i++) if (!done[i] && (t < 0 || nextFree[i] < nextFree[t])) t = i;
    if (t < 0) break;
    const gap = Math.round(rng.between(s.minGapS, s.maxGapS) * FRAMES_PER_S);
    const duration = Math.round(rng.between(s.minDurationS, s.maxDurationS) * FRAMES_PER_S);
    let start = nextFree[t] + gap;
    // Move past any stop (with its start-up) the episode would overlap.
    for (const stop of stops[t]) {
      if (start + duration + margin > stop.start && start < stop.end + startup + margin) start = stop.end + startup + margin + 1;
    }
    if (start + duration > lastAllowed) {
      done[t] = true;
      continue;
    }
    if (deck.length === 0) refill();
    const [kind, severity] = deck.shift()!;
    plan.push({ turbineId: t, startFrame: start, durationFrames: duration, kind, severity });
    nextFree[t] = start + duration;
  }
  return plan.sort((a, b) => a.turbineId - b.turbineId || a.startFrame - b.startFrame);
}

/**
 * Simulates a farm block by block (bounded memory for long runs): the fault schedule and labels are known
 * up front, frames come from nextBlock() until it returns null.
 */
export class FarmSimulator {
  readonly turbines: number;
  readonly framesPerTurbine: number;
  readonly seed: number;
  /** Planned injections (empty without faults). */
  readonly schedule: ScheduledFault[];
  /** Labels of every planned injection, start/end as eventTime strings of the first and last frame. */
  readonly labels: SimulatedFaultLabel[];
  private readonly sims: TurbineSimulator[];
  private readonly pending: ScheduledFault[][];
  private readonly clock: EventClock;
  private step = 0;

  constructor(options: FarmOptions = {}) {
    const o = resolveFarmOptions(options);
    this.turbines = o.turbines;
    this.framesPerTurbine = o.framesPerTurbine;
    this.seed = o.seed;
    this.clock = new EventClock(o.startMs);
    this.sims = Array.from({ length: o.turbines }, (_, turbineId) => new TurbineSimulator({ turbineId, seed: o.seed, startTime: o.startMs }));
    this.schedule = o.faults
      ? scheduleFaults(o.turbines, o.framesPerTurbine, o.seed, this.sims.map((sim) => sim.plannedStops(o.framesPerTurbine)))
      : [];
    this.pending = this.sims.map((sim) => this.schedule.filter((f) => f.turbineId === sim.turbineId));
    this.labels = this.schedule
      .map((f) => ({
        turbineId: f.turbineId,
        start: this.clock.at(f.startFrame),
        end: this.clock.at(f.startFrame + f.durationFrames - 1),
        kind: f.kind,
        severity: f.severity,
      }))
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.turbineId - b.turbineId));
  }

  /** Total rows the farm produces (turbines × frames per turbine). */
  get totalRows(): number {
    return this.turbines * this.framesPerTurbine;
  }

  /** Rows produced so far. */
  get rowsDone(): number {
    return this.step * this.turbines;
  }

  /** The next rows covering up to maxSteps time steps (each one row per turbine), or null when finished. */
  nextBlock(maxSteps = 1200): FrameColumns | null {
    const steps = Math.min(maxSteps, this.framesPerTurbine - this.step);
    if (steps <= 0) return null;
    const frames = createFrameColumns(steps * this.turbines);
    this.fill(frames, 0, steps);
    return frames;
  }

  /** Simulates `steps` time steps into frames starting at row `at`. */
  fill(frames: FrameColumns, at: number, steps: number): void {
    const cols = columnList(frames);
    const times = frames.eventTime;
    const sims = this.sims;
    const n = sims.length;
    let row = at;
    for (let s = 0; s < steps; s++, this.step++) {
      const eventTime = this.clock.at(this.step); // one string shared by the step's rows
      for (let t = 0; t < n; t++, row++) {
        const queue = this.pending[t];
        if (queue.length > 0 && queue[0].startFrame === this.step) {
          const f = queue.shift()!;
          sims[t].inject(f.kind, f.severity, f.durationFrames);
        }
        sims[t].nextIntoColumns(cols, row);
        times[row] = eventTime;
      }
    }
  }
}

/** Simulates a whole farm in memory: frames ordered by time then turbine, and the fault labels. */
export function simulateFarm(options: FarmOptions = {}): FarmData {
  const farm = new FarmSimulator(options);
  const frames = createFrameColumns(farm.totalRows);
  farm.fill(frames, 0, farm.framesPerTurbine);
  return { frames, labels: farm.labels };
}
