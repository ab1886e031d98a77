/**
 * Fault: the broker restarts in the middle of a rollout. N real agents (10 in the short form, 100 under
 * FAULTS_SCALE=full; in this process, each with its own certificate over mutual TLS) serve model 1.0.0
 * and are fed frames; a job deploys 2.0.0 to all of them with an in-progress timeout; once executions are
 * under way the local cloud (MQTT broker and HTTP endpoint) is stopped and started again on the same ports
 * from its state folder. Every execution must end SUCCEEDED, or FAILED / TIMED_OUT with a reason, and none
 * may stay IN_PROGRESS past its timeout; no download may give up over the restart (the agent retries a
 * refused or broken connection with backoff, shared/edge/download.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateJobCommand, DescribeJobExecutionCommand, DescribeThingCommand, IoTClient, ListJobExecutionsForJobCommand } from '@aws-sdk/client-iot';
import { cloudClientConfig, type LocalCloud } from '../cloud';
import { type EdgeAgent, startEdgeAgent } from '../edge/agent';
import { deployJobDocument, provisionTestDevices, putObjects, startTestCloud, tempDir, waitFor } from '../edge/agent-testing';
import { signedTestPackage, testSigningKey } from '../edge/package-testing';
import { packageVerifier } from '../edge/package-verifier';
import { simulatedFrames } from '../edge/stand-in-model-testing';
import { recordFigure, scaled } from './figures';

const DEVICES = scaled(10, 100);
/** The job's in-progress timeout (AWS's minimum is 1 minute). */
const TIMEOUT_MINUTES = 2;
const TERMINAL = ['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELED', 'TIMED_OUT', 'REMOVED'];

