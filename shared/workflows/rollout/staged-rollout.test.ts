import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { AddThingToThingGroupCommand, CreateThingGroupCommand, IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { cloudClientConfig } from '../../cloud';
import { provisionTestDevices, putObjects, startTestCloud, tempDir, waitFor } from '../../edge/agent-testing';
import { startEdgeAgent, type EdgeAgent } from '../../edge/index';
import { testDescription, testKeys, testPackage, testVerifier } from '../../edge/stand-in-model-testing';
import { trainingStatistics } from '../../monitoring/field-capture-testing';
import { TurbineSimulator } from '../../turbine/simulator';
import { iotJobsTarget } from './iot-jobs-target';
import { acceleratedClock, runStagedRollout, type Release } from './staged-rollout';

const NAMES = ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage'];

// Three real agents on the local cloud, fed by simulated turbines; one is the canary group. The hold time is
// 60 s of rollout clock, run 10 times faster than real time.
test('staged rollout on IoT Jobs: a good model is promoted to the farm, a worse one stopped at the canary and rolled back', { timeout: 300_000 }, async () => {
  const tmp = await tempDir('rollout-');
  const cloud = await startTestCloud(join(tmp.dir, 'cloud'));
  const iot = new IoTClient(cloudClientConfig(cloud));
  const iotData = new IoTDataPlaneClient(cloudClientConfig(cloud));
  const agents: EdgeAgent[] = [];
  // The agents' own lines, shown when an assertion fails (a CI run once saw the canary never take 1.1.0).
  const agentLog: string[] = [];
  const withAgentLog = (lines: string[]): string => [...lines, '--- agents:', ...agentLog.filter((l) => !l.includes('heartbeat')).slice(-60)].join('\n');
  let timer: NodeJS.Timeout | undefined;
  try {
    const bundles = await provisionTestDevices(join(tmp.dir, 'cloud'), join(tmp.dir, 'devices'), 3);
    const things = ['edge-test-0', 'edge-test-1', 'edge-test-2'];
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'edge-test-canary' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'edge-test-canary', thingName: things[0] }));
    const keys = testKeys();
    const stats = trainingStatistics(8, 24000, 5);
    const quiet = { rule: 'budget' as const, values: [1, 1, 1, 1, 1, 1], errorSteps: 100, debounceWindows: 3 };
    const strict = { ...quiet, values: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2] };
    const pkg = (version: string, bias: number, thresholds = quiet) => testPackage(keys.privateKey, testDescription({ version, stats, thresholds }), { scale: 1, bias });
    // 1.1.0 reconstructs well; 1.2.0 is off by 0.5 everywhere against thresholds of 0.2 (alarms on every
    // window, yet healthy by the agent's own canary check); 1.2.1 is 1.1.0's model re-released.
    await putObjects(cloud, 'models', { 'm/1.1.0.pkg': pkg('1.1.0', 0), 'm/1.2.0.pkg': pkg('1.2.0', 0.5, strict), 'm/1.2.1.pkg': pkg('1.2.1', 0) });
    const initial = join(tmp.dir, '1.0.0.pkg');
    writeFileSync(initial, pkg('1.0.0', 0));
    for (const [i, bundleDir] of bundles.entries()) {
      agents.push(await startEdgeAgent({ config: bundleDir, stateDir: join(tmp.dir, 'state', String(i)), verifier: testVerifier(keys.publicKey), initialPackage: initial, modelName: 'wind-turbine-anomaly', heartbeatSeconds: 1, log: (line) => agentLog.push(line) }));
    }
    await Promise.all(agents.map((a) => a.connected()));
    const sims = agents.map((_, i) => new TurbineSimulator({ turbineId: i, seed: 50 + i }));
    timer = setInterval(() => agents.forEach((a, i) => { for (let k = 0; k < 4; k++) a.push(sims[i].next()); }), 50);

    const target = iotJobsTarget(iot, iotData, { canaryGroup: 'edge-test-canary', farmGroup: 'edge-test' });
    const policy = { canaryThings: [things[0]], featureNames: NAMES, holdMs: 60_000, deployTimeoutMs: 300_000, pollMs: 10_000, maxAlarmRate: 0.01, minWindows: 20 };
    const release = (version: string): Release => ({ name: 'wind-turbine-anomaly', version, bucket: 'models', key: `m/${version}.pkg` });
    const versions = async () => (await target.heartbeats(things)).map((hb) => hb.models.find((m) => m.role === 'active')?.version);

    const good = await runStagedRollout(target, acceleratedClock(10), policy, release('1.1.0'), release('1.0.1'));
    assert.equal(good.decision, 'promoted', withAgentLog(good.log));
    await waitFor(async () => (await versions()).every((v) => v === '1.1.0'), 60_000, 'the farm on 1.1.0');

    const bad = await runStagedRollout(target, acceleratedClock(10), policy, release('1.2.0'), release('1.2.1'));
    assert.equal(bad.decision, 'rolled-back', withAgentLog(bad.log));
    assert.match(bad.reason, /canary alarm rate \d+\.\d\d % .* is over 1.00 %/);
    await waitFor(async () => (await versions()).join() === '1.2.1,1.1.0,1.1.0', 60_000, 'the canary back on the good model, the farm never on 1.2.0');
    assert.ok(!agents.slice(1).some((a) => a.manager.list().some((m) => m.version === '1.2.0')), 'no farm turbine ever loaded 1.2.0');
  } finally {
    clearInterval(timer);
    await Promise.all(agents.map((a) => a.stop()));
    iot.destroy();
    iotData.destroy();
    await cloud.stop();
    await tmp.remove();
  }
});
