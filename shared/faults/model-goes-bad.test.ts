/**
 * Fault: a model that passes its canary, is activated by an IoT job, and then goes bad while serving:
 * its engine starts returning NaN, or starts throwing (a crash inside the runtime). A real agent against
 * a real local cloud takes model 2.0.0 by job; the fault is injected into 2.0.0's real onnxruntime engine
 * (a wrapper armed by the test); the agent's post-activation health monitor
 * (shared/edge/post-activation-health.ts) must roll back to 1.0.0 within one health-check period, and
 * 1.0.0 must score again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EdgeAgent, startEdgeAgent } from '../edge/agent';
import { createJob, deployJobDocument, provisionTestDevices, putObjects, startTestCloud, tempDir, waitFor } from '../edge/agent-testing';
import { type EngineFactory, onnxEngineFactory } from '../edge/inference-engine';
import { testOnnxModel } from '../edge/onnx-testing';
import { signedTestPackage, testSigningKey } from '../edge/package-testing';
import { packageVerifier } from '../edge/package-verifier';
import type { HealthRollback } from '../edge/post-activation-health';
import { simulatedFrames } from '../edge/stand-in-model-testing';
import { recordFigure } from './figures';

const PERIOD_SECONDS = 2;
const V2_MODEL = { bias: 0.05 };

/** onnxruntime engines; the one for V2_MODEL's bytes fails as `fault` says once armed. */
function faultyEngines(fault: 'nan' | 'throw'): { factory: EngineFactory; arm: () => void } {
  const bad = Buffer.from(testOnnxModel(V2_MODEL));
  let armed = false;
  const factory: EngineFactory = async (onnx, inputName) => {
    const engine = await onnxEngineFactory(onnx, inputName);
    if (!bad.equals(Buffer.from(onnx))) return engine;
    return {
      ...engine,
      backend: engine.backend,
      inputShape: engine.inputShape,
      inputNames: engine.inputNames,
      async run(input, shape) {
        const out = await engine.run(input, shape);
        if (!armed) return out;
        if (fault === 'throw') throw new Error('injected fault: the engine crashed');
        out.data.fill(Number.NaN);
        return out;
      },
      release: () => engine.release(),
    };
  };
  return { factory, arm: () => (armed = true) };
}

for (const fault of ['nan', 'throw'] as const) {
  test(`a model that ${fault === 'nan' ? 'produces NaN' : 'crashes'} after activation is rolled back within one health-check period (${PERIOD_SECONDS} s)`, { timeout: 120_000 }, async () => {
    const tmp = await tempDir(`faults-bad-model-${fault}-`);
    const cloudDir = join(tmp.dir, 'cloud');
    const cloud = await startTestCloud(cloudDir);
    let agent: EdgeAgent | undefined;
    const feedTimer: { t?: NodeJS.Timeout } = {};
    try {
      const key = testSigningKey();
      writeFileSync(join(tmp.dir, 'v1.tar.gz'), signedTestPackage(key, '1.0.0'));
      await putObjects(cloud, 'models', { 'v2.tar.gz': signedTestPackage(key, '2.0.0', V2_MODEL) });
      const [bundle] = await provisionTestDevices(cloudDir, join(tmp.dir, 'devices'), 1);
      const engines = faultyEngines(fault);
      const logs: string[] = [];
      agent = await startEdgeAgent({ config: bundle, stateDir: join(tmp.dir, 'state'), verifier: packageVerifier(key.publicKeyPem), engineFactory: engines.factory, initialPackage: join(tmp.dir, 'v1.tar.gz'), heartbeatSeconds: 600, capture: { sampleRate: 0 }, postActivationHealth: { periodSeconds: PERIOD_SECONDS }, log: (l) => logs.push(l) });
      const a = agent;
      const frames = simulatedFrames(60_000);
      let next = 0;
      for (; next < 600; next++) a.push(frames[next]);
      // 200 frames/s: 20 windows/s.
      feedTimer.t = setInterval(() => {
        for (let k = 0; k < 10 && next < frames.length; k++) a.push(frames[next++]);
      }, 50);
      await a.connected();
      const ended = await (await createJob(cloud, 'deploy-v2', deployJobDocument('wind-turbine-anomaly', '2.0.0', 'models', 'v2.tar.gz'), [a.thingName]))(60_000);
      assert.equal(ended[a.thingName].status, 'SUCCEEDED', JSON.stringify(ended));
      const versions: string[] = [];
      a.on('window', (w: { version: string }) => versions.push(w.version));
      await waitFor(() => versions.includes('2.0.0'), 10_000, '2.0.0 to score');

      const rollback = new Promise<HealthRollback>((r) => a.once('rollback', r));
      const unscoredBefore = a.counters.windowsUnscored;
      engines.arm();
      const armed = Date.now();
      await waitFor(() => a.counters.windowsUnscored > unscoredBefore, 10_000, 'the first failed window');
      const firstFailure = Date.now();
      const r = await Promise.race([rollback, new Promise<null>((res) => setTimeout(() => res(null), 30_000))]);
      const rolledBack = Date.now();
      const scoredBy1 = versions.length;
      await waitFor(() => versions.slice(scoredBy1).includes('1.0.0'), 10_000, '1.0.0 to score again').catch(() => undefined);
      const failedWindows = a.counters.windowsUnscored - unscoredBefore;
      const withinMs = rolledBack - firstFailure;
      const back = versions.slice(scoredBy1).includes('1.0.0') && a.runtime.activeModel?.description.version === '1.0.0';
      // Within one period: decided at the first health check that saw the failures, or at the next when that
      // first check saw only the start of them. Counted in checks, not milliseconds: a loaded machine may
      // fire a check late, which says nothing about the monitor.
      const ok = r !== null && !r.error && back && r.checksWithFailures <= 2;
      recordFigure({
        scenario: `model-${fault === 'nan' ? 'nan' : 'crash'}-after-activation`,
        injected: `model 2.0.0, activated by an IoT job after a clean canary, ${fault === 'nan' ? 'returns NaN for every window' : 'throws on every inference'} from then on; health-check period ${PERIOD_SECONDS} s`,
        held: r
          ? `rolled back to ${r.to?.version ?? 'nothing'} at health check ${r.checksWithFailures} after the failures began, ${Math.round(withinMs)} ms after the first failed window (${r.failedWindows} failed windows in the deciding period); 1.0.0 ${back ? 'scores again' : 'does NOT score'}`
          : 'no rollback within 30 s',
        ok,
        lost: failedWindows,
        duplicated: 0,
        refused: 0,
        durationsMs: { 'first failure': firstFailure - armed, 'rollback after first failure': withinMs },
        counts: { failedWindows },
      });
      assert.ok(r, 'the monitor rolled the model back');
      assert.equal(r.error, undefined);
      assert.deepEqual([r.from.version, r.to?.version], ['2.0.0', '1.0.0']);
      assert.ok(back, '1.0.0 scores again');
      assert.ok(r.checksWithFailures <= 2, `decided at health check ${r.checksWithFailures} after the failures began`);
      assert.ok(logs.some((l) => /failed \d+ of \d+ windows .* after activation: rolling back/.test(l)));
    } finally {
      clearInterval(feedTimer.t);
      await agent?.stop();
      await cloud.stop();
      await tmp.remove();
    }
  });
}
