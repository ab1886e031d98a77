/**
 * Running an exported model with onnxruntime-node: a session from .onnx bytes, and reconstruction of a
 * batch of windows (N, 6, 10, 10) as a flat Float32Array.
 */
import * as ort from 'onnxruntime-node';
import { PackageVerificationError } from '../errors';
import type { ManifestModel } from '../manifest';

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

/**
 * Opens a session on a verified package's model.onnx and checks that the graph really has the manifest's
 * input/output names and shapes (the symbolic batch dimension matching null); on any mismatch the session
 * is released and a PackageVerificationError ('bad-model', 'wrong-input-name', 'wrong-input-shape') thrown.
 */
export async function loadPackagedModel(verified: { manifest: { model: ManifestModel }; model: Uint8Array }, threads = 1): Promise<ort.InferenceSession> {
  let session: ort.InferenceSession;
  try {
    session = await createOnnxSession(verified.model, threads);
  } catch (err) {
    throw new PackageVerificationError('bad-model', `model.onnx cannot be loaded by onnxruntime: ${(err as Error).message.split('\n')[0]}`);
  }
  const m = verified.manifest.model;
  const fail = async (reason: 'bad-model' | 'wrong-input-name' | 'wrong-input-shape', message: string): Promise<never> => {
    await session.release();
    throw new PackageVerificationError(reason, message);
  };
  if (session.inputNames.length !== 1 || session.inputNames[0] !== m.inputName) {
    return fail('wrong-input-name', `model.onnx takes input(s) ${session.inputNames.join(', ')}, the manifest says "${m.inputName}"`);
  }
  if (!session.outputNames.includes(m.outputName)) return fail('bad-model', `model.onnx has no output "${m.outputName}" (it has ${session.outputNames.join(', ')})`);
  const meta = session.inputMetadata?.[0];
  if (meta && meta.isTensor) {
    const shape = meta.shape.map((d) => (typeof d === 'string' ? null : d));
    if (meta.type !== 'float32' || shape.length !== m.inputShape.length || shape.some((d, i) => d !== m.inputShape[i])) {
      return fail('wrong-input-shape', `model.onnx input is ${meta.type} (${meta.shape.join(', ')}), the manifest says float32 (${m.inputShape.map((d) => d ?? 'N').join(', ')})`);
    }
  }
  return session;
}
