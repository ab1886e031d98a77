/**
 * Captured windows as the monitoring reads them: a CaptureRecord's base64 float32 input tensor decoded and
 * checked against its shape, so a malformed record is named instead of corrupting the statistics.
 */
import type { CaptureBatch, CaptureRecord } from '../edge/capture';

/** One captured window, decoded: the normalised model input as (features x steps). */
export interface CapturedWindow {
  thingName: string;
  batchId: string;
  record: CaptureRecord;
  /** Inference time in ms since the epoch. */
  time: number;
  /** Normalised input, feature-major: input[f * steps + s]. */
  input: Float32Array;
  features: number;
  steps: number;
}

/** Decodes a record's input tensor; throws naming the record when the shape and the bytes disagree. */
export function decodeCapturedInput(record: CaptureRecord): { input: Float32Array; features: number; steps: number } {
  const shape = record.input?.shape;
  if (!Array.isArray(shape) || shape.length < 2 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`captured record ${record.captureId}: input shape ${JSON.stringify(shape)} is not a list of positive integers`);
  }
  const bytes = Buffer.from(record.input.float32Base64 ?? '', 'base64');
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== count * 4) throw new Error(`captured record ${record.captureId}: input holds ${bytes.length} bytes, its shape ${JSON.stringify(shape)} needs ${count * 4}`);
  // Copy into an aligned buffer: a base64 decode may start at any byte offset.
  const input = new Float32Array(count);
  new Uint8Array(input.buffer).set(bytes);
  const features = shape[0] === 1 ? shape[1] : shape[0];
  return { input, features, steps: count / features };
}

/** Every record of the batches as a decoded window, oldest inference first; throws on a malformed record. */
export function capturedWindows(batches: readonly CaptureBatch[]): CapturedWindow[] {
  const out: CapturedWindow[] = [];
  for (const b of batches) {
    for (const record of b.records) {
      const time = Date.parse(record.inferenceTime);
      if (!Number.isFinite(time)) throw new Error(`captured record ${record.captureId} in batch ${b.batchId}: inferenceTime ${JSON.stringify(record.inferenceTime)} is not a date`);
      out.push({ thingName: b.thingName, batchId: b.batchId, record, time, ...decodeCapturedInput(record) });
    }
  }
  return out.sort((a, b) => a.time - b.time || a.record.endIndex - b.record.endIndex);
}
