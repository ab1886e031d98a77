/**
 * Cold start with a model trained by the real pipeline, as users run it (`npm run agent` processes, the
 * local cloud): a model is judged on real frames only. Started with --model, the agent scores from the
 * first windows real frames make and raises no alarm on a minute of normal frames; a job that arrives
 * right after start succeeds for a good package and fails with its reason for a tampered or foreign-key
 * one; a broken first model leaves the agent online, saying why, until a job brings a good one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GetThingShadowCommand, IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cloudClientConfig } from '../cloud';
import { type AgentProcess, createJob, deployJobDocument, provisionTestDevices, putObjects, spawnAgent, startTestCloud, tempDir, waitFor, windowsOf } from './agent-testing';
import { frameCsvLine, simulatedFrames } from './stand-in-model-testing';
import { trainedTestModel } from './trained-model-testing';

const thingOf = (bundle: string): string => bundle.split(/[\\/]/).pop() as string;

test('--model with a trained package: scoring starts once real frames make the first windows, and a minute of normal frames raises no alarm', { timeout: 240_000 }, async () => {
  const trained = await trainedTestModel();
  const tmp = await tempDir('agent-cold-');
  try {
    // A real bundle whose cloud is gone: the agent runs offline, frames come on stdin.
    const cloud = await startTestCloud(join(tmp.dir, 'cloud'));
    const [bundle] = await provisionTestDevices(join(tmp.dir, 'cloud'), join(tmp.dir, 'devices'), 1);
    await cloud.stop();
    const a = spawnAgent(['--config', bundle, '--state', join(tmp.dir, 'state'), '--public-key', trained.publicKey, '--model', trained.packages.v1, '--frames', 'stdin', '--capture-rate', '0', '--events'], true);
    // One minute at 20 frames/s of a turbine and seed training never saw.
    const lines = simulatedFrames(1200, 1234, 3).map(frameCsvLine);
    // 128 frames (6.4 s at 20 Hz) finish the fourth 32-frame block: the first three windows, the canary.
    a.proc.stdin?.write(lines.slice(0, 128).join('\n') + '\n');
    await waitFor(() => windowsOf(a).length > 0, 60_000, `the first scored window (${a.stderr.slice(-3).join(' | ')})`);
    assert.deepEqual(windowsOf(a).map((w) => w.endIndex), [99, 109, 119], 'the canary windows are the first scored ones');
    assert.ok(a.events.some((e) => e.type === 'swap'));
    a.proc.stdin?.end(lines.slice(128).join('\n') + '\n');
    assert.equal(await a.exited, 0, a.stderr.slice(-5).join('\n'));
    const w = windowsOf(a);
    // Every window of the minute is scored (ends 99, 109, ... up to the last finished block), none alarms.
    assert.deepEqual(w.map((x) => x.endIndex), Array.from({ length: 109 }, (_, k) => 99 + 10 * k));
    const stopped = a.events.find((e) => e.type === 'stopped') as { counters: { alarms: number; windowsScored: number } };
    assert.equal(stopped.counters.windowsScored, 109);
    assert.equal(stopped.counters.alarms, 0, `scores: max ${Math.max(...w.map((x) => x.score))}`);
    assert.equal(a.events.filter((e) => e.type === 'alarm').length, 0);
  } finally {
    await tmp.remove();
  }
});

test('agents started, then a job at once: a good package SUCCEEDED everywhere; tampered and foreign-key packages FAILED with their reasons while the agent scores on with its model', { timeout: 240_000 }, async () => {
  const trained = await trainedTestModel();
  const tmp = await tempDir('agent-cold-jobs-');
  const cloudDir = join(tmp.dir, 'cloud');
  const cloud = await startTestCloud(cloudDir);
  const agents: AgentProcess[] = [];
  try {
    await putObjects(cloud, 'models', { 'v2.tar.gz': readFileSync(trained.packages.v2), 'tampered.tar.gz': readFileSync(trained.packages.tampered), 'foreign.tar.gz': readFileSync(trained.packages.foreignKey) });
    const bundles = await provisionTestDevices(cloudDir, join(tmp.dir, 'devices'), 3);
    const things = bundles.map(thingOf);
    for (const [i, bundle] of bundles.entries()) {
      agents.push(spawnAgent(['--config', bundle, '--state', join(tmp.dir, `state-${i}`), '--public-key', trained.publicKey, '--model', trained.packages.v1, '--frame-rate', '50', '--seed', String(100 + i), '--turbine-id', String(i), '--capture-rate', '0', '--events']));
    }
    // At once, before the agents are even online: the jobs wait for them in IoT Jobs.
    const good = await createJob(cloud, 'deploy-v2', deployJobDocument('wind-turbine-anomaly', '2.0.0', 'models', 'v2.tar.gz'), things.slice(0, 2));
    const tampered = await createJob(cloud, 'deploy-tampered', deployJobDocument('wind-turbine-anomaly', '3.0.0', 'models', 'tampered.tar.gz'), [things[2]]);
    const foreign = await createJob(cloud, 'deploy-foreign', deployJobDocument('wind-turbine-anomaly', '3.0.0', 'models', 'foreign.tar.gz'), [things[2]]);
    const results = { ...(await good(120_000)), ...Object.fromEntries(Object.entries(await tampered(120_000)).map(([t, r]) => [`${t}/tampered`, r])), ...Object.fromEntries(Object.entries(await foreign(120_000)).map(([t, r]) => [`${t}/foreign`, r])) };
    for (const t of things.slice(0, 2)) assert.equal(results[t].status, 'SUCCEEDED', JSON.stringify(results[t]));
    assert.equal(results[`${things[2]}/tampered`].status, 'FAILED');
    assert.equal(results[`${things[2]}/tampered`].statusDetails.reason, 'bad-signature');
    assert.match(results[`${things[2]}/tampered`].statusDetails.message, /manifest.sig is not a valid signature of manifest.json/);
    assert.equal(results[`${things[2]}/foreign`].statusDetails.reason, 'bad-signature');
    assert.match(results[`${things[2]}/foreign`].statusDetails.message, /wrong-key: package was signed by key .*, not a trusted key/);
    for (const a of agents.slice(0, 2)) await waitFor(() => windowsOf(a).some((w) => w.version === '2.0.0'), 60_000, 'v2 scoring');
    const c = agents[2];
    await waitFor(() => windowsOf(c).length > 20, 60_000, 'the third agent scoring with its model');
    assert.ok(windowsOf(c).every((w) => w.version === '1.0.0'));
    for (const a of agents) a.proc.kill('SIGTERM');
    for (const a of agents) assert.equal(await a.exited, 0, a.stderr.slice(-5).join('\n'));
    for (const a of agents) assert.equal(a.events.filter((e) => e.type === 'alarm').length, 0, 'no alarm on normal frames');
  } finally {
    for (const a of agents) if (a.proc.exitCode === null) a.proc.kill('SIGKILL');
    await cloud.stop();
    await tmp.remove();
  }
});

test('a broken first model (health check fails on real frames; signature does not hold): the agent stays online, reports why, and a job with a good package makes it score', { timeout: 240_000 }, async () => {
  const trained = await trainedTestModel();
  const tmp = await tempDir('agent-cold-broken-');
  const cloudDir = join(tmp.dir, 'cloud');
  const cloud = await startTestCloud(cloudDir);
  const agents: AgentProcess[] = [];
  const data = new IoTDataPlaneClient(cloudClientConfig(cloud));
  try {
    await putObjects(cloud, 'models', { 'v2.tar.gz': readFileSync(trained.packages.v2) });
    const bundles = await provisionTestDevices(cloudDir, join(tmp.dir, 'devices'), 2);
    const things = bundles.map(thingOf);
    const first = [trained.packages.brokenStatistics, trained.packages.tampered];
    for (const [i, bundle] of bundles.entries()) {
      agents.push(spawnAgent(['--config', bundle, '--state', join(tmp.dir, `state-${i}`), '--public-key', trained.publicKey, '--model', first[i], '--frame-rate', '50', '--heartbeat', '1', '--capture-rate', '0', '--events']));
    }
    const shadowOf = async (thing: string) => JSON.parse(Buffer.from((await data.send(new GetThingShadowCommand({ thingName: thing }))).payload as Uint8Array).toString('utf8')).state?.reported?.agent;
    const expected = [['failed-health-check', /median error\/threshold ratio [\d.]+ on 3 canary windows exceeds 10/], ['bad-signature', /manifest.sig is not a valid signature/]] as const;
    for (const [i, a] of agents.entries()) {
      const [reason, message] = expected[i];
      await waitFor(() => a.events.some((e) => e.type === 'problem'), 60_000, `agent ${i} to report its problem (${a.stderr.slice(-3).join(' | ')})`);
      const p = a.events.find((e) => e.type === 'problem') as { reason: string; message: string; source: string };
      assert.equal(p.reason, reason);
      assert.match(p.message, message);
      assert.equal(p.source, 'initial package');
      assert.match(a.stderr.join('\n'), /initial package .* refused/);
      // Still online: its heartbeat reaches the shadow, with the reason.
      await waitFor(async () => (await shadowOf(things[i]).catch(() => undefined))?.modelStatus?.problem?.reason === reason, 30_000, `agent ${i}'s problem in its shadow`);
      const hb = await shadowOf(things[i]);
      assert.equal(hb.modelStatus.state, 'no-model');
      assert.equal(hb.connected, true);
      assert.equal(a.proc.exitCode, null, 'the agent did not exit');
      assert.equal(windowsOf(a).length, 0);
    }
    const result = await (await createJob(cloud, 'deploy-v2', deployJobDocument('wind-turbine-anomaly', '2.0.0', 'models', 'v2.tar.gz'), things))(120_000);
    for (const t of things) assert.equal(result[t].status, 'SUCCEEDED', JSON.stringify(result[t]));
    for (const [i, a] of agents.entries()) {
      await waitFor(() => windowsOf(a).length > 5 && windowsOf(a).every((w) => w.version === '2.0.0'), 60_000, `agent ${i} scoring with v2`);
      await waitFor(async () => (await shadowOf(things[i]))?.modelStatus?.state === 'scoring', 30_000, `agent ${i}'s shadow to say it scores`);
      // null in a shadow update deletes the key: the problem is gone from the reported state.
      assert.equal((await shadowOf(things[i])).modelStatus.problem, undefined);
    }
    for (const a of agents) a.proc.kill('SIGTERM');
    for (const a of agents) assert.equal(await a.exited, 0, a.stderr.slice(-5).join('\n'));
  } finally {
    data.destroy();
    for (const a of agents) if (a.proc.exitCode === null) a.proc.kill('SIGKILL');
    await cloud.stop();
    await tmp.remove();
  }
});
