/**
 * Two core devices, provisioned like any device (own certificate, mutual TLS), against the local cloud:
 * a deployment to their thing group reaches both as an IoT job and both report SUCCEEDED with their
 * components in the fleet status; a broken version fails and rolls back on each; a device that was
 * offline during a deployment catches up when it returns; CancelDeployment stops devices mid-install.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelDeploymentCommand, GetCoreDeviceCommand, GetDeploymentCommand, ListCoreDevicesCommand, type GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import { CreateJobCommand, DescribeJobExecutionCommand } from '@aws-sdk/client-iot';
import { provisionDevices } from '../workflows/provisioning/provision';
import { startGreengrassCloud, type GreengrassCloud } from '../cloud/greengrass/greengrass-testing';
import { publishComponent } from '../workflows/greengrass/components';
import { createDeployment, deploymentExecutions, installedComponents, thingGroupArn, waitForDeployment } from '../workflows/greengrass/deployments';
import { startCoreDeviceFromBundle, type CoreDevice } from './core-device';
import { waitUntil } from '../labs/poll-until';

let gc: GreengrassCloud;
let work: string;
const devices: (CoreDevice | undefined)[] = [];
let things: string[] = [];
const logs: string[] = [];
const GROUP = 'gg-farm';

function app(version: string, lifecycle: Record<string, unknown>) {
  return { RecipeFormatVersion: '2020-01-25', ComponentName: 'com.example.App', ComponentVersion: version, ComponentConfiguration: { DefaultConfiguration: { greeting: 'hi' } }, Manifests: [{ Platform: { os: '*' }, Lifecycle: lifecycle, Artifacts: [{ URI: 's3://placeholder/app.sh' }] }] };
}

async function publish(version: string, lifecycle: Record<string, unknown>): Promise<void> {
  const file = join(work, `app-${version}.sh`);
  await writeFile(file, `echo app ${version}\n`);
  await publishComponent({ gg: gc.gg, s3: gc.s3, bucket: gc.bucket, recipe: app(version, lifecycle), artifacts: { 'app.sh': file }, region: gc.cloud.region, accountId: gc.cloud.accountId });
}

async function deploy(version: string): Promise<string> {
  const { deploymentId } = await createDeployment(gc.gg, { targetArn: thingGroupArn(gc.cloud.region, gc.cloud.accountId, GROUP), components: { 'com.example.App': { componentVersion: version } } });
  return deploymentId;
}

async function startDevice(i: number): Promise<void> {
  devices[i] = await startCoreDeviceFromBundle(join(work, 'bundles', things[i]), {
    root: join(work, 'roots', things[i]),
    timeouts: { downloadMs: 30_000, deploymentMs: 60_000 },
    run: { stableMs: 300, stopGraceMs: 1000, maxAttempts: 2 },
    log: (line) => logs.push(`${things[i]} ${line}`),
  });
}

/** Polls what until it holds (the one polling helper); the error carries the devices' last log lines. */
function until(what: () => Promise<boolean>, label: string, ms = 30_000): Promise<void> {
  return waitUntil(label, what, { timeoutMs: ms, intervalMs: 100, maxIntervalMs: 100 }).catch((err: Error) => {
    throw new Error(`${err.message}\n${logs.slice(-30).join('\n')}`);
  });
}

async function installedOn(gg: GreengrassV2Client, thing: string, line: string): Promise<boolean> {
  try {
    return (await installedComponents(gg, thing)).includes(line);
  } catch {
    return false;
  }
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'gg-core-'));
  gc = await startGreengrassCloud();
  const provisioned = await provisionDevices({
    iot: gc.iot,
    devices: 2,
    prefix: 'gg-core-',
    group: GROUP,
    outDir: join(work, 'bundles'),
    caCertPem: await readFile(gc.cloud.caCertPath as string, 'utf8'),
    mode: 'local',
    region: gc.cloud.region,
    mqtt: { host: gc.cloud.endpoints.mqttHost, port: gc.cloud.endpoints.mqttPort },
  });
  things = provisioned.devices.map((d) => d.thingName);
  await Promise.all(things.map((_, i) => startDevice(i)));
});

after(async () => {
  await Promise.all(devices.map((d) => d?.stop()));
  await gc.cleanup();
  await rm(work, { recursive: true, force: true });
});

test('a group deployment reaches every core device, which reports SUCCEEDED and its running components', async () => {
  await publish('1.0.0', { Run: 'sh {artifacts:path}/app.sh; echo {configuration:/greeting}; exec sleep 600' });
  const id = await deploy('1.0.0');
  const statuses = await waitForDeployment({ gg: gc.gg, iot: gc.iot, deploymentId: id, thingNames: things, timeoutMs: 60_000 });
  assert.deepEqual(statuses.map((s) => s.status), ['SUCCEEDED', 'SUCCEEDED']);
  for (const t of things) await until(() => installedOn(gc.gg, t, 'com.example.App 1.0.0 RUNNING'), `${t} reports App 1.0.0 RUNNING`);
  const core = await gc.gg.send(new GetCoreDeviceCommand({ coreDeviceThingName: things[0] }));
  assert.equal(core.status, 'HEALTHY');
  const listed = await gc.gg.send(new ListCoreDevicesCommand({ thingGroupArn: thingGroupArn(gc.cloud.region, gc.cloud.accountId, GROUP) }));
  assert.deepEqual(listed.coreDevices?.map((c) => c.coreDeviceThingName).sort(), things);
});

