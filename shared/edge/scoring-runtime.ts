/**
 * The scoring runtime: frames in, scored windows and alarms out. Frames go through the active model's
 * StreamingFeaturePipeline (statistics and preprocessing from its manifest), each finished window through
 * the model and the detector's kernel (window-scoring.ts), then a debouncer.
 *
 * One queue (work-queue.ts), processed in order, carries frames and model swaps, so a swap happens between
 * two frames and every window is scored by exactly one model. A new model is checked at once (loads, one
 * finite output of the right shape: model-swap.ts smokeCheck) and then judged only on real frames: it waits
 * until the recent valid frames (kept from a point aligned with the old pipeline's blocks and window
 * strides) make `canaryWindows` windows through its own pipeline, or is refused after `waitSeconds`. Those
 * windows are its canary (finite, right shape, median score under a bound); only a healthy model replaces
 * the active one, and its pipeline continues exactly where the old one was, so the next window comes at the
 * same frame as it would have without the swap. With no model before it (cold start), the canary windows
 * are the first scored windows: every valid frame is scored once. Bad input (not an object, missing,
 * non-numeric or non-finite feature fields) is counted and logged, never thrown.
 */
import { EventEmitter } from 'node:events';
import { DEFAULT_PREPROCESSING, type PreprocessingParams } from '../features/params';
import { frameProblem, StreamingFeaturePipeline } from '../features/streaming';
import { AlarmDebouncer } from '../detector/thresholds';
import type { RawFrame } from '../turbine/schema';
import { DriftMeter, type FeatureDrift } from './feature-drift';
import { parseFrameLine } from './frame-input';
import { LatencyRing, type LatencyPercentiles } from './latency-ring';
import type { LoadedModel, ModelManager } from './model-manager';
import { ModelRejected } from './model-package';
import { alignmentPeriod, canaryFrames, canaryVerdict, DEFAULT_HEALTH, type HealthOptions, type HealthReport, smokeCheck, windowsFrom } from './model-swap';
import { RateLimitedLog } from './rate-limited-log';
import { type BatchResult, type PendingWindow, scoreBatch } from './window-scoring';
import { WorkQueue } from './work-queue';

export type { FeatureDrift } from './feature-drift';
export type { HealthOptions, HealthReport } from './model-swap';

/** One scored window. */
export interface ScoredWindow {
  /** Index (among every frame received, bad ones included) of the window's last frame. */
  endIndex: number;
  endEventTime: string;
  model: string;
  version: string;
  /** Per-feature mean absolute reconstruction error. */
  errors: number[];
  /** Largest anomaly ratio (> 1: anomalous on some feature). */
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
  /** Valid frames that arrived while no model was active (kept for a first model's canary). */
  framesWithoutModel: number;
  windowsScored: number;
  /** Windows lost to an inference error. */
  windowsUnscored: number;
  inferenceErrors: number;
  alarms: number;
  swaps: number;
  modelsRefused: number;
}

/** A model waiting for real frames before its health verdict. */
export interface WaitingModel {
  name: string;
  version: string;
  /** Canary windows it needs and how many the frames kept so far would make. */
  canaryWindows: number;
  windowsAvailable: number;
  /** When it started waiting (ISO time) and when it is refused if still waiting. */
  since: string;
  deadline: string;
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

interface Swap {
  model: LoadedModel;
  isRollback: boolean;
  done: (r: HealthReport | Error) => void;
  since: number;
  timer?: NodeJS.Timeout;
}

type Item = { kind: 'frame'; frame: unknown; index: number } | { kind: 'swap'; swap: Omit<Swap, 'model' | 'since'> & { model: LoadedModel | null } } | { kind: 'expire'; swap: Swap };

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
  private readonly rejections: RateLimitedLog;
  private readonly keepTensors: boolean;
  private readonly queue: WorkQueue<Item>;
  private readonly latencies = new LatencyRing();
  private readonly drift = new DriftMeter();
  private slot: Slot | null = null;
  /** Valid frames of the active pipeline (or waiting for a first model) from an aligned step on. */
  private history: { frame: RawFrame; index: number }[] = [];
  /** Models waiting for real frames, in arrival order; the first is judged first. */
  private waiting: Swap[] = [];
  private closed = false;

