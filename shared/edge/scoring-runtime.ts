/**
 * The scoring runtime: frames in, scored windows and alarms out. Frames go through the active model's
 * StreamingFeaturePipeline (statistics and preprocessing from its manifest), each finished window through
 * the model, then per-feature mean absolute error, the manifest's thresholds and a debouncer.
 *
 * One queue, processed in order, carries frames and model swaps, so a swap happens between two frames and
 * every window is scored by exactly one model. A new model is warmed up before it takes over: the recent
 * valid frames (kept from a point aligned with the old pipeline's blocks and window strides) are replayed
 * into its own pipeline, the windows this yields are its canary (output finite, right shape, median score
 * under a bound), and only a healthy model replaces the active one; its pipeline then continues exactly
 * where the old one was, so the next window comes at the same frame as it would have without the swap.
 * Bad input (not an object, missing, non-numeric or non-finite feature fields) is counted and logged, never
 * thrown.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { DEFAULT_PREPROCESSING, type PreprocessingParams } from '../features/params';
import { frameProblem, StreamingFeaturePipeline } from '../features/streaming';
import { operatingState } from '../detector/conditioning';
import { AlarmDebouncer, fastScore, featureRatios } from '../detector/thresholds';
import type { RawFrame } from '../turbine/schema';
import { parseFrameLine } from './frame-input';
import { type LoadedModel, type ModelManager, windowShape } from './model-manager';
import { ModelRejected } from './model-package';

/** One scored window. */
export interface ScoredWindow {
  /** Index (among every frame received, bad ones included) of the window's last frame. */
  endIndex: number;
  endEventTime: string;
  model: string;
  version: string;
  /** Per-feature mean absolute reconstruction error. */
  errors: number[];
  /** Largest error / threshold ratio (> 1: anomalous on some feature). */
  score: number;
  overThreshold: string[];
  /** Debounced alarm. */
  alarm: boolean;
  /** Model input (6 x side x side, normalised) and output, for data capture. */
  input: Float32Array;
  output: Float32Array;
  /** Inference time of the batch this window was in, in milliseconds. */
  latencyMs: number;
}

/** Counters of the runtime; nothing is dropped without counting it. */
export interface RuntimeCounters {
  framesReceived: number;
  framesAccepted: number;
  framesRejected: number;
  /** Frames refused because the queue was full (the device cannot keep up). */
  framesDropped: number;
  /** Valid frames that arrived while no model was loaded (kept for warm-up, not scored). */
  framesWithoutModel: number;
  windowsScored: number;
  /** Windows lost to an inference error. */
  windowsUnscored: number;
  inferenceErrors: number;
  alarms: number;
  swaps: number;
  modelsRefused: number;
}

/** Canary health check settings. */
export interface HealthOptions {
  /** Windows replayed through a new model before it takes over (default 8). */
  canaryWindows: number;
  /** Largest median error / threshold ratio a healthy model may show on them (default 10). */
  maxMedianScore: number;
}

/** What the canary found. */
export interface HealthReport {
  ok: boolean;
  canaryWindows: number;
  medianScore: number;
  reason?: string;
}

export interface ScoringRuntimeOptions {
  health?: Partial<HealthOptions>;
  /** Largest number of frames waiting (default 20000); more are counted as dropped. */
  maxQueue?: number;
  log?: (message: string) => void;
  /** Keep window input/output arrays in events (default true; capture needs them). */
  keepTensors?: boolean;
}

interface Slot {
  model: LoadedModel;
  pipeline: StreamingFeaturePipeline;
  debouncer: AlarmDebouncer;
  /** Global frame index of each frame pushed into pipeline, by local push count modulo its length. */
  globalIndex: Int32Array;
  params: PreprocessingParams;
}

type Item = { kind: 'frame'; frame: unknown; index: number } | { kind: 'swap'; model: LoadedModel; done: (r: HealthReport | Error) => void } | { kind: 'rollback'; done: (r: HealthReport | Error) => void };

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Per-feature drift of live inputs against the training statistics (inputs are normalised with them). */
export interface FeatureDrift {
  feature: string;
  /** Live mean and std of the normalised feature: 0 and 1 when live data looks like training data. */
  mean: number;
  std: number;
  /** Steps the figures cover. */
  steps: number;
  /** |mean| + |std - 1|: one number to rank features by. */
  drift: number;
}

