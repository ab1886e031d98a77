/**
 * Test support: captured batches produced the way the field produces them. Simulated turbines feed the
 * edge's real ScoringRuntime (streaming feature pipeline, onnxruntime, thresholds), whose windows go through
 * the agent's real CaptureSpool; the batches are read back from the spool as the cloud would store them.
 * A frame transform plays a field change (e.g. a recalibrated anemometer) before the frames reach the device.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CaptureSpool, type CaptureBatch } from '../edge/capture';
import { ModelManager } from '../edge/model-manager';
import { ScoringRuntime, type ScoredWindow } from '../edge/scoring-runtime';
import { tempDir } from '../edge/agent-testing';
import { testDescription, testKeys, testPackage, testVerifier } from '../edge/stand-in-model-testing';
import type { ModelDescription } from '../edge/model-package';
import { DEFAULT_PREPROCESSING } from '../features/params';
import { fitFeatureStatistics, type FeatureStatistics } from '../features/statistics';
import { createFrameColumns } from '../turbine/frames';
import { TurbineSimulator } from '../turbine/simulator';
export { recalibratedAnemometer } from '../labs/field-drift';
import { NUMERIC_COLUMNS, type RawFrame } from '../turbine/schema';

/** What to capture. */
export interface FieldCaptureOptions {
  turbines: number;
  /** Frames per turbine (20 per second). */
  frames: number;
  seed: number;
  /** Applied to every frame before the device sees it (a field change); identity by default. */
  transform?: (frame: RawFrame) => RawFrame;
  sampleRate?: number;
  description?: Partial<ModelDescription>;
  /** Stand-in model: output = input * scale (default 0.9, so errors are about a tenth of |input|). */
  scale?: number;
}

/** Captured batches of every turbine (thing names turbine-<i>) and the description of the model that scored them. */
export async function captureFieldBatches(o: FieldCaptureOptions): Promise<{ batches: CaptureBatch[]; description: ModelDescription; windows: number }> {
  const keys = testKeys();
  const description = testDescription(o.description);
  const bytes = testPackage(keys.privateKey, description, { scale: o.scale ?? 0.9 });
  const tmp = await tempDir('field-capture-');
  const batches: CaptureBatch[] = [];
  let windows = 0;
  try {
    for (let t = 0; t < o.turbines; t++) {
      const manager = new ModelManager(testVerifier(keys.publicKey));
      // Test models are not trained on this data: their canary verdict is not what these captures are for.
      const runtime = new ScoringRuntime(manager, { health: { maxMedianScore: Infinity } });
      const spool = new CaptureSpool(`${tmp.dir}/${t}`, `turbine-${t}`, { sampleRate: o.sampleRate ?? 0.5, batchSize: 20, maxAgeSeconds: 60, bufferMaxBytes: 1e9, seed: o.seed + t });
      runtime.on('window', (w: ScoredWindow) => {
        windows++;
        spool.offer(w, Date.parse(w.endEventTime));
      });
      // The model's health verdict waits for real frames (cold start), so frames go in while it deploys.
      const deployed = runtime.deploy(await manager.load(bytes, createHash('sha256').update(bytes).digest('hex')));
      const sim = new TurbineSimulator({ turbineId: t, seed: o.seed });
      const transform = o.transform ?? ((f: RawFrame) => f);
      for (let i = 0; i < o.frames; i++) runtime.push(transform(sim.next()));
      await deployed;
      await runtime.idle();
      spool.close();
      for (const p of spool.pending()) batches.push(JSON.parse(readFileSync(p.file, 'utf8')) as CaptureBatch);
      await manager.close();
    }
  } finally {
    await tmp.remove();
  }
  return { batches, description, windows };
}


/** Manifest statistics fitted as training fits them: on `turbines` simulated turbines (ids from 100, so unlike the field's) of `frames` normal frames each. */
export function trainingStatistics(turbines: number, frames: number, seed: number): FeatureStatistics {
  const series = Array.from({ length: turbines }, (_, t) => {
    const cols = createFrameColumns(frames);
    const sim = new TurbineSimulator({ turbineId: 100 + t, seed });
    const columns = NUMERIC_COLUMNS.map((c) => cols.columns[c]);
    for (let i = 0; i < frames; i++) {
      sim.nextIntoColumns(columns, i);
      cols.eventTime[i] = sim.clock.at(i);
    }
    return cols;
  });
  return fitFeatureStatistics(series, DEFAULT_PREPROCESSING);
}
