/**
 * Test support: real signed model packages (shared/packaging's tar.gz format) around the tiny test ONNX
 * models, and a tampered copy of one (manifest edited after signing).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { statisticsToJson } from '../features/statistics';
import { createPackage, ONNX_OPSET, publicKeyFingerprint, readTarGz, writeTarGz } from '../packaging';
import { testOnnxModel, type TestModelOptions } from './onnx-testing';
import { testDescription } from './stand-in-model-testing';

/** A signing key pair with its fingerprint and public PEM. */
export interface TestSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  fingerprint: string;
  publicKeyPem: string;
}

/** A fresh Ed25519 signing key. */
export function testSigningKey(): TestSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, fingerprint: publicKeyFingerprint(publicKey), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** A signed package of the test model (y = x * scale + bias) with the test description's statistics. */
export function signedTestPackage(key: TestSigningKey, version: string, model: TestModelOptions = {}, name = 'wind-turbine-anomaly'): Buffer {
  const d = testDescription({ version, name });
  return createPackage(
    {
      name,
      version,
      createdAt: '2026-01-01T00:00:00.000Z',
      model: { file: 'model.onnx', format: 'onnx', opset: ONNX_OPSET, inputName: 'input', inputShape: [null, 6, 10, 10], outputName: 'output', outputShape: [null, 6, 10, 10], architecture: 'test' },
      featureNames: d.featureNames,
      statistics: statisticsToJson(d.stats, d.params),
      thresholds: d.thresholds,
      preprocessing: d.params,
    },
    testOnnxModel(model),
    key,
  ).bytes;
}

/** The package with one threshold changed in manifest.json after signing (its signature no longer holds). */
export function tamperedPackage(bytes: Buffer): Buffer {
  const files = readTarGz(bytes).map((f) => {
    if (f.name !== 'manifest.json') return f;
    const m = JSON.parse(f.data.toString('utf8'));
    m.thresholds.values[0] *= 100;
    return { ...f, data: Buffer.from(JSON.stringify(m, null, 2) + '\n') };
  });
  return writeTarGz(files, new Date('2026-01-01T00:00:00Z'));
}
