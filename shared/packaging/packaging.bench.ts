/**
 * (a) Inference per window, onnxruntime-node (1 intra-op thread, as on a device) against tfjs on its fastest
 * backend here, on the same model and the same real farm windows: one window per call (a device scoring
 * as frames arrive) and 256 per call (catching up, or evaluation). Wall time, median of interleaved rounds.
 * (b) Export + package + sign + verify of the dense model against a plain tar.gz of the same files (no
 * hashing, no signature) and its plain unpacking.
 * (c) The int8-weight variant against float32: file size, speed, and how far it moves window scores.
 */
import { generateKeyPairSync } from 'node:crypto';
import type * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import type { BenchLine } from '../bench/types';
import { initBackend } from '../detector/backend';
import { type Architecture, buildAutoencoder } from '../detector/models';
import { DEFAULT_PREPROCESSING } from '../features/params';
import { statisticsToJson } from '../features/statistics';
import { MODEL_FILE } from './manifest';
import { exportToOnnx } from './onnx/export';
import { createOnnxSession, runOnnx } from './onnx/runtime';
import { createPackage } from './package-model';
import { publicKeyFingerprint } from './signing-key';
import { readTarGz, writeTarGz } from './tar-archive';
import { briefTraining, farmTestWindows, maxAbsDiff, randomizeWeights, tfjsReconstruct } from './packaging-testing';
import { verifyPackage } from './verify-package';

export const name = 'packaging';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

/** ms per window for ORT and tfjs, calls of `batch` windows, median of `rounds` interleaved rounds of `calls` calls. */
async function perWindow(session: ort.InferenceSession, model: tf.LayersModel, windows: Float32Array, batch: number, calls: number, rounds: number): Promise<{ ort: number; tfjs: number }> {
  const input = windows.slice(0, batch * 600);
  const tfjsOnce = async () => {
    const x = tf.tensor4d(input, [batch, 6, 10, 10]);
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    tf.dispose([x, y]);
  };
  const ortOnce = () => runOnnx(session, input, batch);
  await tfjsOnce(); // warm up both (kernels, allocations)
  await ortOnce();
  const o: number[] = [];
  const t: number[] = [];
  for (let r = 0; r < rounds; r++) {
    o.push(await timeAsync(async () => { for (let c = 0; c < calls; c++) await ortOnce(); }));
    t.push(await timeAsync(async () => { for (let c = 0; c < calls; c++) await tfjsOnce(); }));
  }
  return { ort: median(o) / (calls * batch), tfjs: median(t) / (calls * batch) };
}

