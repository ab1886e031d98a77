/** Messages between the fleet's main thread and its turbine workers (structured-clone plain data). */
import type { ContingencyAlert, ContingencyState } from '../edge/contingency';
import type { FaultKind, FaultSeverity } from '../turbine/faults';

/** One turbine a worker runs: its device bundle and agent state folder. */
export interface TurbineSpec {
  index: number;
  thingName: string;
  bundleDir: string;
  stateDir: string;
}

/** What a worker is started with. */
export interface WorkerSetup {
  turbines: TurbineSpec[];
  publicKeyPem: string;
  /** Package file loaded by agents that hold no model yet. */
  initialPackage: string;
  /** Simulated seconds per wall second (1: real time, 20 frames/s per turbine). */
  speed: number;
  seed: number;
  heartbeatSeconds: number;
  captureSampleRate: number;
  /** Agents started at the same time per worker. */
  startConcurrency: number;
  /** Mean wind (rps) per turbine at start; default the simulator's. */
  windMean?: number;
}

/** Main → worker. */
export type WorkerCommand =
  | { type: 'inject'; index: number; kind: FaultKind; severity: FaultSeverity; seconds: number; id: number }
  | { type: 'clear'; index: number; id: number }
  | { type: 'wind'; index: number | null; rps: number; id: number }
  | { type: 'watch'; indices: number[] }
  | { type: 'stop' };

/** Live state of one turbine, sent about twice a second. */
export interface TurbineStatus {
  index: number;
  rps: number;
  wind: number;
  fault: { kind: FaultKind; severity: FaultSeverity } | null;
  brake: boolean;
  generatorConnected: boolean;
  produced: number;
  /** Frames due since the worker started producing (real time x speed); produced lags it when the machine cannot keep up. */
  due: number;
  /** Frames the agent's runtime has processed (through the feature pipeline and, per window, the model). */
  processed: number;
  queued: number;
  dropped: number;
  windowsScored: number;
  alarms: number;
  model: string | null;
  version: string | null;
  online: boolean;
  contingency: ContingencyState;
}

/** Worker → main. */
export type WorkerEvent =
  | { type: 'progress'; started: number; total: number }
  | { type: 'ready' }
  | { type: 'status'; turbines: TurbineStatus[]; rssBytes: number }
  | { type: 'reply'; id: number; error?: string }
  | { type: 'fault'; index: number; kind: FaultKind; severity: FaultSeverity; wallMs: number; eventTime: string; frame: number }
  | { type: 'alarm'; index: number; wallMs: number; endEventTime: string; score: number; overThreshold: string[] }
  | { type: 'contingency'; index: number; alert: ContingencyAlert }
  | { type: 'swap'; index: number; to: { name: string; version: string } }
  | { type: 'features'; index: number; eventTimes: string[]; values: number[][] }
  | { type: 'log'; line: string }
  | { type: 'stopped' }
  | { type: 'fatal'; error: string };
