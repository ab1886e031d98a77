/**
 * The labs' parameters in one place: mode, fleet size, durations, seed and data folder, from a profile
 * ('full' for a participant, 'ci' for a short headless run) with environment overrides:
 *
 *   LAB_PROFILE=ci|full   LAB_TURBINES=<n>   LAB_MINUTES=<m>   LAB_EPOCHS=<n>
 *   LAB_FLEET_SECONDS=<s> LAB_SEED=<n>       LAB_DATA_DIR=<folder>
 *   CLOUD_MODE=local|aws  (read by shared/cloud/config.ts, the same setting every command honours)
 *
 * `npm run notebooks` (and so `npm test`) defaults LAB_PROFILE to ci; JupyterLab uses full (`npm start` and Lab 04 run the fleet's cached detector, shared/fleet/trained-packages.ts; Lab 00 a small warm-up one, shared/labs/warmup-model.ts).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { cloudModeFromEnv, type CloudMode } from '../cloud/config';

/** Where the labs' cloud is: CLOUD_MODE, shared with every command. */
export type LabMode = CloudMode;
export type LabProfile = 'ci' | 'full';

export interface LabConfig {
  /** 'local' runs against the embedded local cloud; 'aws' against a real account. */
  mode: LabMode;
  profile: LabProfile;
  /** Turbines in the simulated farm (data set and fleet). */
  turbines: number;
  /** Minutes of simulated data per turbine (one frame every 50 ms). */
  minutes: number;
  /** Budget of training epochs. */
  trainingEpochs: number;
  /** How long the fleet run lasts, in seconds. */
  fleetSeconds: number;
  /** Seed of every random choice, so runs repeat. */
  seed: number;
  /** Where data sets, features and models go (absolute). */
  dataDir: string;
}

type ProfileValues = Pick<LabConfig, 'turbines' | 'minutes' | 'trainingEpochs' | 'fleetSeconds' | 'seed'>;

/**
 * The two profiles: 'full' is the workshop as a participant runs it, 'ci' the shortest run that still shows
 * every step. Full trains for the detector's measured default budget (DEFAULT_TRAINING.epochs, with early
 * stopping), so Lab 02 and Lab 03 make the same model.
 */
export const LAB_PROFILES: Readonly<Record<LabProfile, Readonly<ProfileValues>>> = {
  full: { turbines: 5, minutes: 60, trainingEpochs: 15, fleetSeconds: 300, seed: 42 },
  ci: { turbines: 2, minutes: 5, trainingEpochs: 3, fleetSeconds: 20, seed: 42 },
};

/** The environment variables this module reads. */
export const LAB_ENV_VARS = ['LAB_PROFILE', 'CLOUD_MODE', 'LAB_TURBINES', 'LAB_MINUTES', 'LAB_EPOCHS', 'LAB_FLEET_SECONDS', 'LAB_SEED', 'LAB_DATA_DIR'] as const;

/** A setting given a value it cannot take. */
export class LabConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabConfigError';
  }
}

/** The project root (this file lives in shared/config/). */
export const PROJECT_ROOT = resolve(__dirname, '..', '..');

/**
 * Builds the configuration from env (default: process.env); cwd resolves a relative LAB_DATA_DIR.
 * Throws LabConfigError naming the variable, its value and what it accepts.
 */
export function loadLabConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): LabConfig {
  const profile = oneOf(env, 'LAB_PROFILE', ['full', 'ci'] as const) ?? 'full';
  const base = LAB_PROFILES[profile];
  const dataDirRaw = env.LAB_DATA_DIR?.trim();
  return {
    mode: labMode(env),
    profile,
    turbines: integer(env, 'LAB_TURBINES', 1, 1000) ?? base.turbines,
    minutes: positiveNumber(env, 'LAB_MINUTES', 24 * 60) ?? base.minutes,
    trainingEpochs: integer(env, 'LAB_EPOCHS', 1, 100_000) ?? base.trainingEpochs,
    fleetSeconds: positiveNumber(env, 'LAB_FLEET_SECONDS', 24 * 3600) ?? base.fleetSeconds,
    seed: integer(env, 'LAB_SEED', 0, 2 ** 32 - 1) ?? base.seed,
    dataDir: dataDirRaw ? (isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw)) : join(PROJECT_ROOT, 'data'),
  };
}

/** One line describing config, for logs and notebook headers. */
export function describeLabConfig(c: LabConfig): string {
  return `profile ${c.profile}, mode ${c.mode}, ${c.turbines} turbines, ${c.minutes} min of data, ${c.trainingEpochs} epochs, fleet ${c.fleetSeconds} s, seed ${c.seed}`;
}

/** CLOUD_MODE through the cloud's own parser, so labs and commands cannot disagree; errors as LabConfigError. */
function labMode(env: NodeJS.ProcessEnv): LabMode {
  try {
    return cloudModeFromEnv(env);
  } catch (err) {
    throw new LabConfigError((err as Error).message);
  }
}

/** Reads an environment value, treating unset and blank alike. */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[]): T | undefined {
  const v = read(env, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new LabConfigError(`${name}: "${v}" is not one of ${allowed.join(', ')}`);
  return v as T;
}

function integer(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const v = read(env, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new LabConfigError(`${name}: "${v}" is not a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new LabConfigError(`${name}: ${v} is out of range; expected ${min} to ${max}`);
  return n;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, max: number): number | undefined {
  const v = read(env, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d*\.?\d+$/.test(v) || !Number.isFinite(n)) throw new LabConfigError(`${name}: "${v}" is not a positive number`);
  if (n <= 0 || n > max) throw new LabConfigError(`${name}: ${v} is out of range; expected more than 0 and at most ${max}`);
  return n;
}
