/**
 * One inference engine per model for all the agents of a process (a fleet worker runs hundreds of them):
 * the agents' run() calls made in the same turn of the event loop go to the model as one batch, and each
 * caller gets back exactly its own rows. A window costs about a tenth of its CPU in a batch of 32 (227 us
 * alone, 24 us batched, on the workshop's model), and the process holds one session per model instead of
 * one per agent. Engines are keyed by the model's bytes and input name and released when the last agent
 * holding one releases it. Scoring itself is unchanged: every agent still runs its windows through
 * window-scoring.ts, on the rows the model returned for them.
 */
import { createHash } from 'node:crypto';
import { type EngineFactory, engineFactory, type InferenceEngine } from './inference-engine';

/** Most windows one batched call carries (a larger backlog becomes several calls). */
export const MAX_COALESCED_WINDOWS = 256;

interface Request {
  input: Float32Array;
  shape: number[];
  resolve: (out: { data: Float32Array; dims: number[] }) => void;
  reject: (err: Error) => void;
}

interface Shared {
  engine: Promise<InferenceEngine>;
  refs: number;
  pending: Request[];
  scheduled: boolean;
}

/** An EngineFactory whose engines of one model are shared and batched across callers; see the file comment. */
export function coalescingEngineFactory(base: EngineFactory = engineFactory('auto')): EngineFactory {
  const shared = new Map<string, Shared>();
  return async (onnx, inputName) => {
    const key = `${createHash('sha256').update(onnx).digest('hex')}/${inputName}`;
    let s = shared.get(key);
    if (!s) {
      s = { engine: base(onnx, inputName), refs: 0, pending: [], scheduled: false };
      shared.set(key, s);
    }
    const entry = s;
    entry.refs++;
    let engine: InferenceEngine;
    try {
      engine = await entry.engine;
    } catch (err) {
      if (--entry.refs === 0 && shared.get(key) === entry) shared.delete(key);
      throw err;
    }
    let released = false;
    return {
      backend: engine.backend,
      inputShape: engine.inputShape,
      inputNames: engine.inputNames,
      run(input, shape) {
        if (released) return Promise.reject(new Error('engine released'));
        return new Promise((resolve, reject) => {
          entry.pending.push({ input, shape, resolve, reject });
          if (!entry.scheduled) {
            entry.scheduled = true;
            setImmediate(() => void flush(engine, entry));
          }
        });
      },
      async release() {
        if (released) return;
        released = true;
        if (--entry.refs > 0) return;
        if (shared.get(key) === entry) shared.delete(key);
        await engine.release();
      },
    };
  };
}

/** Runs everything pending on one engine: requests of the same window shape in batches of MAX_COALESCED_WINDOWS. */
async function flush(engine: InferenceEngine, entry: Shared): Promise<void> {
  const requests = entry.pending;
  entry.pending = [];
  entry.scheduled = false;
  const groups = new Map<string, Request[]>();
  for (const r of requests) {
    const tail = r.shape.slice(1).join('x');
    const group = groups.get(tail);
    if (group) group.push(r);
    else groups.set(tail, [r]);
  }
  for (const group of groups.values()) {
    let batch: Request[] = [];
    let windows = 0;
    for (const r of group) {
      if (batch.length > 0 && windows + r.shape[0] > MAX_COALESCED_WINDOWS) {
        await runBatch(engine, batch);
        batch = [];
        windows = 0;
      }
      batch.push(r);
      windows += r.shape[0];
    }
    await runBatch(engine, batch);
  }
}

/** One engine call for requests of the same window shape; each request gets its own rows. */
async function runBatch(engine: InferenceEngine, batch: Request[]): Promise<void> {
  if (batch.length === 1) {
    const [r] = batch;
    await engine.run(r.input, r.shape).then(r.resolve, r.reject);
    return;
  }
  const tail = batch[0].shape.slice(1);
  const total = batch.reduce((a, r) => a + r.shape[0], 0);
  const input = new Float32Array(batch.reduce((a, r) => a + r.input.length, 0));
  let offset = 0;
  for (const r of batch) {
    input.set(r.input, offset);
    offset += r.input.length;
  }
  try {
    const out = await engine.run(input, [total, ...tail]);
    if (out.dims[0] !== total || out.data.length % total !== 0) throw new Error(`batched inference returned dims (${out.dims.join(', ')}) for ${total} windows`);
    const perWindow = out.data.length / total;
    let row = 0;
    for (const r of batch) {
      const n = r.shape[0];
      r.resolve({ data: out.data.slice(row * perWindow, (row + n) * perWindow), dims: [n, ...out.dims.slice(1)] });
      row += n;
    }
  } catch (err) {
    for (const r of batch) r.reject(err as Error);
  }
}