  constructor(
    private readonly manager: ModelManager,
    opts: ScoringRuntimeOptions = {},
  ) {
    super();
    this.health = { ...DEFAULT_HEALTH, ...opts.health };
    if (!Number.isInteger(this.health.canaryWindows) || this.health.canaryWindows < 1) throw new Error(`health.canaryWindows must be a positive integer, got ${this.health.canaryWindows}`);
    if (!(this.health.waitSeconds > 0)) throw new Error(`health.waitSeconds must be a positive number, got ${this.health.waitSeconds}`);
    this.maxQueue = opts.maxQueue ?? 20000;
    this.log = opts.log ?? (() => undefined);
    this.rejections = new RateLimitedLog(this.log);
    this.keepTensors = opts.keepTensors ?? true;
    this.queue = new WorkQueue<Item>(
      (item) => this.handle(item),
      (err) => {
        // A bug must not stop the device: count it and go on with the next frame.
        this.counters.inferenceErrors++;
        this.log(`scoring error: ${err.message}`);
      },
    );
  }

  /** Frames waiting to be processed. */
  get queued(): number {
    return this.queue.length;
  }

  /** The model scoring frames now, if any. */
  get activeModel(): LoadedModel | null {
    return this.slot?.model ?? null;
  }

  /** Models checked at once and now waiting for enough real frames for their health verdict. */
  get waitingModels(): WaitingModel[] {
    return this.waiting.map((s) => {
      const d = s.model.description;
      return {
        name: d.name,
        version: d.version,
        canaryWindows: this.health.canaryWindows,
        windowsAvailable: Math.min(this.health.canaryWindows, windowsFrom(this.history.length, d.params)),
        since: new Date(s.since).toISOString(),
        deadline: new Date(s.since + this.health.waitSeconds * 1000).toISOString(),
      };
    });
  }

