/** How a farm is started (`startFleet`'s options) and the check that refuses bad ones before anything starts. */
import type { LocalCloud } from '../cloud/local-cloud';

/** How to start a farm. */
export interface FleetOptions {
  /** Folder for device bundles, agent states and the console identity (and the cloud, when started here). */
  dir: string;
  /** Signed model package every agent starts with. */
  packagePath: string;
  /** Public key (PEM) of the model signer; agents trust only it. */
  publicKeyPem: string;
  /** Number of turbines (default 5). */
  turbines?: number;
  /** Simulated seconds per wall second (default 1: real time, 20 frames/s per turbine). */
  speed?: number;
  /** Worker threads (default: one per core). */
  workers?: number;
  /** A running local cloud; default: one started in <dir>/cloud and stopped with the farm. */
  cloud?: LocalCloud;
  /** Or the state folder of a local cloud running in another process (npm run cloud): found by its cloud.json. */
  cloudDir?: string;
  /** Seed of the simulated turbines (default 42). */
  seed?: number;
  /** Agent heartbeat period (default 10 s). */
  heartbeatSeconds?: number;
  /** Share of scored windows captured to S3 (default 0.1). */
  captureSampleRate?: number;
  /** Mean wind (rps) of every turbine at start (default the simulator's 2.15). */
  windMean?: number;
  /** Thing names are <prefix>0..N-1 (default "turbine-"). */
  prefix?: string;
  /** Dashboard port (default 0: any free port), or false for no dashboard. */
  dashboardPort?: number | false;
  log?: (line: string) => void;
  /** Progress of long steps (provisioning, agent start-up). */
  onProgress?: (step: 'provision' | 'agents' | 'online' | 'models', done: number, total: number) => void;
}

/** Throws a clear error for the first option out of range. */
export function checkFleetOptions(o: FleetOptions): void {
  const n = o.turbines ?? 5;
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new Error(`turbines must be an integer from 1 to 10000, got ${o.turbines}`);
  const speed = o.speed ?? 1;
  if (!Number.isFinite(speed) || speed <= 0 || speed > 100) throw new Error(`speed must be a number above 0 and at most 100, got ${o.speed}`);
  if (o.workers !== undefined && (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 64)) throw new Error(`workers must be an integer from 1 to 64, got ${o.workers}`);
  if (o.heartbeatSeconds !== undefined && !(o.heartbeatSeconds > 0)) throw new Error(`heartbeatSeconds must be positive, got ${o.heartbeatSeconds}`);
  if (o.captureSampleRate !== undefined && !(o.captureSampleRate >= 0 && o.captureSampleRate <= 1)) throw new Error(`captureSampleRate must be from 0 to 1, got ${o.captureSampleRate}`);
}
