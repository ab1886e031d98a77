/**
 * The agent against a real local cloud (in this process, real MQTT over mutual TLS, real S3): the cloud
 * goes away until the agent has scored EDGE_OUTAGE_SECONDS worth of windows offline (default 60, the minute
 * the issue asks for, at 40 windows a second; set it lower for a quick local run), the agent keeps scoring
 * and spools captures to disk, and after the cloud comes back on the same ports every
 * captured record is in S3 exactly once. Heartbeats reach the device shadow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GetThingShadowCommand, IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { cloudClientConfig } from '../cloud';
import { capturedBatches, waitFor } from './agent-testing';
import { startAgentTestbed } from './agent-testbed-testing';
import { simulatedFrames } from './stand-in-model-testing';

const OUTAGE_SECONDS = Number(process.env.EDGE_OUTAGE_SECONDS ?? 60);

test(`the agent scores through a ${OUTAGE_SECONDS} s cloud outage, buffers captures on disk and delivers each to S3 exactly once`, { timeout: 80_000 + OUTAGE_SECONDS * 5000 }, async () => {
  const bed = await startAgentTestbed('agent-outage-', {
    heartbeatSeconds: 1,
    capture: { sampleRate: 0.5, batchSize: 4, maxAgeSeconds: 1, seed: 5 },
    captureAckSeconds: 3,
  });
  const { agent } = bed;
  let cloud = bed.cloud();
  const frames = simulatedFrames(40_000);
  let next = 0;
  // 800 frames/s: 80 windows/s, about 40 captured records/s.
  const feed = setInterval(() => {
    for (let k = 0; k < 20 && next < frames.length; k++) agent.push(frames[next++]);
  }, 25);
  try {
    await agent.connected();
    await waitFor(() => agent.capture.counters.uploaded > 0, 20_000, 'a first capture batch in S3');

    await bed.stopCloud();
    await waitFor(() => !agent.online, 15_000, 'the agent to notice the outage');
    const scoredAtOutage = agent.counters.windowsScored;
    const uploadedAtOutage = agent.capture.counters.uploaded;
    // The outage lasts until the agent has done OUTAGE_SECONDS of offline work (40 windows a second, half
    // the feed's rate) and spooled captures: awaited, so a slow machine makes it longer, never too short.
    await waitFor(
      () => agent.counters.windowsScored > scoredAtOutage + 40 * OUTAGE_SECONDS && agent.capture.counters.pendingBatches >= 2,
      OUTAGE_SECONDS * 4000 + 30_000,
      `${40 * OUTAGE_SECONDS} windows scored offline and captures waiting on disk`,
    );
    assert.equal(readdirSync(join(bed.stateDir, 'capture')).length, agent.capture.counters.pendingBatches);
    assert.equal(agent.capture.counters.uploaded, uploadedAtOutage);

    cloud = await bed.startCloud();
    await waitFor(() => agent.online, 30_000, 'the agent to reconnect');
    clearInterval(feed);
    await agent.runtime.idle();
    agent.capture.close();
    await waitFor(() => agent.capture.counters.pendingRecords === 0, 30_000 + OUTAGE_SECONDS * 500, 'the spool to drain');

    const c = agent.capture.counters;
    const stored = await capturedBatches(cloud, agent.thingName);
    const ids = stored.flatMap((s) => s.batch.records.map((r) => r.captureId));
    assert.equal(c.dropped, 0);
    assert.equal(c.uploaded, c.captured);
    assert.equal(ids.length, c.captured, 'every captured record is in S3');
    assert.equal(new Set(ids).size, ids.length, 'and none twice');
    assert.deepEqual(stored.map((s) => s.key), stored.map((s) => `capture/${agent.thingName}/${s.batch.batchId}.json`));
    const r = stored[0].batch.records[0];
    assert.equal(Buffer.from(r.input.float32Base64, 'base64').length, 600 * 4);
    assert.deepEqual(r.input.shape, [1, 6, 10, 10]);

    // The heartbeat in the shadow's reported state.
    const data = new IoTDataPlaneClient(cloudClientConfig(cloud));
    await waitFor(async () => {
      const s = JSON.parse(Buffer.from((await data.send(new GetThingShadowCommand({ thingName: agent.thingName }))).payload as Uint8Array).toString('utf8'));
      const hb = s.state?.reported?.agent;
      return hb?.inferences > scoredAtOutage && hb.capture.uploaded > uploadedAtOutage;
    }, 10_000, 'a heartbeat after reconnect in the shadow');
    const shadow = JSON.parse(Buffer.from((await data.send(new GetThingShadowCommand({ thingName: agent.thingName }))).payload as Uint8Array).toString('utf8'));
    data.destroy();
    const hb = shadow.state.reported.agent;
    assert.equal(hb.agentVersion, '1.0.0');
    assert.deepEqual(hb.models.map((m: { version: string }) => m.version), ['1.0.0']);
    assert.equal(hb.drift.length, 6);
    assert.ok(hb.latencyMs.p99 >= hb.latencyMs.p50 && hb.latencyMs.p50 > 0);
    console.log(`outage ${OUTAGE_SECONDS} s: scored ${agent.counters.windowsScored}, captured ${c.captured} in ${stored.length} batches, latency p50 ${hb.latencyMs.p50} ms p99 ${hb.latencyMs.p99} ms`);
  } finally {
    clearInterval(feed);
    await bed.remove();
  }
});