/** Frames to scored windows; see the file comment. */
export class ScoringRuntime extends EventEmitter {
  readonly counters: RuntimeCounters = {
    framesReceived: 0,
    framesAccepted: 0,
    framesRejected: 0,
    framesDropped: 0,
    framesWithoutModel: 0,
    windowsScored: 0,
    windowsUnscored: 0,
    inferenceErrors: 0,
    alarms: 0,
    swaps: 0,
    modelsRefused: 0,
  };
  private readonly health: HealthOptions;
  private readonly maxQueue: number;
  private readonly log: (message: string) => void;
  private readonly keepTensors: boolean;
  private slot: Slot | null = null;
  /** Valid frames of the active pipeline (or waiting for a first model) from an aligned step on. */
  private history: { frame: RawFrame; index: number }[] = [];
  private queue: (Item | undefined)[] = [];
  private head = 0;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private readonly latencies = new Float64Array(2048);
  private latencyCount = 0;
  private driftSums = new Float64Array(18);
  private lastRejectionLog = 0;
  private suppressedRejections = 0;

  constructor(
    private readonly manager: ModelManager,
    opts: ScoringRuntimeOptions = {},
  ) {
    super();
    this.health = { canaryWindows: 8, maxMedianScore: 10, ...opts.health };
    this.maxQueue = opts.maxQueue ?? 20000;
    this.log = opts.log ?? (() => undefined);
    this.keepTensors = opts.keepTensors ?? true;
  }

  /** Frames waiting to be processed. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** The model scoring frames now, if any. */
  get activeModel(): LoadedModel | null {
    return this.slot?.model ?? null;
  }

  /** Queues one frame (an object with the raw columns); false when it was dropped because the queue is full. */
  push(frame: unknown): boolean {
    const index = this.counters.framesReceived++;
    if (this.queued >= this.maxQueue) {
      this.counters.framesDropped++;
      this.rejectLog(`frame ${index}: dropped, ${this.queued} frames already waiting`);
      return false;
    }
    this.enqueue({ kind: 'frame', frame, index });
    return true;
  }

  /** Queues one input line (CSV row or JSON object); a garbled line is counted as a rejected frame. */
  pushLine(line: string): boolean {
    const parsed = parseFrameLine(line);
    if ('problem' in parsed) {
      const index = this.counters.framesReceived++;
      this.reject(index, parsed.problem);
      return false;
    }
    return this.push(parsed.frame);
  }

