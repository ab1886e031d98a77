/**
 * tfjs models to and from bytes without tfjs-node and without a network: `model.json` (the tfjs
 * layers-model format: topology plus weights manifest) and `weights.bin` (float32, little-endian), exactly
 * what `tf.loadLayersModel('file://...')` reads, via in-memory IO handlers.
 */
import * as tf from '@tensorflow/tfjs';

/** The two files of a tfjs layers model. */
export interface ModelFiles {
  modelJson: string;
  weights: Buffer;
}

/** Serialises a model to model.json text and weights.bin bytes. */
export async function modelToFiles(model: tf.LayersModel): Promise<ModelFiles> {
  let files: ModelFiles | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      files = { modelJson: JSON.stringify(json), weights: Buffer.from(data) };
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON', weightDataBytes: data.byteLength } };
    }),
  );
  if (!files) throw new Error('tfjs did not hand over the model artifacts');
  return files;
}

/** Builds a model from model.json text and weights.bin bytes; throws naming what does not fit. */
export async function modelFromFiles(files: ModelFiles, where = 'model'): Promise<tf.LayersModel> {
  let json: { modelTopology?: unknown; weightsManifest?: Array<{ weights?: tf.io.WeightsManifestEntry[] }> };
  try {
    json = JSON.parse(files.modelJson);
  } catch (err) {
    throw new Error(`${where}/model.json is not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${where}/model.json is not a tfjs layers model (no modelTopology or weightsManifest)`);
  }
  const specs = json.weightsManifest.flatMap((g) => g.weights ?? []);
  const expected = specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * (s.dtype === 'float32' || s.dtype === 'int32' || s.dtype === undefined ? 4 : 1), 0);
  if (files.weights.byteLength !== expected) {
    throw new Error(`${where}/weights.bin holds ${files.weights.byteLength} bytes but model.json describes ${expected} (truncated or from another model)`);
  }
  const buffer = files.weights.buffer.slice(files.weights.byteOffset, files.weights.byteOffset + files.weights.byteLength);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: specs, weightData: buffer }));
  } catch (err) {
    throw new Error(`${where}/model.json cannot be loaded as a tfjs model: ${(err as Error).message}`);
  }
}
