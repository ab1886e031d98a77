/**
 * Data capture, as the Edge Manager agent did it: a configurable share of scored windows (model input,
 * output, errors, score) is sampled into batches; a batch closes when it holds batchSize records, reaches
 * maxBatchBytes, or its first record is maxAgeSeconds old. Every closed batch is written to an on-disk spool
 * first (atomically, one file per batch, named by a unique batch id), and leaves the spool only once the
 * cloud confirmed it, so batches survive an outage and a restart. The spool has a size cap: when a new
 * batch would exceed it the oldest batches are dropped, counted and logged (never silently). Re-sending a
 * batch after a lost confirmation writes the same S3 key again (the key is the batch id), so each batch is
 * in S3 exactly once. A batch that cannot be written (disk full) is dropped and counted (droppedWriteFailed),
 * and capture goes on: inference never fails because of the spool.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from './durable-file';
import type { ScoredWindow } from './scoring-runtime';
import { mulberry32 } from '../turbine/random';

/** Capture settings (device.json agent.capture, overridable). */
export interface CaptureOptions {
  /** Share of scored windows captured, 0..1 (sampling is seeded: the same stream gives the same sample). */
  sampleRate: number;
  batchSize: number;
  maxAgeSeconds: number;
  /** Largest batch payload (MQTT allows 128 KiB; default 96 KiB). */
  maxBatchBytes?: number;
  /** Size cap of the on-disk spool. */
  bufferMaxBytes: number;
  /** Include the model output tensor (default true). */
  includeOutput?: boolean;
  seed?: number;
}

/** One captured inference. */
export interface CaptureRecord {
  captureId: string;
  model: string;
  version: string;
  /** When the window was scored (ISO-8601). */
  inferenceTime: string;
  endIndex: number;
  endEventTime: string;
  errors: number[];
  score: number;
  alarm: boolean;
  /** Float32 little-endian tensors, base64, with their shapes. */
  input: { shape: number[]; float32Base64: string };
  output?: { shape: number[]; float32Base64: string };
}

/** A batch as uploaded (S3 object body). */
export interface CaptureBatch {
  batchId: string;
  thingName: string;
  createdAt: string;
  records: CaptureRecord[];
}

/** Capture counters (records, not batches, unless named). */
export interface CaptureCounters {
  captured: number;
  uploaded: number;
  dropped: number;
  pendingRecords: number;
  pendingBatches: number;
  pendingBytes: number;
  batchesUploaded: number;
  /** Records dropped because the spool could not be written (disk full, I/O error); also in dropped. */
  droppedWriteFailed: number;
  /**
   * Records dropped by the cap after they had been sent but before the cloud confirmed them: each may
   * or may not be in S3 (the confirmation can be lost with the connection); also in dropped.
   */
  droppedUnconfirmed: number;
}

const b64 = (x: Float32Array): string => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');

/** Spool file name: <batchId>.<records>.json (the record count is in the name so dropping needs no read). */
const FILE = /^([A-Za-z0-9_-]+)\.(\d+)\.json$/;