export async function run(): Promise<BenchLine[]> {
  const backend = await initBackend();
  const data = farmTestWindows();
  const lines: BenchLine[] = [];
  const plan: Record<Architecture, { single: number; batched: number; rounds: number }> = {
    dense: { single: 200, batched: 8, rounds: 5 },
    original: { single: 30, batched: 1, rounds: 3 },
  };
  for (const kind of ['dense', 'original'] as Architecture[]) {
    const model = buildAutoencoder(kind, 9);
    randomizeWeights(model, 9);
    const exported = exportToOnnx(model);
    const session = await createOnnxSession(exported.bytes);
    const p = plan[kind];
    const batch = Math.min(256, data.count);
    const one = await perWindow(session, model, data.windows, 1, p.single, p.rounds);
    const many = await perWindow(session, model, data.windows, batch, p.batched, p.rounds);
    const diff = maxAbsDiff(await runOnnx(session, data.windows, data.count), tf.tidy(() => (model.predict(tf.tensor4d(data.windows, [data.count, 6, 10, 10])) as tf.Tensor).dataSync()));
    lines.push(
      { label: `${kind}: onnxruntime-node, 1 window per call`, value: one.ort, unit: 'ms/window', baseline: { label: `tfjs ${backend}`, value: one.tfjs } },
      { label: `${kind}: onnxruntime-node, ${batch} windows per call`, value: many.ort, unit: 'ms/window', baseline: { label: `tfjs ${backend}`, value: many.tfjs }, note: `max abs diff ${diff.toExponential(1)} on ${data.count} windows` },
    );
    await session.release();
    model.dispose();
  }

  // (c) int8 weights against float32 on a briefly trained dense model: size, speed, effect on scores.
  {
    const model = buildAutoencoder('dense', 9);
    briefTraining(model, data.windows, data.count, 3);
    const float = exportToOnnx(model);
    const int8 = exportToOnnx(model, { weights: 'int8' });
    const fs = await createOnnxSession(float.bytes);
    const qs = await createOnnxSession(int8.bytes);
    const batch = Math.min(256, data.count);
    const input = data.windows.slice(0, batch * 600);
    const tf32: number[] = [];
    const ti8: number[] = [];
    for (let r = 0; r < 5; r++) {
      tf32.push(await timeAsync(async () => { for (let c = 0; c < 8; c++) await runOnnx(fs, input, batch); }));
      ti8.push(await timeAsync(async () => { for (let c = 0; c < 8; c++) await runOnnx(qs, input, batch); }));
    }
    // Score = per-feature mean absolute reconstruction error of a window (what thresholds apply to).
    const scores = (recon: Float32Array) => {
      const out = new Float64Array(data.count * 6);
      for (let i = 0; i < recon.length; i++) out[Math.floor(i / 100)] += Math.abs(recon[i] - data.windows[i]) / 100;
      return out;
    };
    const sf = scores(await runOnnx(fs, data.windows, data.count));
    const sq = scores(await runOnnx(qs, data.windows, data.count));
    const st = scores(tfjsReconstruct(model, data.windows, data.count));
    const meanScore = sf.reduce((a, b) => a + b, 0) / sf.length;
    const shift = (maxAbsDiff(sq, st) / meanScore) * 100;
    const floatShift = (maxAbsDiff(sf, st) / meanScore) * 100;
    await fs.release();
    await qs.release();
    model.dispose();
    lines.push(
      { label: 'dense int8 weights: model.onnx size', value: int8.bytes.length / 1024, unit: 'KiB', baseline: { label: 'float32', value: float.bytes.length / 1024 } },
      { label: `dense int8 weights: onnxruntime-node, ${batch} windows per call`, value: median(ti8) / (8 * batch), unit: 'ms/window', baseline: { label: 'float32', value: median(tf32) / (8 * batch) } },
      { label: 'dense int8 weights: largest change of a per-feature window score against tfjs', value: shift, unit: '% of the mean score', baseline: { label: 'float32 export', value: floatShift }, note: `${data.count} windows, model trained 3 epochs, mean score ${meanScore.toFixed(3)}` },
    );
  }

  // (b) package + sign + verify, dense model.
  const model = buildAutoencoder('dense', 9);
  const stats = data.stats;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = { privateKey, fingerprint: publicKeyFingerprint(publicKey) };
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const thresholds = { rule: 'budget' as const, values: [1, 1, 1, 1, 1, 1], errorSteps: 100, debounceWindows: 3 };
  const rounds = 15;
  const times = { export: [] as number[], pack: [] as number[], verify: [] as number[], plainPack: [] as number[], plainUnpack: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    let t0 = now();
    const onnx = exportToOnnx(model);
    times.export.push(now() - t0);
    t0 = now();
    const built = createPackage(
      {
        name: 'turbine-detector',
        version: '1.0.0',
        createdAt: '2026-01-01T00:00:00.000Z',
        model: { file: MODEL_FILE, format: 'onnx', opset: 17, inputName: 'input', inputShape: [null, 6, 10, 10], outputName: 'reconstruction', outputShape: [null, 6, 10, 10], architecture: 'dense' },
        featureNames: stats.featureNames,
        statistics: statisticsToJson(stats, DEFAULT_PREPROCESSING),
        thresholds,
        preprocessing: { ...DEFAULT_PREPROCESSING },
      },
      onnx.bytes,
      key,
    );
    times.pack.push(now() - t0);
    t0 = now();
    verifyPackage(built.bytes, pem, { inputShape: [null, 6, 10, 10] });
    times.verify.push(now() - t0);
    // Baseline: the same files in a plain tar.gz, no hashes, no signature; and plain unpacking.
    const manifestBytes = Buffer.from(JSON.stringify(built.manifest, null, 2));
    t0 = now();
    const plain = writeTarGz([{ name: 'manifest.json', data: manifestBytes }, { name: MODEL_FILE, data: Buffer.from(onnx.bytes) }], new Date(0));
    times.plainPack.push(now() - t0);
    t0 = now();
    readTarGz(plain);
    times.plainUnpack.push(now() - t0);
  }
  model.dispose();
  lines.push(
    { label: 'dense: package + sign (sha256, manifest, Ed25519, tar.gz)', value: median(times.pack), unit: 'ms', baseline: { label: 'plain tar.gz of the same files', value: median(times.plainPack) } },
    { label: 'dense: verify (unpack, signature, hashes, expectations)', value: median(times.verify), unit: 'ms', baseline: { label: 'plain unpack', value: median(times.plainUnpack) } },
    { label: 'dense: package + sign + verify', value: median(times.pack) + median(times.verify), unit: 'ms', baseline: { label: 'plain pack + unpack', value: median(times.plainPack) + median(times.plainUnpack) }, note: `export to ONNX alone ${median(times.export).toFixed(1)} ms` },
  );
  return lines;
}
