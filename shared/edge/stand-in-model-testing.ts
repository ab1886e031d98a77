/**
 * Test support for the edge agent: a model description fitted on simulated frames, and a stand-in
 * package format (JSON with an Ed25519 signature and a sha256 of model.onnx) with its verifier, so the
 * agent's logic is tested without depending on the packaging module's byte format.
 */
import { createHash, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { DEFAULT_PREPROCESSING } from '../features/params';
import { fitFeatureStatistics } from '../features/statistics';
import { createFrameColumns } from '../turbine/frames';
import { TurbineSimulator } from '../turbine/simulator';
import { NUMERIC_COLUMNS, RAW_COLUMNS, type RawFrame } from '../turbine/schema';
import type { ModelDescription, PackageVerifier } from './model-package';
import type { LoadedModel } from './model-manager';
import { testOnnxModel, type TestModelOptions } from './onnx-testing';
import type { HealthReport, ScoringRuntime } from './scoring-runtime';

let cachedStats: ModelDescription['stats'] | undefined;

/** Statistics fitted on 4096 frames of simulated turbine 0 (seed 7), cached per process. */
export function testStatistics(): ModelDescription['stats'] {
  if (!cachedStats) {
    const n = 4096;
    const frames = createFrameColumns(n);
    const sim = new TurbineSimulator({ turbineId: 0, seed: 7 });
    const columns = NUMERIC_COLUMNS.map((c) => frames.columns[c]);
    for (let i = 0; i < n; i++) {
      sim.nextIntoColumns(columns, i);
      frames.eventTime[i] = sim.clock.at(i);
    }
    cachedStats = fitFeatureStatistics(frames, DEFAULT_PREPROCESSING);
  }
  return cachedStats;
}

/** A model description for tests (name "wind-turbine-anomaly", thresholds 1 on every feature). */
export function testDescription(overrides: Partial<ModelDescription> = {}): ModelDescription {
  return {
    name: 'wind-turbine-anomaly',
    version: '1.0.0',
    inputName: 'input',
    inputShape: ['N', 6, 10, 10],
    featureNames: ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage'],
    stats: testStatistics(),
    params: { ...DEFAULT_PREPROCESSING },
    thresholds: { rule: 'budget', values: [1, 1, 1, 1, 1, 1], errorSteps: 100, debounceWindows: 3 },
    ...overrides,
  };
}

/** A signing key pair for stand-in packages. */
export function testKeys(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

/** A stand-in package: JSON { manifest: {description, sha256}, signature, onnx (base64) }. */
export function testPackage(privateKey: KeyObject, description: ModelDescription, model: TestModelOptions = {}): Buffer {
  const onnx = Buffer.from(testOnnxModel(model));
  const manifest = JSON.stringify({ description, sha256: createHash('sha256').update(onnx).digest('hex') });
  return Buffer.from(JSON.stringify({ manifest, signature: sign(null, Buffer.from(manifest), privateKey).toString('base64'), onnx: onnx.toString('base64') }));
}

/** The verifier of stand-in packages: signature over the manifest, then the model's sha256. */
export function testVerifier(publicKey: KeyObject): PackageVerifier {
  return async (bytes) => {
    let parsed: { manifest: string; signature: string; onnx: string };
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new Error('package is not readable (truncated or not a package)');
    }
    if (!verify(null, Buffer.from(parsed.manifest), publicKey, Buffer.from(parsed.signature, 'base64'))) throw new Error('manifest signature does not verify with the device key');
    const manifest = JSON.parse(parsed.manifest) as { description: ModelDescription; sha256: string };
    const onnx = Buffer.from(parsed.onnx, 'base64');
    if (createHash('sha256').update(onnx).digest('hex') !== manifest.sha256) throw new Error('model.onnx sha256 differs from the manifest');
    return { description: manifest.description, onnx };
  };
}

/** count frames of a seeded simulated turbine. */
export function simulatedFrames(count: number, seed = 11, turbineId = 0): RawFrame[] {
  const sim = new TurbineSimulator({ turbineId, seed });
  return Array.from({ length: count }, () => sim.next());
}

/**
 * Deploys a model and pushes frames behind it: a model's health verdict waits for real frames (cold start),
 * so the frames must follow the deploy. Resolves with the verdict.
 */
export function deployWithFrames(runtime: ScoringRuntime, model: LoadedModel, frames: readonly RawFrame[]): Promise<HealthReport> {
  const verdict = runtime.deploy(model);
  for (const f of frames) runtime.push(f);
  return verdict;
}

/** A frame as one CSV line of the original 23 columns (what `npm run agent -- --frames stdin` reads). */
export function frameCsvLine(frame: RawFrame): string {
  return RAW_COLUMNS.map((c) => (frame as unknown as Record<string, unknown>)[c]).join(',');
}