/** Checks capture options; throws naming the bad one. */
export function validateCaptureOptions(o: CaptureOptions): void {
  if (!(o.sampleRate >= 0 && o.sampleRate <= 1)) throw new Error(`capture sampleRate must be from 0 to 1, got ${o.sampleRate}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`capture batchSize must be a positive integer, got ${o.batchSize}`);
  if (!(o.maxAgeSeconds > 0)) throw new Error(`capture maxAgeSeconds must be positive, got ${o.maxAgeSeconds}`);
  if (!(o.bufferMaxBytes > 0)) throw new Error(`capture bufferMaxBytes must be positive, got ${o.bufferMaxBytes}`);
}

/** Samples scored windows into batches and keeps them on disk until confirmed; see the file comment. */
export class CaptureSpool {
  readonly counters: CaptureCounters = { captured: 0, uploaded: 0, dropped: 0, pendingRecords: 0, pendingBatches: 0, pendingBytes: 0, batchesUploaded: 0, droppedWriteFailed: 0, droppedUnconfirmed: 0 };
  /** Spool files read for sending and not yet confirmed (the cap drops these last). */
  private readonly sent = new Set<string>();
  private readonly random: () => number;
  private open: { records: CaptureRecord[]; bytes: number; startedAt: number } | null = null;
  private readonly maxBatchBytes: number;
  private seq = 0;
  /** Called when a batch is written to the spool. */
  onBatch: () => void = () => undefined;

  constructor(
    readonly dir: string,
    readonly thingName: string,
    readonly options: CaptureOptions,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    validateCaptureOptions(options);
    this.random = mulberry32(options.seed ?? 1);
    this.maxBatchBytes = options.maxBatchBytes ?? 96 * 1024;
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (f.endsWith('.tmp')) unlinkSync(join(dir, f));
    this.recount();
  }

  /** Offers a scored window; captured when the sample says so. */
  offer(w: ScoredWindow, now = Date.now()): boolean {
    if (this.random() >= this.options.sampleRate) return false;
    const record: CaptureRecord = {
      captureId: randomUUID(),
      model: w.model,
      version: w.version,
      inferenceTime: new Date(now).toISOString(),
      endIndex: w.endIndex,
      endEventTime: w.endEventTime,
      errors: w.errors.map((e) => Number(e.toPrecision(6))),
      score: Number(w.score.toPrecision(6)),
      alarm: w.alarm,
      input: { shape: [1, 6, Math.sqrt(w.input.length / 6), Math.sqrt(w.input.length / 6)], float32Base64: b64(w.input) },
      ...(this.options.includeOutput === false ? {} : { output: { shape: [1, 6, Math.sqrt(w.output.length / 6), Math.sqrt(w.output.length / 6)], float32Base64: b64(w.output) } }),
    };
    const size = JSON.stringify(record).length + 1;
    if (this.open && this.open.bytes + size > this.maxBatchBytes) this.close();
    if (!this.open) this.open = { records: [], bytes: 200, startedAt: now };
    this.open.records.push(record);
    this.open.bytes += size;
    this.counters.captured++;
    if (this.open.records.length >= this.options.batchSize) this.close(now);
    return true;
  }

  /** Closes the open batch when its first record is older than maxAgeSeconds. */
  tick(now = Date.now()): void {
    if (this.open && now - this.open.startedAt >= this.options.maxAgeSeconds * 1000) this.close(now);
  }

  /** Closes the open batch now (e.g. at shutdown), writing it to the spool. */
  close(now = Date.now()): void {
    const batch = this.open;
    this.open = null;
    if (!batch || batch.records.length === 0) return;
    const stamp = new Date(now).toISOString().replace(/[-:.]/g, '').replace('T', '-').replace('Z', '');
    const batchId = `${stamp}-${(this.seq++).toString(36)}-${randomUUID().slice(0, 8)}`;
    const body: CaptureBatch = { batchId, thingName: this.thingName, createdAt: new Date(now).toISOString(), records: batch.records };
    const text = JSON.stringify(body);
    if (!this.makeRoom(text.length, batch.records.length)) return;
    const name = `${batchId}.${batch.records.length}.json`;
    try {
      writeFileDurably(join(this.dir, name), text);
    } catch (err) {
      // A full disk must not stop inference (offer runs on the scoring path): count and log the batch.
      this.counters.dropped += batch.records.length;
      this.counters.droppedWriteFailed += batch.records.length;
      this.log(`capture batch ${batchId} not written to the spool (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ${batch.records.length} records dropped`);
      return;
    }
    this.counters.pendingBatches++;
    this.counters.pendingRecords += batch.records.length;
    this.counters.pendingBytes += text.length;
    this.onBatch();
  }

  /** Batches waiting for upload, oldest first. */
  pending(): { batchId: string; file: string; records: number }[] {
    return readdirSync(this.dir)
      .map((f) => FILE.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ batchId: m[1], file: join(this.dir, m[0]), records: Number(m[2]) }))
      .sort((a, b) => (a.batchId < b.batchId ? -1 : 1));
  }

  /** The bytes of a pending batch. */
  read(file: string): Buffer {
    const bytes = readFileSync(file);
    this.sent.add(file);
    return bytes;
  }

  /** Marks a pending batch uploaded: removes it from the spool. */
  confirm(entry: { file: string; records: number }): void {
    let size = 0;
    try {
      size = statSync(entry.file).size;
      unlinkSync(entry.file);
      this.sent.delete(entry.file);
    } catch {
      return; // already confirmed (a duplicate confirmation)
    }
    this.counters.uploaded += entry.records;
    this.counters.batchesUploaded++;
    this.counters.pendingBatches--;
    this.counters.pendingRecords -= entry.records;
    this.counters.pendingBytes -= size;
  }

  private makeRoom(bytes: number, records: number): boolean {
    // The usual case needs no listing of the spool (a farm's worker closes several batches a second).
    if (this.counters.pendingBytes + bytes <= this.options.bufferMaxBytes) return true;
    // Oldest first, but batches already sent last: they are probably in S3 and only await confirmation.
    const all = this.pending();
    const pending = [...all.filter((p) => !this.sent.has(p.file)), ...all.filter((p) => this.sent.has(p.file))];
    let total = this.counters.pendingBytes;
    for (const p of pending) {
      if (total + bytes <= this.options.bufferMaxBytes) break;
      const size = statSync(p.file).size;
      unlinkSync(p.file);
      if (this.sent.delete(p.file)) this.counters.droppedUnconfirmed += p.records;
      total -= size;
      this.counters.pendingBytes -= size;
      this.counters.pendingBatches--;
      this.counters.pendingRecords -= p.records;
      this.counters.dropped += p.records;
      this.log(`capture buffer full (${this.options.bufferMaxBytes} bytes): dropped the oldest batch ${p.batchId} (${p.records} records)`);
    }
    if (total + bytes > this.options.bufferMaxBytes) {
      this.log(`capture batch of ${bytes} bytes exceeds the whole buffer (${this.options.bufferMaxBytes} bytes): ${records} records dropped`);
      this.counters.dropped += records;
      return false;
    }
    return true;
  }

  private recount(): void {
    let batches = 0;
    let recordsN = 0;
    let bytes = 0;
    for (const p of this.pending()) {
      batches++;
      recordsN += p.records;
      bytes += statSync(p.file).size;
    }
    Object.assign(this.counters, { pendingBatches: batches, pendingRecords: recordsN, pendingBytes: bytes });
  }
}