  /** Queues one frame (an object with the raw columns); false when it was dropped because the queue is full. */
  push(frame: unknown): boolean {
    const index = this.counters.framesReceived++;
    if (this.queued >= this.maxQueue) {
      this.counters.framesDropped++;
      this.rejections.write(`frame ${index}: dropped, ${this.queued} frames already waiting`);
      return false;
    }
    this.queue.push({ kind: 'frame', frame, index });
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
   * Queues a swap to a loaded model: checks as in the file comment. Resolves with the health report once
   * it is active; rejects with ModelRejected('failed-health-check') and leaves the active model in place
   * (the candidate is released) otherwise, also when real frames for its canary do not come in time.
   */
  deploy(model: LoadedModel): Promise<HealthReport> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'swap', swap: { model, isRollback: false, done: (r) => (r instanceof Error ? reject(r) : resolve(r)) } });
    });
  }

  /** Queues a return to the manager's previous model (with the same checks). */
  rollback(): Promise<HealthReport> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'swap', swap: { model: null, isRollback: true, done: (r) => (r instanceof Error ? reject(r) : resolve(r)) } });
    });
  }

  /** Resolves when every queued frame and swap has been processed (a model waiting for frames is not waited for). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Gives up on models still waiting for frames (their deploy rejects with a plain Error, not a verdict). */
  close(): void {
    this.closed = true;
    const waiting = this.waiting;
    this.waiting = [];
    for (const s of waiting) {
      clearTimeout(s.timer);
      if (!s.isRollback) void s.model.engine.release();
      s.done(new Error(`model ${s.model.description.name} ${s.model.description.version}: the runtime closed before its health verdict`));
    }
  }

  /** Latency percentiles (ms) of the most recent inferences. */
  latencyPercentiles(): LatencyPercentiles {
    return this.latencies.percentiles();
  }

  /** Drift per feature since the last reset; reset (default) starts a new period. */
  takeDrift(reset = true): FeatureDrift[] {
    return this.drift.take(this.slot?.model.description.featureNames ?? [], reset);
  }

  private async handle(item: Item): Promise<void> {
    if (item.kind === 'swap') return this.admit(item.swap);
    if (item.kind === 'expire') return this.expire(item.swap);
    const problem = frameProblem(item.frame);
    if (problem) {
      this.reject(item.index, problem);
      return;
    }
    const frame = item.frame as RawFrame;
    this.counters.framesAccepted++;
    this.remember(frame, item.index);
    const slot = this.slot;
    if (!slot) this.counters.framesWithoutModel++;
    else {
      slot.globalIndex[slot.pipeline.counters.accepted % slot.globalIndex.length] = item.index;
      const windows = slot.pipeline.push(frame);
      if (windows.length > 0) await this.scoreAndEmit(slot, windows.map((w) => ({ data: w.data, endLocal: w.endIndex, endEventTime: w.endEventTime })));
    }
    if (this.waiting.length > 0) await this.judgeReady();
  }

  private reject(index: number, problem: string): void {
    this.counters.framesRejected++;
    this.emit('rejected', { index, problem });
    this.rejections.write(`frame ${index} rejected: ${problem}`);
  }

  private paramsNow(): PreprocessingParams {
    return this.slot?.params ?? DEFAULT_PREPROCESSING;
  }

  /** Frames a swap to a model with params replays at most (its canary from any alignment). */
  private needed(p: PreprocessingParams): number {
    return canaryFrames(p, this.health.canaryWindows);
  }

  private remember(frame: RawFrame, index: number): void {
    this.history.push({ frame, index });
    const p = this.paramsNow();
    const period = alignmentPeriod(p);
    const keep = Math.max(this.needed(p), ...this.waiting.map((s) => this.needed(s.model.description.params))) + period;
    if (this.history.length > 2 * keep) {
      // Drop whole alignment periods from the front, so the first kept frame stays aligned.
      const drop = Math.floor((this.history.length - keep) / period) * period;
      this.history = this.history.slice(drop);
    }
  }

  /** Checks a new model at once, then queues it for its verdict on real frames. */
  private async admit(pending: Omit<Swap, 'model' | 'since'> & { model: LoadedModel | null }): Promise<void> {
    const model = pending.isRollback ? this.manager.previous : pending.model;
    if (!model) {
      pending.done(new Error('no previous model to roll back to'));
      return;
    }
    const swap: Swap = { ...pending, model, since: Date.now() };
    if (this.closed) {
      await this.refuse(swap, 'the runtime is closed', { ok: false, canaryWindows: 0, medianScore: Number.NaN });
      return;
    }
    const d = model.description;
    try {
      new StreamingFeaturePipeline(d.stats, d.params);
    } catch (err) {
      await this.refuse(swap, `its statistics or preprocessing cannot run on the device: ${(err as Error).message}`, { ok: false, canaryWindows: 0, medianScore: Number.NaN });
      return;
    }
    const problem = await smokeCheck(model);
    if (problem) {
      await this.refuse(swap, problem, { ok: false, canaryWindows: 0, medianScore: Number.NaN });
      return;
    }
    this.waiting.push(swap);
    await this.judgeReady();
    if (this.waiting.includes(swap)) {
      swap.timer = setTimeout(() => this.queue.push({ kind: 'expire', swap }), this.health.waitSeconds * 1000);
      const w = this.waitingModels[this.waiting.indexOf(swap)];
      this.emit('waiting', w);
      this.log(`model ${d.name} ${d.version} loaded; its health verdict waits for ${w.canaryWindows} canary windows of real frames (${w.windowsAvailable} so far, at most ${this.health.waitSeconds} s)`);
    }
  }

  private async expire(swap: Swap): Promise<void> {
    const at = this.waiting.indexOf(swap);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    const have = windowsFrom(this.history.length, swap.model.description.params);
    await this.refuse(
      swap,
      `no verdict: valid frames for ${have} of its ${this.health.canaryWindows} canary windows arrived within ${this.health.waitSeconds} s (${this.counters.framesAccepted} valid of ${this.counters.framesReceived} frames received so far)`,
      { ok: false, canaryWindows: have, medianScore: Number.NaN },
    );
    await this.judgeReady();
  }

  /** Judges waiting models, oldest first, while the kept frames make enough canary windows. */
  private async judgeReady(): Promise<void> {
    while (this.waiting.length > 0) {
      const swap = this.waiting[0];
      const p = swap.model.description.params;
      const frames = this.history.length;
      if (frames < this.needed(p) && windowsFrom(frames, p) < this.health.canaryWindows) return;
      this.waiting.shift();
      clearTimeout(swap.timer);
      await this.verdict(swap);
    }
  }

  /** Replays history into a pipeline for the model, judges its canary windows and switches when healthy. */
  private async verdict(swap: Swap): Promise<void> {
    const { model, isRollback } = swap;
    const d = model.description;
    const pipeline = new StreamingFeaturePipeline(d.stats, d.params);
    const period = alignmentPeriod(this.paramsNow());
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
    const windows: PendingWindow[] = [];
    for (let k = 0; k < replay.length; k++) {
      slot.globalIndex[k % slot.globalIndex.length] = replay[k].index;
      for (const w of pipeline.push(replay[k].frame)) windows.push({ data: w.data, endLocal: w.endIndex, endEventTime: w.endEventTime });
    }
    const report = await canaryVerdict(model, windows.slice(-this.health.canaryWindows), this.health.maxMedianScore);
    if (!report.ok) {
      await this.refuse(swap, report.reason as string, report);
      return;
    }
    const before = this.slot?.model;
    this.slot = slot;
    this.history = replay;
    if (isRollback) this.manager.rollback();
    else await this.manager.activate(model);
    this.counters.swaps++;
    this.emit('swap', { from: before ? { name: before.description.name, version: before.description.version } : null, to: { name: d.name, version: d.version }, report });
    this.log(`model ${d.name} ${d.version} active (${report.canaryWindows} canary windows of real frames, median score ${report.medianScore.toFixed(3)})`);
    // No model scored these frames before: the canary windows are the first scored windows.
    if (!before) await this.scoreAndEmit(slot, windows);
    swap.done(report);
  }

  private async refuse(swap: Swap, why: string, report: HealthReport): Promise<void> {
    this.counters.modelsRefused++;
    const d = swap.model.description;
    if (!swap.isRollback) await swap.model.engine.release();
    this.log(`model ${d.name} ${d.version} refused: ${why}`);
    this.emit('refused', { name: d.name, version: d.version, reason: 'failed-health-check', message: why });
    swap.done(Object.assign(new ModelRejected('failed-health-check', `model ${d.name} ${d.version} failed its health check: ${why}`), { report }));
  }

  /** Scores windows with the slot's model and emits them; an inference failure is counted and logged. */
  private async scoreAndEmit(slot: Slot, windows: PendingWindow[]): Promise<void> {
    const d = slot.model.description;
    let batch: BatchResult;
    try {
      batch = await scoreBatch(slot.model, windows);
    } catch (err) {
      this.counters.inferenceErrors++;
      this.counters.windowsUnscored += windows.length;
      this.log(`inference failed on ${windows.length} window(s) of model ${d.name} ${d.version}: ${(err as Error).message}`);
      return;
    }
    slot.model.inferences += windows.length;
    this.latencies.record(batch.latencyMs);
    const size = batch.input.length / windows.length;
    const ring = slot.globalIndex;
    windows.forEach((w, k) => {
      const r = batch.windows[k];
      this.drift.add(batch.input, k * size, d.params.stride);
      const scored: ScoredWindow = {
        endIndex: ring[w.endLocal % ring.length],
        endEventTime: w.endEventTime,
        model: d.name,
        version: d.version,
        errors: Array.from(r.evidence.errors),
        score: r.score,
        overThreshold: d.featureNames.filter((_, f) => r.ratios[f] > 1),
        alarm: slot.debouncer.push(r.score, r.fast),
        input: this.keepTensors ? w.data : new Float32Array(0),
        output: this.keepTensors ? r.output : new Float32Array(0),
        latencyMs: batch.latencyMs,
      };
      this.counters.windowsScored++;
      if (scored.alarm) {
        this.counters.alarms++;
        this.emit('alarm', scored);
      }
      this.emit('window', scored);
    });
  }
}
