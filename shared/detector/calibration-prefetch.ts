/**
 * The false-alarm calibration's data work on the machine's other core. The calibration turbines do not
 * depend on the trained model: a worker thread (calibration-worker.ts) simulates or reads the first farm
 * while the main thread preprocesses the training data, cuts its windows (with the training statistics)
 * while it trains, and when the model arrives scores that farm and then prepares and scores the others one
 * at a time, while the main thread fits the budget thresholds. The worker runs the same functions
 * (calibration-data.ts) on the same inputs, so its results are the same bytes as scoreCalibrationSource's
 * on one thread.
 */
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { PreprocessingParams } from '../features/params';
import type { FeatureStatistics } from '../features/statistics';
import { startTypeScriptWorker } from '../workers/typescript-worker';
import type { BackendName } from './backend';
import type { CalibrationScoring, CalibrationSource, ScoredCalibration } from './calibration-data';
import type { ModelFiles } from './model-io';

/** Main thread to worker. */
export type CalibrationRequest =
  | { type: 'statistics'; stats: FeatureStatistics; params: PreprocessingParams }
  | { type: 'score'; backend: BackendName; modelJson: string; weights: Uint8Array; scoring: CalibrationScoring; chunks: number };

/** Worker to main thread. */
export type CalibrationReply = { type: 'scored'; scored: ScoredCalibration } | { type: 'error'; message: string };

/** A running calibration worker; `close()` it in every case (it is also unref'd, so it never holds the process). */
export class CalibrationPrefetch {
  private readonly worker: Worker;
  private failure: Error | null = null;
  private pending: { resolve: (s: ScoredCalibration) => void; reject: (e: Error) => void } | null = null;

  /** Starts the worker; it begins simulating or reading the first farm of `source` at once. */
  constructor(source: CalibrationSource) {
    this.worker = startTypeScriptWorker(join(__dirname, 'calibration-worker.ts'), { workerData: { source } });
    this.worker.unref();
    this.worker.on('message', (m: CalibrationReply) => {
      if (m.type === 'error') this.fail(new Error(m.message));
      else this.settle((p) => p.resolve(m.scored));
    });
    this.worker.on('error', (err) => this.fail(new Error(`calibration worker failed: ${err.message}`)));
    this.worker.on('exit', (code) => this.fail(new Error(`calibration worker exited (code ${code}) before it answered`)));
  }

  /** Hands over the training statistics: the worker cuts the calibration windows with them. */
  setStatistics(stats: FeatureStatistics, params: PreprocessingParams): void {
    this.post({ type: 'statistics', stats, params });
  }

  /** The model's errors (and the windows' variation and states) over the first `chunks` farms of the calibration data, scored on the worker. */
  score(model: ModelFiles, backend: BackendName, scoring: CalibrationScoring, chunks: number): Promise<ScoredCalibration> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error('calibration worker: one score request at a time'));
    const weights = new Uint8Array(model.weights.buffer, model.weights.byteOffset, model.weights.byteLength);
    const result = new Promise<ScoredCalibration>((resolve, reject) => (this.pending = { resolve, reject }));
    this.post({ type: 'score', backend, modelJson: model.modelJson, weights, scoring, chunks });
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
