/**
 * The farm's worker threads: each runs its share of the turbines (turbine i on worker i mod count),
 * answers numbered commands with a reply, and stops on request (terminated if it does not within 30 s).
 */
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startTypeScriptWorker } from '../workers/typescript-worker';
import type { TurbineSpec, WorkerCommand, WorkerEvent, WorkerSetup } from './messages';

/** A command the worker answers with a reply, before the pool numbers it. */
export type AskedCommand = WorkerCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

interface WorkerHandle {
  worker: Worker;
  w: number;
  ready: boolean;
  stopped: boolean;
}

/** What every worker is started with, beyond its own turbines. */
export type SharedWorkerSetup = Omit<WorkerSetup, 'turbines'>;

/** The worker threads of one farm. */
export class TurbineWorkers {
  readonly count: number;
  private readonly turbines: number;
  /** Resolves once every worker's agents are ready; rejects when a worker fails or exits before. */
  readonly ready: Promise<void>;
  private readonly handles: WorkerHandle[];
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 1;

  /** Starts min(turbines, workers) threads; onEvent gets every event but command replies. */
  constructor(
    turbines: TurbineSpec[],
    workers: number,
    setup: SharedWorkerSetup,
    onEvent: (w: number, e: WorkerEvent) => void,
    log: (line: string) => void,
  ) {
    this.turbines = turbines.length;
    this.count = Math.min(turbines.length, workers);
    const specs: TurbineSpec[][] = Array.from({ length: this.count }, () => []);
    turbines.forEach((t, i) => specs[i % this.count].push(t));
    this.handles = specs.map((share, w) => {
      const workerData: WorkerSetup = { turbines: share, ...setup };
      const worker = startTypeScriptWorker(join(__dirname, 'turbine-worker.ts'), { workerData });
      return { worker, w, ready: false, stopped: false };
    });
    this.ready = Promise.all(
      this.handles.map(
        (wk) =>
          new Promise<void>((resolveReady, rejectReady) => {
            wk.worker.on('message', (e: WorkerEvent) => {
              if (e.type === 'ready') {
                wk.ready = true;
                resolveReady();
              } else if (e.type === 'fatal') rejectReady(new Error(`fleet worker ${wk.w}: ${e.error}`));
              else if (e.type === 'stopped') wk.stopped = true;
              if (e.type === 'reply') this.onReply(e.id, e.error);
              else onEvent(wk.w, e);
            });
            wk.worker.on('error', (err) => {
              log(`fleet worker ${wk.w} crashed: ${err.stack ?? err.message}`);
              rejectReady(err);
            });
            wk.worker.on('exit', () => rejectReady(new Error(`fleet worker ${wk.w} exited before its agents were ready`)));
          }),
      ),
    ).then(() => undefined);
  }

  /** Whether every worker has reported ready. */
  get allReady(): boolean {
    return this.handles.every((wk) => wk.ready);
  }

  /** Throws unless index is a turbine of the farm (0-based). */
  checkIndex(index: number): void {
    this.workerOf(index);
  }

  /** Sends a command to the worker of turbine `index`; resolves on its reply, rejects on its error. */
  ask(index: number, cmd: AskedCommand): Promise<void> {
    return this.send(this.workerOf(index), cmd);
  }

  /** Sends a command to every worker; resolves once all replied. */
  async askAll(cmd: AskedCommand): Promise<void> {
    await Promise.all(this.handles.map((wk) => this.send(wk.worker, cmd)));
  }

  /** Sends a command that gets no reply to every worker. */
  post(cmd: Exclude<WorkerCommand, { id: number }>): void {
    for (const wk of this.handles) wk.worker.postMessage(cmd);
  }

  /** Asks every worker to stop its agents and waits for it to exit (terminated after 30 s). */
  async stop(): Promise<void> {
    await Promise.all(
      this.handles.map(async (wk) => {
        if (wk.stopped) return;
        const done = new Promise<void>((r) => {
          wk.worker.once('exit', () => r());
        });
        wk.worker.postMessage({ type: 'stop' } satisfies WorkerCommand);
        const timer = setTimeout(() => void wk.worker.terminate(), 30_000);
        await done;
        clearTimeout(timer);
      }),
    );
  }

  private workerOf(index: number): Worker {
    const n = this.turbines;
    if (!Number.isInteger(index) || index < 0 || index >= n) throw new Error(`turbine must be an integer from 0 to ${n - 1}, got ${index}`);
    return this.handles[index % this.count].worker;
  }

  private send(worker: Worker, cmd: AskedCommand): Promise<void> {
    return new Promise((resolveAsk, rejectAsk) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve: resolveAsk, reject: rejectAsk });
      worker.postMessage({ ...cmd, id } as WorkerCommand);
    });
  }

  private onReply(id: number, error: string | undefined): void {
    const r = this.pending.get(id);
    this.pending.delete(id);
    if (error) r?.reject(new Error(error));
    else r?.resolve();
  }
}