/** Each thing's execution status and details now. */
async function executions(cloud: LocalCloud, jobId: string, things: string[], how: 'ListJobExecutionsForJob' | 'DescribeJobExecution' = 'DescribeJobExecution'): Promise<Record<string, { status: string; details: Record<string, string> }>> {
  const iot = new IoTClient(cloudClientConfig(cloud));
  try {
    const out: Record<string, { status: string; details: Record<string, string> }> = {};
    if (how === 'ListJobExecutionsForJob') {
      // One call per page: quick enough to catch the rollout in the middle (statuses only).
      let nextToken: string | undefined;
      do {
        const page = await iot.send(new ListJobExecutionsForJobCommand({ jobId, nextToken, maxResults: 250 }));
        for (const e of page.executionSummaries ?? []) out[(e.thingArn as string).split('/').pop() as string] = { status: e.jobExecutionSummary?.status as string, details: {} };
        nextToken = page.nextToken;
      } while (nextToken);
      for (const t of things) out[t] ??= { status: 'QUEUED', details: {} };
      return out;
    }
    for (const thingName of things) {
      const e = (await iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution;
      out[thingName] = { status: e?.status as string, details: (e?.statusDetails?.detailsMap ?? {}) as Record<string, string> };
    }
    return out;
  } finally {
    iot.destroy();
  }
}

test(`broker restart during a rollout to ${DEVICES} agents: every execution ends SUCCEEDED or FAILED with a reason, none stays IN_PROGRESS past its timeout`, { timeout: 240_000 + TIMEOUT_MINUTES * 60_000 + DEVICES * 3000 }, async () => {
  const tmp = await tempDir('faults-rollout-');
  const cloudDir = join(tmp.dir, 'cloud');
  let cloud = await startTestCloud(cloudDir);
  const ports = { port: Number(new URL(cloud.endpoints.http).port), mqttPort: cloud.endpoints.mqttPort };
  const agents: EdgeAgent[] = [];
  try {
    const key = testSigningKey();
    writeFileSync(join(tmp.dir, 'v1.tar.gz'), signedTestPackage(key, '1.0.0'));
    await putObjects(cloud, 'models', { 'v2.tar.gz': signedTestPackage(key, '2.0.0', { bias: 0.05 }) });
    const bundles = await provisionTestDevices(cloudDir, join(tmp.dir, 'devices'), DEVICES);
    const frames = simulatedFrames(600);
    const verifier = packageVerifier(key.publicKeyPem);
    for (const [i, bundle] of bundles.entries()) {
      const agent = await startEdgeAgent({ config: bundle, stateDir: join(tmp.dir, `state-${i}`), verifier, initialPackage: join(tmp.dir, 'v1.tar.gz'), heartbeatSeconds: 600, capture: { sampleRate: 0 }, log: () => undefined });
      // Real frames first, so the new model's canary has history (the agent's cold start).
      for (const f of frames) agent.push(f);
      agents.push(agent);
    }
    for (const a of agents) await a.connected();
    for (const a of agents) await a.runtime.idle();
    const things = agents.map((a) => a.thingName);

    const iot = new IoTClient(cloudClientConfig(cloud));
    const targets: string[] = [];
    for (const thingName of things) targets.push((await iot.send(new DescribeThingCommand({ thingName }))).thingArn as string);
    const jobId = 'rollout-v2';
    const created = Date.now();
    await iot.send(new CreateJobCommand({ jobId, targets, document: deployJobDocument('wind-turbine-anomaly', '2.0.0', 'models', 'v2.tar.gz'), timeoutConfig: { inProgressTimeoutInMinutes: TIMEOUT_MINUTES } }));
    iot.destroy();

    // Restart while the rollout is under way: the first agent reported IN_PROGRESS (or ended), others not yet.
    let before = await executions(cloud, jobId, things, 'ListJobExecutionsForJob');
    await waitFor(async () => {
      before = await executions(cloud, jobId, things, 'ListJobExecutionsForJob');
      return Object.values(before).some((e) => e.status !== 'QUEUED');
    }, 60_000, 'the first agent to take the job');
    const count = (m: typeof before, s: string): number => Object.values(m).filter((e) => e.status === s).length;
    await cloud.stop();
    const down = Date.now();
    // Down until every agent has noticed (so each reconnects and resumes its execution), not for a fixed time.
    await waitFor(() => agents.every((a) => !a.online), 30_000, 'every agent to notice the broker is gone');
    cloud = await startTestCloud(cloudDir, ports);
    const restartMs = Date.now() - down;

    const deadline = created + TIMEOUT_MINUTES * 60_000 + 60_000;
    let final = await executions(cloud, jobId, things);
    await waitFor(async () => {
      final = await executions(cloud, jobId, things);
      return Object.values(final).every((e) => TERMINAL.includes(e.status));
    }, Math.max(10_000, deadline - Date.now()), 'every execution to end').catch(() => undefined);
    const endedMs = Date.now() - created;
    const stuck = Object.entries(final).filter(([, e]) => !TERMINAL.includes(e.status));
    const noReason = Object.entries(final).filter(([, e]) => e.status !== 'SUCCEEDED' && TERMINAL.includes(e.status) && e.status !== 'TIMED_OUT' && !e.details.reason);
    const succeeded = count(final, 'SUCCEEDED');
    const failed = count(final, 'FAILED');
    const timedOut = count(final, 'TIMED_OUT');
    const reasons: Record<string, number> = {};
    for (const e of Object.values(final)) if (e.status === 'FAILED') reasons[e.details.reason ?? 'none'] = (reasons[e.details.reason ?? 'none'] ?? 0) + 1;
    const onV2 = agents.filter((a) => a.runtime.activeModel?.description.version === '2.0.0').length;
    const mismatch = Object.entries(final).filter(([t, e]) => e.status === 'SUCCEEDED' && agents.find((a) => a.thingName === t)?.runtime.activeModel?.description.version !== '2.0.0');
    const ok = stuck.length === 0 && noReason.length === 0 && mismatch.length === 0 && (reasons['download-failed'] ?? 0) === 0;
    recordFigure({
      scenario: 'broker-restart-rollout',
      injected: `local cloud (MQTT broker and HTTP) restarted on the same ports during a rollout of model 2.0.0 to ${DEVICES} agents (mutual TLS, one certificate each), with ${count(before, 'IN_PROGRESS')} executions IN_PROGRESS, ${count(before, 'SUCCEEDED')} done and ${count(before, 'QUEUED')} queued at the restart; in-progress timeout ${TIMEOUT_MINUTES} min`,
      held: `${succeeded} SUCCEEDED (all serving 2.0.0), ${failed} FAILED with a reason (${Object.entries(reasons).map(([r, n]) => `${r} ${n}`).join(', ') || 'none'}), ${timedOut} TIMED_OUT, ${stuck.length} still IN_PROGRESS or QUEUED after the timeout; ${onV2} agents serve 2.0.0`,
      ok,
      lost: stuck.length,
      duplicated: 0,
      refused: failed + timedOut,
      durationsMs: { restart: restartMs, 'rollout ended': endedMs },
      counts: { devices: DEVICES, succeeded, failed, timedOut, stuck: stuck.length },
    });
    assert.deepEqual(stuck, [], 'no execution left IN_PROGRESS or QUEUED past its timeout');
    assert.deepEqual(noReason, [], 'every FAILED execution names its reason');
    assert.deepEqual(mismatch, [], 'every SUCCEEDED device serves 2.0.0');
    // The cloud was away about a second; the agents' downloads retry for JOB_DOWNLOAD_BUDGET_MS, so none gives up.
    assert.equal(reasons['download-failed'] ?? 0, 0, 'no download gave up over a restart of the cloud');
  } finally {
    for (const a of agents) await a.stop();
    await cloud.stop();
    await tmp.remove();
  }
});
