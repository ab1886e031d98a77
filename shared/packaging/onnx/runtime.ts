/**
 * Running an exported model with onnxruntime-node: a session from .onnx bytes, and reconstruction of a
 * batch of windows (N, 6, 10, 10) as a flat Float32Array.
 */
import * as ort from 'onnxruntime-node';

/** Opens an inference session on .onnx bytes (single-threaded by default: devices share the CPU). */
export async function createOnnxSession(bytes: Uint8Array, threads = 1): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

/** Runs `count` windows (flat, row-major, shape (count, ...windowShape)) through the session's first input. */
export async function runOnnx(session: ort.InferenceSession, windows: Float32Array, count: number, windowShape: number[] = [6, 10, 10]): Promise<Float32Array> {
  const size = windowShape.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(count) || count < 1 || windows.length !== count * size) {
    throw new Error(`runOnnx: ${windows.length} values are not ${count} windows of ${windowShape.join(' x ')}`);
  }
  const input = new ort.Tensor('float32', windows, [count, ...windowShape]);
  const result = await session.run({ [session.inputNames[0]]: input });
  const out = result[session.outputNames[0]];
  const data = out.data as Float32Array;
  return data;
}
