import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionDevices } from '../workflows/provisioning/provision';
import { loadOrCreateSigningKey } from '../packaging/index';
import { openLabCloud } from './lab-cloud';
import { startLabFleet } from './lab-fleet';
import { pollUntil } from './poll-until';

test('the lab fleet returns with every agent connected and its warm-up frames taken in, then feeds it until stopped', async () => {
  const keys = mkdtempSync(join(tmpdir(), 'lab-fleet-keys-'));
  const lab = await openLabCloud({ name: 'lab-fleet', signingKeyDir: keys, env: {} });
  try {
    const target = await lab.provisionTarget();
    const provisioned = await provisionDevices({ ...target, devices: 2, prefix: 'turbine-', group: 'fleet-test', outDir: join(lab.workDir, 'devices') });
    target.iot.destroy();
    const publicKeyPem = loadOrCreateSigningKey(keys).publicKeyPem;
    const fleet = await startLabFleet({ devices: provisioned.devices, stateRoot: join(lab.workDir, 'state'), publicKeyPem, modelName: 'wind-turbine', seed: 3, warmupFrames: 150 });
    try {
      assert.deepEqual(fleet.agents.map((a) => a.thingName), ['turbine-0', 'turbine-1']);
      assert.ok(fleet.agents.every((a) => a.online));
      // The warm-up was awaited through the queue: every frame is counted and none is still waiting.
      for (const a of fleet.agents) {
        assert.ok(a.counters.framesReceived >= 150, `${a.thingName}: ${a.counters.framesReceived} frames`);
        assert.equal(a.counters.framesDropped, 0);
      }
      // The feed goes on after the warm-up: more frames arrive on every agent.
      const before = fleet.agents.map((a) => a.counters.framesReceived);
      await pollUntil('frames after the warm-up', async () => (fleet.agents.every((a, i) => a.counters.framesReceived > before[i]) ? true : undefined), { intervalMs: 20 });
    } finally {
      await fleet.stop();
    }
  } finally {
    await lab.stop();
    rmSync(keys, { recursive: true, force: true });
  }
});

test('a device bundle that cannot be read fails the start and names it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-fleet-bad-'));
  try {
    await assert.rejects(
      startLabFleet({ devices: [{ thingName: 'turbine-9', bundleDir: join(dir, 'missing') }], stateRoot: dir, publicKeyPem: '', modelName: 'm', seed: 1 }),
      /missing/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
