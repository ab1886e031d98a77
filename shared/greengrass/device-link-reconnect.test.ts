/**
 * A core device loses its network in the middle of a deployment, the deployment is canceled while it is
 * offline (so the jobs `notify` message never reaches it), and the network comes back: the device asks
 * for its pending jobs on reconnect, sees that its job no longer runs, stops the deployment and goes back
 * to its last good set. The outage is real: the device connects through a TCP gate that the test closes
 * (every connection dropped, new ones refused) and opens again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelDeploymentCommand } from '@aws-sdk/client-greengrassv2';
import { readDeviceConfig } from '../edge/device-config';
import { startGreengrassCloud, type GreengrassCloud } from '../cloud/greengrass/greengrass-testing';
import { pollUntil } from '../labs/poll-until';
import { provisionDevices } from '../workflows/provisioning/provision';
import { publishComponent } from '../workflows/greengrass/components';
import { createDeployment, installedComponents, thingGroupArn, waitForDeployment } from '../workflows/greengrass/deployments';
import { startCoreDevice, type CoreDevice } from './core-device';

/** A TCP pass-through whose traffic the test can cut and restore. */
interface TcpGate {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

async function tcpGate(host: string, targetPort: number): Promise<TcpGate> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = connect(targetPort, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const GROUP = 'gg-reconnect';
let gc: GreengrassCloud;
let work: string;
let gate: TcpGate;
let core: CoreDevice | undefined;
let thing: string;
const logs: string[] = [];

function app(version: string, lifecycle: Record<string, unknown>) {
  return { RecipeFormatVersion: '2020-01-25', ComponentName: 'com.example.App', ComponentVersion: version, Manifests: [{ Platform: { os: '*' }, Lifecycle: lifecycle }] };
}

async function deploy(version: string): Promise<string> {
  const { deploymentId } = await createDeployment(gc.gg, { targetArn: thingGroupArn(gc.cloud.region, gc.cloud.accountId, GROUP), components: { 'com.example.App': { componentVersion: version } } });
  return deploymentId;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'gg-reconnect-'));
  gc = await startGreengrassCloud();
  const { mqttHost, mqttPort } = gc.cloud.endpoints;
  const provisioned = await provisionDevices({
    iot: gc.iot,
    devices: 1,
    prefix: 'gg-reconnect-',
    group: GROUP,
    outDir: join(work, 'bundles'),
    caCertPem: await readFile(gc.cloud.caCertPath as string, 'utf8'),
    mode: 'local',
    region: gc.cloud.region,
    mqtt: { host: mqttHost, port: mqttPort },
  });
  const { config, dir } = readDeviceConfig(provisioned.devices[0].bundleDir);
  thing = config.thingName;
  gate = await tcpGate(mqttHost, mqttPort);
  const pem = (f: string): Promise<string> => readFile(join(dir, f), 'utf8');
  core = await startCoreDevice({
    thingName: thing,
    root: join(work, 'root'),
    endpoint: { host: mqttHost, port: gate.port, certificatePem: await pem(config.files.certificate), privateKeyPem: await pem(config.files.privateKey), caPem: await pem(config.files.ca) },
    timeouts: { downloadMs: 30_000, deploymentMs: 120_000 },
    run: { stableMs: 300, stopGraceMs: 1000, maxAttempts: 2 },
    log: (line) => logs.push(line),
  });
});

after(async () => {
  await core?.stop();
  await gate?.close();
  await gc?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

test('after a reconnect, a deployment whose job was canceled while the device was offline stops, and the device goes back to its last good set', { timeout: 300_000 }, async () => {
  await publishComponent({ gg: gc.gg, s3: gc.s3, bucket: gc.bucket, recipe: app('1.0.0', { Run: 'exec sleep 600' }), region: gc.cloud.region, accountId: gc.cloud.accountId });
  const good = await deploy('1.0.0');
  assert.deepEqual((await waitForDeployment({ gg: gc.gg, iot: gc.iot, deploymentId: good, thingNames: [thing], timeoutMs: 60_000 })).map((s) => s.status), ['SUCCEEDED']);

  const marker = join(work, 'installing-2');
  await publishComponent({ gg: gc.gg, s3: gc.s3, bucket: gc.bucket, recipe: app('2.0.0', { Install: `touch ${marker}; exec sleep 600`, Run: 'exec sleep 600' }), region: gc.cloud.region, accountId: gc.cloud.accountId });
  const stuck = await deploy('2.0.0');
  await pollUntil('the device installing App 2.0.0', async () => (await readFile(marker).then(() => true, () => false)) || undefined, { timeoutMs: 60_000 });

  gate.cut();
  await pollUntil('the device to notice the outage', async () => (core?.connection.isOnline ? undefined : true), { timeoutMs: 60_000 });
  await gc.gg.send(new CancelDeploymentCommand({ deploymentId: stuck }));
  const canceled = await waitForDeployment({ gg: gc.gg, iot: gc.iot, deploymentId: stuck, thingNames: [thing], timeoutMs: 60_000 });
  assert.deepEqual(canceled.map((s) => s.status), ['CANCELED']);
  // Offline, the device has heard nothing: it is still installing.
  assert.equal(logs.some((l) => /no longer IN_PROGRESS|while this device was offline/.test(l)), false);
  assert.ok(core?.nucleus.components().some((c) => c.componentName === 'com.example.App' && c.version === '2.0.0'));

  gate.restore();
  await pollUntil('the device to stop the canceled deployment after reconnecting', async () => (logs.some((l) => /ended in the cloud while this device was offline: stopping it/.test(l)) ? true : undefined), { timeoutMs: 60_000 });
  await pollUntil('the device back on App 1.0.0', async () => ((await installedComponents(gc.gg, thing).catch((): string[] => [])).includes('com.example.App 1.0.0 RUNNING') ? true : undefined), { timeoutMs: 60_000 });
  assert.deepEqual(core?.nucleus.components().map((c) => `${c.componentName} ${c.version} ${c.componentStatus}`), ['com.example.App 1.0.0 RUNNING']);
});