test('a broken version fails on every device with the reason, and each rolls back to the running version', async () => {
  await publish('2.0.0', { Startup: 'echo broken; exit 1' });
  const id = await deploy('2.0.0');
  const statuses = await waitForDeployment({ gg: gc.gg, iot: gc.iot, deploymentId: id, thingNames: things, timeoutMs: 60_000 });
  for (const s of statuses) {
    assert.equal(s.status, 'FAILED');
    assert.match(s.reason as string, /com.example.App 2.0.0 (install|start): com.example.App startup failed with exit code 1/);
  }
  for (const t of things) await until(() => installedOn(gc.gg, t, 'com.example.App 1.0.0 RUNNING'), `${t} back on App 1.0.0`);
});

test('a device offline during a deployment catches up when it returns', async () => {
  await devices[1]?.stop();
  devices[1] = undefined;
  await publish('3.0.0', { Run: 'exec sleep 600' });
  const id = await deploy('3.0.0');
  await waitForDeployment({ gg: gc.gg, iot: gc.iot, deploymentId: id, thingNames: [things[0]], timeoutMs: 60_000 });
  const { iotJobId } = await gc.gg.send(new GetDeploymentCommand({ deploymentId: id }));
  assert.equal((await deploymentExecutions(gc.iot, iotJobId as string)).get(things[1]), 'QUEUED');
  await startDevice(1);
  const statuses = await waitForDeployment({ gg: gc.gg, iot: gc.iot, deploymentId: id, thingNames: things, timeoutMs: 60_000 });
  assert.deepEqual(statuses.map((s) => s.status), ['SUCCEEDED', 'SUCCEEDED']);
  await until(() => installedOn(gc.gg, things[1], 'com.example.App 3.0.0 RUNNING'), 'the returning device runs App 3.0.0');
});

test('CancelDeployment stops devices in the middle of an install; they go back to the last good version', async () => {
  await publish('4.0.0', { Install: 'touch {work:path}/../installing-4; sleep 600', Run: 'exec sleep 600' });
  const id = await deploy('4.0.0');
  const markers = things.map((t) => join(work, 'roots', t, 'work', 'installing-4'));
  await until(async () => (await Promise.all(markers.map((m) => readFile(m).then(() => true, () => false)))).every(Boolean), 'both devices installing');
  await gc.gg.send(new CancelDeploymentCommand({ deploymentId: id }));
  const statuses = await waitForDeployment({ gg: gc.gg, iot: gc.iot, deploymentId: id, thingNames: things, timeoutMs: 60_000 });
  assert.deepEqual(statuses.map((s) => s.status), ['CANCELED', 'CANCELED']);
  for (const t of things) await until(() => installedOn(gc.gg, t, 'com.example.App 3.0.0 RUNNING'), `${t} back on App 3.0.0 after the cancel`);
  assert.ok(logs.some((l) => /no longer IN_PROGRESS in the cloud/.test(l)));
});

test('a job that is not a Greengrass deployment fails on the device with the reason; a malformed health report changes nothing', async () => {
  await gc.iot.send(new CreateJobCommand({ jobId: 'not-greengrass', targets: [thingGroupArn(gc.cloud.region, gc.cloud.accountId, GROUP)], document: '{"operation":"reboot"}' }));
  for (const t of things) {
    await until(async () => (await gc.iot.send(new DescribeJobExecutionCommand({ jobId: 'not-greengrass', thingName: t }))).execution?.status === 'FAILED', `${t} fails the job`);
    const e = await gc.iot.send(new DescribeJobExecutionCommand({ jobId: 'not-greengrass', thingName: t }));
    assert.equal(e.execution?.statusDetails?.detailsMap?.['deployment-failure-cause'], 'the job document is not a Greengrass deployment document');
  }
  // A fixed pause on purpose: the devices' own debounced reports after the job have no event the cloud
  // exposes, and they must be over before the next lines assert that a malformed report changes nothing.
  await new Promise((r) => setTimeout(r, 1000));
  const before = await gc.gg.send(new GetCoreDeviceCommand({ coreDeviceThingName: things[0] }));
  await devices[0]?.connection.publish(`$aws/things/${things[0]}/greengrassv2/health/json`, '{"overallDeviceStatus":"SO-SO","components":[]}');
  await new Promise((r) => setTimeout(r, 300)); // a fixed pause on purpose: what follows asserts nothing changed
  const after = await gc.gg.send(new GetCoreDeviceCommand({ coreDeviceThingName: things[0] }));
  assert.deepEqual([after.status, after.lastStatusUpdateTimestamp], [before.status, before.lastStatusUpdateTimestamp]);
});
