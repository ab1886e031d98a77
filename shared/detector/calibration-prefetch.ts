/**
 * The false-alarm calibration's data work on the machine's other core. The calibration turbines do not
 * depend on the trained model: a worker thread (calibration-worker.ts) simulates or reads them while the
 * main thread preprocesses the training data, cuts their windows (with the training statistics) while it
 * trains, and runs the model's forward passes over them while it fits the budget thresholds. The worker
 * runs the same functions on the same inputs with the same batches, so the errors are the same bytes as
 * calibrateThresholds computes on one thread; calibrationWindows then builds the scored windows the same way.
 */
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { PreprocessingParams } from '../features/params';
import type { FeatureStatistics } from '../features/statistics';
import { startTypeScriptWorker } from '../workers/typescript-worker';
import type { ScoredNormalWindows } from './alarm-levels';
import type { BackendName } from './backend';
import type { CalibrationFarm } from './calibration';
import { operatingStates } from './conditioning';
import type { ModelFiles } from './model-io';
import { windowVariation } from './scoring';
import type { Thresholds } from './thresholds';
import type { WindowSet } from './windows';

/** Where the calibration turbines come from: simulated, or a farm CSV of normal operation. */
export type CalibrationSource = { farm: CalibrationFarm } | { path: string };

/** Main thread to worker. */
export type CalibrationRequest =
  | { type: 'statistics'; stats: FeatureStatistics; params: PreprocessingParams }
  | { type: 'score'; backend: BackendName; modelJson: string; weights: Uint8Array; spans: number[] };

/** Worker to main thread. */
export type CalibrationReply =
  | { type: 'scored'; windows: Float32Array; count: number; turbineId: Int32Array; errors: Float32Array[] }
  | { type: 'error'; message: string };

/** The calibration windows and their errors for each requested span (reconstructionErrorsOver's layout). */
export interface ScoredCalibration {
  set: WindowSet;
  turbineId: Int32Array;
  errors: Float32Array[];
}

/** The error spans calibration needs for thresholds `t`: the whole-window rule's and the onset rule's. */
export function calibrationSpans(t: Pick<Thresholds, 'errorSteps' | 'recent'>): number[] {
  return [t.errorSteps, t.recent?.errorSteps ?? t.errorSteps];
}

/** The scored normal windows calibrateOnWindows takes, from windows and errors for calibrationSpans(t). */
export function calibrationWindows(set: WindowSet, turbineId: Int32Array, [errors, recent]: Float32Array[], t: Thresholds): ScoredNormalWindows {
  return {
    errors,
    recentErrors: t.recent ? recent : null,
    variation: t.flatline ? windowVariation(set, t.variationSteps) : null,
    states: t.scale ? operatingStates(set, t.scale.recentSteps) : null,
    groups: turbineId,
  };
}

/** A running calibration worker; `close()` it in every case (it is also unref'd, so it never holds the process). */
export class CalibrationPrefetch {
  private readonly worker: Worker;
  private failure: Error | null = null;
  private pending: { resolve: (s: ScoredCalibration) => void; reject: (e: Error) => void } | null = null;

  /** Starts the worker; it begins simulating or reading `source` at once. */
  constructor(source: CalibrationSource) {
    this.worker = startTypeScriptWorker(join(__dirname, 'calibration-worker.ts'), { workerData: { source } });
    this.worker.unref();
    this.worker.on('message', (m: CalibrationReply) => {
      if (m.type === 'error') this.fail(new Error(m.message));
      else this.settle((p) => p.resolve({ set: { windows: m.windows, count: m.count }, turbineId: m.turbineId, errors: m.errors }));
    });
    this.worker.on('error', (err) => this.fail(new Error(`calibration worker failed: ${err.message}`)));
    this.worker.on('exit', (code) => this.fail(new Error(`calibration worker exited (code ${code}) before it answered`)));
  }

  /** Hands over the training statistics: the worker cuts the calibration windows with them. */
  setStatistics(stats: FeatureStatistics, params: PreprocessingParams): void {
    this.post({ type: 'statistics', stats, params });
  }

  /** The model's errors over the calibration windows for `spans` (forward passes on the worker). */
  score(model: ModelFiles, backend: BackendName, spans: number[]): Promise<ScoredCalibration> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error('calibration worker: one score request at a time'));
    const weights = new Uint8Array(model.weights.buffer, model.weights.byteOffset, model.weights.byteLength);
    const result = new Promise<ScoredCalibration>((resolve, reject) => (this.pending = { resolve, reject }));
    this.post({ type: 'score', backend, modelJson: model.modelJson, weights, spans });
    return result;
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    this.failure ??= new Error('calibration worker closed');
    await this.worker.terminate();
  }

  private post(request: CalibrationRequest): void {
    if (!this.failure) this.worker.postMessage(request);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.settle((p) => p.reject(this.failure!));
  }

  private settle(f: (p: NonNullable<CalibrationPrefetch['pending']>) => void): void {
    const p = this.pending;
    this.pending = null;
    if (p) f(p);
  }
}
