/**
 * Worker threads that run a TypeScript file. A worker starts without its parent's TypeScript loader
 * (tsx under npm scripts, tslab in a notebook), so it starts on worker-bootstrap.cjs, which registers
 * tsx's CommonJS hook and then loads the entry.
 */
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The plain-JavaScript file every TypeScript worker starts on. */
const BOOTSTRAP = join(__dirname, 'worker-bootstrap.cjs');

/**
 * Starts a worker thread running the TypeScript module `entry` (an absolute path); `options` are Node's
 * (workerData, execArgv, ...). The entry travels as the worker's first argv item, so workerData stays the caller's.
 */
export function startTypeScriptWorker(entry: string, options: WorkerOptions = {}): Worker {
  return new Worker(BOOTSTRAP, { ...options, argv: [entry, ...(options.argv ?? [])] });
}