  /**
   * Queues a swap to a loaded model: warm-up and canary as in the file comment. Resolves with the health
   * report once it is active; rejects with ModelRejected('failed-health-check') and leaves the active model
   * in place (the candidate is released) otherwise.
   */
  deploy(model: LoadedModel): Promise<HealthReport> {
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'swap', model, done: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    });
  }

  /** Queues a return to the manager's previous model (with the same warm-up and canary). */
  rollback(): Promise<HealthReport> {
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'rollback', done: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    });
  }

  /** Resolves when every queued frame and swap has been processed. */
  idle(): Promise<void> {
    if (!this.running && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Latency percentiles (ms) of the most recent inferences. */
  latencyPercentiles(): { p50: number; p90: number; p99: number; count: number } {
    const n = Math.min(this.latencyCount, this.latencies.length);
    if (n === 0) return { p50: 0, p90: 0, p99: 0, count: 0 };
    const s = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    const at = (q: number): number => Number(s[Math.min(n - 1, Math.floor(q * n))].toFixed(3));
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), count: n };
  }

  /** Drift per feature since the last reset; reset (default) starts a new period. */
  takeDrift(reset = true): FeatureDrift[] {
    const names = this.slot?.model.description.featureNames ?? [];
    const s = this.driftSums;
    if (reset) this.driftSums = new Float64Array(18);
    return names.map((feature, f) => {
      const n = s[f * 3];
      const mean = n > 0 ? s[f * 3 + 1] / n : 0;
      const std = n > 1 ? Math.sqrt(Math.max(0, (s[f * 3 + 2] - n * mean * mean) / (n - 1))) : 0;
      const r = (x: number): number => Number(x.toFixed(4));
      return { feature, mean: r(mean), std: r(std), steps: n, drift: n > 1 ? r(Math.abs(mean) + Math.abs(std - 1)) : 0 };
    });
  }

  private enqueue(item: Item): void {
    this.queue.push(item);
    if (!this.running) void this.pump();
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.head < this.queue.length) {
        const item = this.queue[this.head] as Item;
        this.queue[this.head++] = undefined;
        if (this.head > 4096 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        try {
          const pending = this.handle(item);
          if (pending) await pending;
        } catch (err) {
          // A bug must not stop the device: count it and go on with the next frame.
          this.counters.inferenceErrors++;
          this.log(`scoring error: ${(err as Error).message}`);
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private handle(item: Item): Promise<void> | undefined {
    if (item.kind === 'swap') return this.swap(item.model).then(item.done, item.done);
    if (item.kind === 'rollback') {
      const previous = this.manager.previous;
      if (!previous) {
        item.done(new Error('no previous model to roll back to'));
        return undefined;
      }
      return this.swap(previous, true).then(item.done, item.done);
    }
    const problem = frameProblem(item.frame);
    if (problem) {
      this.reject(item.index, problem);
      return undefined;
    }
    const frame = item.frame as RawFrame;
    this.counters.framesAccepted++;
    this.remember(frame, item.index);
    const slot = this.slot;
    if (!slot) {
      this.counters.framesWithoutModel++;
      return undefined;
    }
    const local = slot.pipeline.counters.accepted;
    slot.globalIndex[local % slot.globalIndex.length] = item.index;
    const windows = slot.pipeline.push(frame);
    if (windows.length === 0) return undefined;
    return this.score(slot, windows.map((w) => ({ data: w.data, endLocal: w.endIndex, endEventTime: w.endEventTime }))).then((scored) => {
      if (!scored) return;
      for (const w of scored) {
        this.counters.windowsScored++;
        if (w.alarm) {
          this.counters.alarms++;
          this.emit('alarm', w);
        }
        this.emit('window', w);
      }
    });
  }

  private reject(index: number, problem: string): void {
    this.counters.framesRejected++;
    this.emit('rejected', { index, problem });
    this.rejectLog(`frame ${index} rejected: ${problem}`);
  }

  // At most one log line per second for bad input, saying how many were not printed.
  private rejectLog(message: string): void {
    const now = Date.now();
    if (now - this.lastRejectionLog < 1000) {
      this.suppressedRejections++;
      return;
    }
    const more = this.suppressedRejections ? ` (${this.suppressedRejections} more since the last report)` : '';
    this.suppressedRejections = 0;
    this.lastRejectionLog = now;
    this.log(message + more);
  }

  private paramsNow(): PreprocessingParams {
    return this.slot?.params ?? DEFAULT_PREPROCESSING;
  }

  /** Steps of history a swap replays at most (warm-up plus canary windows), plus one alignment period. */
  private alignment(p: PreprocessingParams): number {
    return (p.blockLength * p.stride) / gcd(p.blockLength, p.stride);
  }

  private needed(p: PreprocessingParams): number {
    return p.windowLength + (this.health.canaryWindows - 1) * p.stride + p.blockLength;
  }

  private remember(frame: RawFrame, index: number): void {
    this.history.push({ frame, index });
    const p = this.paramsNow();
    const period = this.alignment(p);
    const keep = this.needed(p) + period;
    if (this.history.length > 2 * keep) {
      // Drop whole alignment periods from the front, so the first kept frame stays aligned.
      const drop = Math.floor((this.history.length - keep) / period) * period;
      this.history = this.history.slice(drop);
    }
  }

  /** Builds a pipeline for model, replays history into it, health-checks the canary and switches. */
  private async swap(model: LoadedModel, isRollback = false): Promise<HealthReport> {
    const d = model.description;
    let pipeline: StreamingFeaturePipeline;
    try {
      pipeline = new StreamingFeaturePipeline(d.stats, d.params);
    } catch (err) {
      return this.refuse(model, `its statistics or preprocessing cannot run on the device: ${(err as Error).message}`, isRollback, { ok: false, canaryWindows: 0, medianScore: Number.NaN });
    }
    const old = this.paramsNow();
    const period = this.alignment(old);
    const excess = this.history.length - this.needed(d.params);
    const from = excess > 0 ? Math.floor(excess / period) * period : 0;
    const replay = this.history.slice(from);
    const slot: Slot = {
      model,
      pipeline,
      debouncer: new AlarmDebouncer(d.thresholds.debounceWindows, d.thresholds.fast),
      globalIndex: new Int32Array(pipeline.capacity + 64),
      params: d.params,
    };
    const canary: { data: Float32Array; endLocal: number; endEventTime: string }[] = [];
    for (let k = 0; k < replay.length; k++) {
      slot.globalIndex[k % slot.globalIndex.length] = replay[k].index;
      for (const w of pipeline.push(replay[k].frame)) canary.push({ data: w.data, endLocal: w.endIndex, endEventTime: w.endEventTime });
    }
    const checked = canary.slice(-this.health.canaryWindows);
    // Before any live data a window of training means (all zeros once normalised) still checks the output.
    if (checked.length === 0) checked.push({ data: new Float32Array(windowShape(d).reduce((a, b) => a * b, 1)), endLocal: -1, endEventTime: '' });
    const report = await this.canary(model, checked);
    if (!report.ok) return this.refuse(model, report.reason as string, isRollback, report);
    const from_ = this.slot?.model;
    this.slot = slot;
    this.history = replay;
    if (isRollback) this.manager.rollback();
    else await this.manager.activate(model);
    this.counters.swaps++;
    this.emit('swap', { from: from_ ? { name: from_.description.name, version: from_.description.version } : null, to: { name: d.name, version: d.version }, report });
    this.log(`model ${d.name} ${d.version} active (${report.canaryWindows} canary windows, median score ${report.medianScore.toFixed(3)})`);
    return report;
  }

  private async refuse(model: LoadedModel, why: string, isRollback: boolean, report: HealthReport): Promise<never> {
    this.counters.modelsRefused++;
    const d = model.description;
    if (!isRollback) await model.engine.release();
    this.log(`model ${d.name} ${d.version} refused: ${why}`);
    throw Object.assign(new ModelRejected('failed-health-check', `model ${d.name} ${d.version} failed its health check: ${why}`), { report });
  }

  private async canary(model: LoadedModel, windows: { data: Float32Array; endLocal: number; endEventTime: string }[]): Promise<HealthReport> {
    const slot: Slot = { model, pipeline: null as unknown as StreamingFeaturePipeline, debouncer: new AlarmDebouncer(1), globalIndex: new Int32Array(1), params: model.description.params };
    let scored: ScoredWindow[] | null;
    try {
      scored = await this.score(slot, windows, true);
    } catch (err) {
      return { ok: false, canaryWindows: windows.length, medianScore: Number.NaN, reason: (err as Error).message };
    }
    if (!scored) return { ok: false, canaryWindows: windows.length, medianScore: Number.NaN, reason: 'inference failed on the canary windows' };
    const scores = scored.map((w) => w.score);
    const medianScore = median(scores);
    if (!Number.isFinite(medianScore)) return { ok: false, canaryWindows: windows.length, medianScore, reason: 'non-finite errors on the canary windows' };
    if (medianScore > this.health.maxMedianScore) {
      return { ok: false, canaryWindows: windows.length, medianScore, reason: `median error/threshold ratio ${medianScore.toFixed(3)} on ${windows.length} canary windows exceeds ${this.health.maxMedianScore}` };
    }
    return { ok: true, canaryWindows: windows.length, medianScore };
  }

  /** Runs windows through slot's model; null (counted) when inference fails, unless strict (then throws). */
  private async score(slot: Slot, windows: { data: Float32Array; endLocal: number; endEventTime: string }[], strict = false): Promise<ScoredWindow[] | null> {
    const d = slot.model.description;
    const tail = windowShape(d);
    const size = tail.reduce((a, b) => a * b, 1);
    const n = windows.length;
    const batch = new Float32Array(n * size);
    windows.forEach((w, k) => batch.set(w.data, k * size));
    const shape = [n, ...tail];
    let out: { data: Float32Array; dims: number[] };
    const t0 = performance.now();
    try {
      out = await slot.model.engine.run(batch, shape);
      if (out.dims.length !== shape.length || out.dims.some((v, i) => v !== shape[i])) {
        throw new Error(`model output shape (${out.dims.join(', ')}) is not its input shape (${shape.join(', ')})`);
      }
      for (let i = 0; i < out.data.length; i++) if (!Number.isFinite(out.data[i])) throw new Error(`model output holds ${out.data[i]} at value ${i}`);
    } catch (err) {
      if (strict) throw err;
      this.counters.inferenceErrors++;
      this.counters.windowsUnscored += n;
      this.log(`inference failed on ${n} window(s) of model ${d.name} ${d.version}: ${(err as Error).message}`);
      return null;
    }
    const ms = performance.now() - t0;
    if (!strict) {
      slot.model.inferences += n;
      this.latencies[this.latencyCount++ % this.latencies.length] = ms;
    }
    const channels = tail[0];
    const steps = size / channels;
    const errorSteps = Math.min(steps, d.thresholds.errorSteps || steps);
    const variationSteps = d.thresholds.variationSteps ?? 20;
    const errors = new Float64Array(n * channels);
    const variation = d.thresholds.flatline ? new Float64Array(n * channels) : null;
    // The detector's onset rule: the same error over only the newest steps, against its own thresholds.
    const recentSteps = d.thresholds.recent ? Math.min(steps, d.thresholds.recent.errorSteps) : 0;
    const recentErrors = recentSteps > 0 ? new Float64Array(n * channels) : null;
    const stride = d.params.stride;
    for (let k = 0; k < n; k++) {
      for (let f = 0; f < channels; f++) {
        const base = k * size + f * steps;
        let sum = 0;
        for (let t = steps - errorSteps; t < steps; t++) sum += Math.abs(batch[base + t] - out.data[base + t]);
        errors[k * channels + f] = sum / errorSteps;
        if (recentErrors) {
          let recent = 0;
          for (let t = steps - recentSteps; t < steps; t++) recent += Math.abs(batch[base + t] - out.data[base + t]);
          recentErrors[k * channels + f] = recent / recentSteps;
        }
        if (variation) {
          let v = 0;
          for (let t = steps - variationSteps + 1; t < steps; t++) v += Math.abs(batch[base + t] - batch[base + t - 1]);
          variation[k * channels + f] = v / (variationSteps - 1);
        }
        if (!strict && f < 6) {
          // Drift: the newest `stride` steps of each window (each step counted once across windows).
          for (let t = Math.max(0, steps - stride); t < steps; t++) {
            const x = batch[base + t];
            this.driftSums[f * 3] += 1;
            this.driftSums[f * 3 + 1] += x;
            this.driftSums[f * 3 + 2] += x * x;
          }
        }
      }
    }
    return windows.map((w, k) => {
      // Conditioned thresholds (the detector's operating-state scale) need the window's rotor-speed state.
      const state = d.thresholds.scale ? operatingState(batch, k * size, d.thresholds.scale.recentSteps) : null;
      const ratios = featureRatios(errors, k * channels, d.thresholds, variation, k * channels, recentErrors, state);
      const score = ratios.reduce((a, b) => Math.max(a, b), 0);
      // The detector's fast rule: one window far over anything normal alarms without the debounce.
      const fast = d.thresholds.fast ? fastScore(errors, k * channels, d.thresholds, variation, k * channels, recentErrors, state) : score;
      const ring = slot.globalIndex;
      return {
        endIndex: w.endLocal >= 0 && !strict ? ring[w.endLocal % ring.length] : -1,
        endEventTime: w.endEventTime,
        model: d.name,
        version: d.version,
        errors: Array.from(errors.subarray(k * channels, (k + 1) * channels)),
        score,
        overThreshold: d.featureNames.filter((_, f) => ratios[f] > 1),
        alarm: strict ? false : slot.debouncer.push(score, fast),
        input: this.keepTensors ? w.data : new Float32Array(0),
        output: this.keepTensors ? out.data.subarray(k * size, (k + 1) * size) : new Float32Array(0),
        latencyMs: ms,
      };
    });
  }
}
