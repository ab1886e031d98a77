/**
 * Agents as real processes (`npm run agent`'s entry point) against the local cloud: two devices get a new
 * model by IoT Job, then one gets a tampered package and reports FAILED with the reason while serving its
 * model on; every frame is scored (window ends every stride frames, no gap) through the swap; SIGTERM stops
 * them cleanly. Also: bad input on stdin is counted, not fatal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentProcess, createJob, deployJobDocument, jobExecution, provisionTestDevices, putObjects, spawnAgent, startTestCloud, tempDir, waitFor, windowsOf } from './agent-testing';
import { packageServer } from './agent-testbed-testing';
import { signedTestPackage, tamperedPackage, testSigningKey } from './package-testing';
import { frameCsvLine, simulatedFrames } from './stand-in-model-testing';

test('two agent processes take a new model by job; a tampered one fails with the reason and the old model serves on; no frame unscored; SIGTERM stops them', { timeout: 85_000 }, async () => {
  const tmp = await tempDir('agent-process-');
  const cloudDir = join(tmp.dir, 'cloud');
  const cloud = await startTestCloud(cloudDir);
  const agents: AgentProcess[] = [];
  try {
    const key = testSigningKey();
    writeFileSync(join(tmp.dir, 'signing.pub.pem'), key.publicKeyPem);
    writeFileSync(join(tmp.dir, 'v1.tar.gz'), signedTestPackage(key, '1.0.0'));
    const v2 = signedTestPackage(key, '2.0.0', { bias: 0.05 });
    await putObjects(cloud, 'models', { 'v2.tar.gz': v2, 'v3.tar.gz': tamperedPackage(signedTestPackage(key, '3.0.0', { bias: 0.01 })) });
    const bundles = await provisionTestDevices(cloudDir, join(tmp.dir, 'devices'), 2);
    for (const [i, bundle] of bundles.entries()) {
      agents.push(
        spawnAgent(['--config', bundle, '--state', join(tmp.dir, `state-${i}`), '--public-key', join(tmp.dir, 'signing.pub.pem'), '--model', join(tmp.dir, 'v1.tar.gz'), '--frame-rate', '300', '--seed', String(i + 1), '--turbine-id', String(i), '--heartbeat', '2', '--capture-rate', '0', '--events']),
      );
    }
    const things = bundles.map((b) => b.split(/[\\/]/).pop() as string);
    for (const a of agents) await waitFor(() => a.events.some((e) => e.type === 'online') && windowsOf(a).length > 5, 30_000, `an agent online and scoring (${a.stderr.slice(-3).join(' | ')})`);

    const all = await (await createJob(cloud, 'deploy-v2', deployJobDocument('wind-turbine-anomaly', '2.0.0', 'models', 'v2.tar.gz'), things))(30_000);
    for (const t of things) assert.equal(all[t].status, 'SUCCEEDED', JSON.stringify(all[t]));
    for (const a of agents) await waitFor(() => windowsOf(a).some((w) => w.version === '2.0.0'), 10_000, 'v2 scoring');

    const bad = (await (await createJob(cloud, 'deploy-v3-tampered', deployJobDocument('wind-turbine-anomaly', '3.0.0', 'models', 'v3.tar.gz'), [things[0]]))(30_000))[things[0]];
    assert.equal(bad.status, 'FAILED');
    assert.equal(bad.statusDetails.reason, 'bad-signature');
    assert.match(bad.statusDetails.message, /manifest.sig is not a valid signature of manifest.json/);
    const after = windowsOf(agents[0]).length;
    await waitFor(() => windowsOf(agents[0]).length > after + 20, 10_000, 'agent 0 to keep scoring');

    for (const a of agents) a.proc.kill('SIGTERM');
    for (const a of agents) assert.equal(await a.exited, 0, a.stderr.slice(-5).join('\n'));
    for (const a of agents) {
      const w = windowsOf(a);
      // Every valid frame feeds a window: consecutive window ends are exactly one stride (10 frames) apart.
      for (let k = 1; k < w.length; k++) assert.equal(w[k].endIndex - w[k - 1].endIndex, 10, `window ${k} of ${w.length}`);
      const switchAt = w.findIndex((x) => x.version === '2.0.0');
      assert.ok(switchAt > 0 && w.slice(0, switchAt).every((x) => x.version === '1.0.0') && w.slice(switchAt).every((x) => x.version === '2.0.0'));
      assert.ok(a.events.some((e) => e.type === 'heartbeat'));
      const stopped = a.events.find((e) => e.type === 'stopped') as { counters: { framesRejected: number; windowsScored: number } };
      assert.equal(stopped.counters.windowsScored, w.length);
      assert.match(a.stderr.join('\n'), /agent: stopped; frames \d+/);
    }
    assert.equal(agents[0].events.filter((e) => e.type === 'job').length, 2);
  } finally {
    for (const a of agents) if (a.proc.exitCode === null) a.proc.kill('SIGKILL');
    await cloud.stop();
    await tmp.remove();
  }
});

test('an agent fed garbage on stdin counts and logs it, scores the good frames and exits 0 at the end of input (onnxruntime and tfjs engines alike)', { timeout: 60_000 }, async () => {
  const tmp = await tempDir('agent-stdin-');
  try {
    const key = testSigningKey();
    writeFileSync(join(tmp.dir, 'pub.pem'), key.publicKeyPem);
    writeFileSync(join(tmp.dir, 'v1.tar.gz'), signedTestPackage(key, '1.0.0'));
    // A real bundle whose cloud is gone: the agent runs offline.
    const cloud = await startTestCloud(join(tmp.dir, 'cloud'));
    const [bundle] = await provisionTestDevices(join(tmp.dir, 'cloud'), join(tmp.dir, 'devices'), 1);
    await cloud.stop();
    const rows = simulatedFrames(400).map(frameCsvLine);
    rows.splice(100, 0, 'garbage', '1,2,3', rows[5].replace(/,[^,]*$/, ',NaN'), '{"broken": ', rows[6].replace(/^[^,]*,/, 'x,').replace(/,([^,]*),([^,]*)$/, ',abc,$2'));
    const scores: number[][] = [];
    for (const [engine, backend] of [['onnxruntime', /^onnxruntime-node$/], ['tfjs', /^tfjs-/]] as const) {
      const a = spawnAgent(['--config', bundle, '--state', join(tmp.dir, `state-${engine}`), '--public-key', join(tmp.dir, 'pub.pem'), '--model', join(tmp.dir, 'v1.tar.gz'), '--frames', 'stdin', '--engine', engine, '--events'], true);
      a.proc.stdin?.end(rows.join('\n') + '\n');
      assert.equal(await a.exited, 0, a.stderr.slice(-5).join('\n'));
      const stopped = a.events.find((e) => e.type === 'stopped') as { counters: { framesRejected: number; framesAccepted: number; windowsScored: number }; models: { backend: string }[] };
      assert.equal(stopped.counters.framesRejected, 5);
      assert.equal(stopped.counters.framesAccepted, 400);
      assert.ok(stopped.counters.windowsScored >= 25);
      assert.match(stopped.models[0].backend, backend);
      assert.match(a.stderr.join('\n'), /frame 100 rejected: 1 fields, a frame has 23/);
      scores.push(windowsOf(a).map((w) => (w as unknown as { score: number }).score));
    }
    assert.deepEqual(scores[1], scores[0], 'both engines score the same');
  } finally {
    await tmp.remove();
  }
});

test('an agent process killed (SIGKILL) in the middle of a job resumes it after restart and reports SUCCEEDED', { timeout: 80_000 }, async () => {
  const tmp = await tempDir('agent-kill-');
  const cloudDir = join(tmp.dir, 'cloud');
  const cloud = await startTestCloud(cloudDir);
  const key = testSigningKey();
  const v2 = signedTestPackage(key, '2.0.0', { bias: 0.05 });
  // The first download hangs (the agent is killed during it); later ones get the package.
  const server = await packageServer(v2, { holdFirst: true });
  const agents: AgentProcess[] = [];
  try {
    writeFileSync(join(tmp.dir, 'pub.pem'), key.publicKeyPem);
    writeFileSync(join(tmp.dir, 'v1.tar.gz'), signedTestPackage(key, '1.0.0'));
    const [bundle] = await provisionTestDevices(cloudDir, join(tmp.dir, 'devices'), 1);
    const thing = bundle.split(/[\\/]/).pop() as string;
    const args = ['--config', bundle, '--state', join(tmp.dir, 'state'), '--public-key', join(tmp.dir, 'pub.pem'), '--model', join(tmp.dir, 'v1.tar.gz'), '--frame-rate', '200', '--capture-rate', '0', '--events'];
    agents.push(spawnAgent(args));
    await waitFor(() => agents[0].events.some((e) => e.type === 'online'), 30_000, 'the agent online');
    const url = server.url;
    const wait = await createJob(cloud, 'deploy-v2', JSON.stringify({ operation: 'deploy-model', model: { name: 'wind-turbine-anomaly', version: '2.0.0', url } }), [thing]);
    await waitFor(async () => (await jobExecution(cloud, 'deploy-v2', thing)).statusDetails.step === 'downloading', 20_000, 'the download to start');
    await waitFor(() => server.requests() === 1, 10_000, 'the package request');
    assert.equal(JSON.parse(readFileSync(join(tmp.dir, 'state', 'agent-state.json'), 'utf8')).inflight.jobId, 'deploy-v2');
    agents[0].proc.kill('SIGKILL');
    await agents[0].exited;
    server.dropConnections();

    agents.push(spawnAgent(args));
    const result = (await wait(40_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${agents[1].stderr.join('\n')}`);
    }))[thing];
    assert.equal(result.status, 'SUCCEEDED', JSON.stringify(result));
    assert.equal(result.statusDetails.version, '2.0.0');
    await waitFor(() => windowsOf(agents[1]).some((w) => w.version === '2.0.0'), 10_000, 'v2 scoring');
    assert.match(agents[1].stderr.join('\n'), /resuming job deploy-v2 after a restart/);
    const state = JSON.parse(readFileSync(join(tmp.dir, 'state', 'agent-state.json'), 'utf8'));
    assert.equal(state.inflight, undefined);
    assert.equal(state.finished['deploy-v2'].status, 'SUCCEEDED');
    assert.deepEqual([state.active.version, state.previous.version], ['2.0.0', '1.0.0']);
    assert.equal(server.requests(), 2);
    agents[1].proc.kill('SIGTERM');
    assert.equal(await agents[1].exited, 0);
  } finally {
    for (const a of agents) if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
    server.close();
    await cloud.stop();
    await tmp.remove();
  }
});
