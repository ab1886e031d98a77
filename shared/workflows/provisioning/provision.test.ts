import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  IoTClient,
  DescribeCertificateCommand,
  DetachPolicyCommand,
  ListCertificatesCommand,
  GetPolicyCommand,
  ListAttachedPoliciesCommand,
  ListPoliciesCommand,
  ListThingGroupsCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  ListThingsInThingGroupCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { CloudContext } from '../../cloud/contracts';
import { cloudClientConfig } from '../../cloud/local-cloud';
import { installIotRegistry } from '../../cloud/iot/registry-service';
import { startRegistryCloud } from '../../cloud/iot/registry-testing';
import { readDeviceConfig } from '../../edge/device-config';
import { deprovisionDevices } from './deprovision';
import { provisionDevices } from './provision';
import { localTarget } from './targets';

const ROOT = join(__dirname, '..', '..', '..');

/** Runs a CLI without blocking this process's event loop (the cloud under test lives in it). */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = (err as (Error & { code?: number | string }) | null)?.code;
      resolve({ status: err ? (typeof code === 'number' ? code : -1) : 0, stdout, stderr });
    });
  });
}

/** The registry plus a stand-in for the broker, which only reports the MQTT port it would listen on. */
const installers = [
  { name: 'iot-registry', install: installIotRegistry },
  {
    name: 'broker-port',
    install: async (ctx: CloudContext) => {
      if (ctx.endpoints) ctx.endpoints.mqttPort = 18883;
      return { stop: async () => undefined };
    },
  },
];

test('provisioning 3 devices writes valid bundles; a re-run reuses them and reissues only what is gone', async () => {
  const { iot, cloud, dir, cleanup } = await startRegistryCloud({ installers });
  const out = await mkdtemp(join(tmpdir(), 'bundles-'));
  try {
    const target = localTarget(dir);
    const progress: number[] = [];
    const result = await provisionDevices({ ...target, devices: 3, outDir: out, s3Bucket: 'edge-data', onProgress: (done) => progress.push(done) });
    assert.deepEqual(progress, [1, 2, 3]);
    assert.deepEqual(result.devices.map((d) => d.thingName), ['edge-device-0', 'edge-device-1', 'edge-device-2']);
    assert.ok(result.devices.every((d) => d.newCertificate));
    assert.deepEqual((await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'edge-devices' }))).things, ['edge-device-0', 'edge-device-1', 'edge-device-2']);
    const policy = await iot.send(new GetPolicyCommand({ policyName: 'edge-devices-policy' }));
    assert.match(policy.policyDocument ?? '', /\$\{iot:Connection\.Thing\.ThingName\}/);

    const caPem = cloud.context.tls?.caCertPem as string;
    for (const device of result.devices) {
      const bundle = readDeviceConfig(device.bundleDir).config;
      assert.equal(bundle.thingName, device.thingName);
      assert.equal(bundle.region, cloud.region);
      assert.equal(bundle.mode, 'local');
      assert.deepEqual(bundle.mqtt, { host: cloud.endpoints.mqttHost, port: 18883 });
      assert.equal(bundle.httpEndpoint, cloud.endpoints.http);
      assert.equal(bundle.s3Bucket, 'edge-data');
      assert.equal(bundle.topics.telemetry, `wind-turbine/${device.thingName}/telemetry`);
      assert.equal(bundle.agent.capture.s3Prefix, `capture/${device.thingName}/`);
      const certPem = await readFile(join(device.bundleDir, bundle.files.certificate), 'utf8');
      const keyPem = await readFile(join(device.bundleDir, bundle.files.privateKey), 'utf8');
      assert.equal(await readFile(join(device.bundleDir, bundle.files.ca), 'utf8'), caPem);
      const cert = new X509Certificate(certPem);
      assert.ok(cert.verify(new X509Certificate(caPem).publicKey), 'certificate verifies against the CA');
      assert.equal(createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }), cert.publicKey.export({ type: 'spki', format: 'pem' }), 'key matches certificate');
      assert.equal((await stat(join(device.bundleDir, bundle.files.privateKey))).mode & 0o777, 0o600);
      // The device's identity only: no cloud credential (see bundle-secrets.test.ts).
      assert.deepEqual((await readdir(device.bundleDir)).sort(), ['ca.pem', 'certificate.pem', 'device.json', 'private.key']);
      // Registered as AWS would have it: ACTIVE, attached to its thing, with the device policy.
      assert.equal((await iot.send(new DescribeCertificateCommand({ certificateId: bundle.certificateId }))).certificateDescription?.status, 'ACTIVE');
      assert.deepEqual((await iot.send(new ListThingPrincipalsCommand({ thingName: device.thingName }))).principals, [bundle.certificateArn]);
      assert.deepEqual((await iot.send(new ListAttachedPoliciesCommand({ target: bundle.certificateArn }))).policies?.map((p) => p.policyName), ['edge-devices-policy']);
      assert.deepEqual(cloud.context.directory?.thingsForPrincipal(bundle.certificateArn as string), [device.thingName]);
    }

    // Re-run: nothing new is issued, and a complete device costs one call (the rest is read in paged lists).
    const calls: string[] = [];
    target.iot.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(context.commandName as string);
        return next(args);
      },
      { step: 'initialize' },
    );
    const again = await provisionDevices({ ...target, devices: 3, outDir: out });
    assert.deepEqual(again.devices.map((d) => [d.certificateId, d.newCertificate]), result.devices.map((d) => [d.certificateId, false]));
    const perDevice = calls.filter((c) => !/ThingGroupCommand$|PolicyCommand$|^List/.test(c));
    assert.deepEqual(perDevice, ['AttachThingPrincipalCommand', 'AttachThingPrincipalCommand', 'AttachThingPrincipalCommand']);
    // A removed bundle and a revoked certificate each get a new certificate; the rest keep theirs; a 4th device is added;
    // a certificate detached from the policy is attached again.
    await rm(result.devices[0].bundleDir, { recursive: true });
    await iot.send(new UpdateCertificateCommand({ certificateId: result.devices[1].certificateId, newStatus: 'REVOKED' }));
    await iot.send(new DetachPolicyCommand({ policyName: 'edge-devices-policy', target: result.devices[2].certificateArn }));
    const third = await provisionDevices({ ...target, devices: 4, outDir: out });
    assert.deepEqual(third.devices.map((d) => d.newCertificate), [true, true, false, true]);
    assert.equal(third.devices[2].certificateId, result.devices[2].certificateId);
    assert.deepEqual((await iot.send(new ListAttachedPoliciesCommand({ target: result.devices[2].certificateArn }))).policies?.map((p) => p.policyName), ['edge-devices-policy']);
    assert.notEqual(third.devices[1].certificateId, result.devices[1].certificateId);
    assert.equal(readDeviceConfig(third.devices[1].bundleDir).config.certificateId, third.devices[1].certificateId);

    // Teardown: every thing, certificate (the revoked one too), the group, the policy and the bundles go; others stay.
    await iot.send(new CreateThingCommand({ thingName: 'unrelated' }));
    const removed = await deprovisionDevices({ iot: target.iot, outDir: out, retryDelayMs: 10 });
    assert.deepEqual(removed.things, ['edge-device-0', 'edge-device-1', 'edge-device-2', 'edge-device-3']);
    // Six: the four bundles' certificates and the two replaced ones still attached to their things.
    assert.equal(removed.certificates.length, 6);
    assert.equal(removed.policyDeleted, true);
    assert.deepEqual((await iot.send(new ListThingsCommand({}))).things?.map((t) => t.thingName), ['unrelated']);
    assert.deepEqual((await iot.send(new ListThingGroupsCommand({}))).thingGroups, []);
    assert.deepEqual((await iot.send(new ListPoliciesCommand({}))).policies, []);
    assert.deepEqual((await iot.send(new ListCertificatesCommand({}))).certificates, []);
    assert.deepEqual(await readdir(out), []);
    target.iot.destroy();
  } finally {
    await rm(out, { recursive: true, force: true });
    await cleanup();
  }
});

/** Every { accessKeyId, secretAccessKey } pair in a bundle's JSON files: what a thief of the device would try. */
async function credentialsIn(bundleDir: string): Promise<{ accessKeyId: string; secretAccessKey: string }[]> {
  const found: { accessKeyId: string; secretAccessKey: string }[] = [];
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (typeof o.accessKeyId === 'string' && typeof o.secretAccessKey === 'string') found.push({ accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey });
    Object.values(o).forEach(visit);
  };
  for (const name of await readdir(bundleDir)) {
    try {
      visit(JSON.parse(await readFile(join(bundleDir, name), 'utf8')));
    } catch {
      // not JSON
    }
  }
  return found;
}

test('a device bundle holds only the device identity: no cloud key, and the device cannot call the control plane (security finding 1)', async () => {
  const { iot, cloud, dir, cleanup } = await startRegistryCloud({ installers });
  const out = await mkdtemp(join(tmpdir(), 'bundles-'));
  try {
    // A bundle written before the fix still holds the administrator key; provisioning again removes it.
    await mkdir(join(out, 'edge-device-1'), { recursive: true });
    await writeFile(join(out, 'edge-device-1', 'credentials.json'), JSON.stringify(cloud.credentials));
    const target = localTarget(dir);
    const { devices, policyArn } = await provisionDevices({ ...target, devices: 2, outDir: out });
    target.iot.destroy();
    for (const device of devices) {
      for (const name of await readdir(device.bundleDir)) {
        const text = await readFile(join(device.bundleDir, name), 'utf8');
        assert.ok(!text.includes(cloud.credentials.secretAccessKey) && !text.includes(cloud.credentials.accessKeyId), `${name} of ${device.thingName} holds the cloud's key`);
      }
      // The attack of the finding: give the device's own certificate an iot:* policy, using what the bundle holds.
      const tries = [...(await credentialsIn(device.bundleDir)), { accessKeyId: device.certificateId, secretAccessKey: await readFile(join(device.bundleDir, 'private.key'), 'utf8') }];
      for (const credentials of tries) {
        const thief = new IoTClient({ ...cloudClientConfig(cloud), credentials });
        const policyDocument = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] });
        await assert.rejects(thief.send(new CreatePolicyCommand({ policyName: 'everything', policyDocument })), { name: 'UnrecognizedClientException' }, `CreatePolicy with ${credentials.accessKeyId}`);
        await assert.rejects(thief.send(new AttachPolicyCommand({ policyName: 'edge-devices-policy', target: device.certificateArn })), { name: 'UnrecognizedClientException' });
        thief.destroy();
      }
      const unsigned = await fetch(`${cloud.endpoints.http}/policies/everything`, { method: 'POST', body: JSON.stringify({ policyDocument: '{}' }) });
      assert.equal(unsigned.status, 403);
    }
    assert.deepEqual((await iot.send(new ListPoliciesCommand({}))).policies?.map((p) => p.policyArn), [policyArn]);
  } finally {
    await rm(out, { recursive: true, force: true });
    await cleanup();
  }
});

test('bad provisioning options are refused before anything is created', async () => {
  const { iot, dir, cleanup } = await startRegistryCloud({ installers });
  const out = await mkdtemp(join(tmpdir(), 'bundles-'));
  try {
    const target = localTarget(dir);
    await assert.rejects(provisionDevices({ ...target, devices: 0, outDir: out }), /devices must be an integer/);
    await assert.rejects(provisionDevices({ ...target, devices: 2, prefix: 'bad prefix ', outDir: out }), /prefix "bad prefix "/);
    await assert.rejects(provisionDevices({ ...target, devices: 2, group: 'a/b', outDir: out }), /group "a\/b"/);
    await assert.rejects(provisionDevices({ ...target, devices: 2, caCertPem: 'nope', outDir: out }), /caCertPem/);
    await assert.rejects(provisionDevices({ ...target, devices: 2, telemetryPrefix: 'a/b', outDir: out }), /telemetry prefix/);
        assert.deepEqual((await iot.send(new ListThingsCommand({}))).things, []);
    assert.deepEqual((await iot.send(new ListThingGroupsCommand({}))).thingGroups, []);
    assert.deepEqual((await iot.send(new ListPoliciesCommand({}))).policies, []);
    target.iot.destroy();
  } finally {
    await rm(out, { recursive: true, force: true });
    await cleanup();
  }
});

test('npm run provision: provisions the running cloud and fails with one clear line without one', async () => {
  const { dir, cleanup } = await startRegistryCloud({ installers });
  const out = await mkdtemp(join(tmpdir(), 'bundles-'));
  try {
    const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const cli = join(ROOT, 'shared', 'cli', 'provision.ts');
    const env = { ...process.env, CLOUD_MODE: 'local' };
    const ok = await run([tsx, cli, '--devices', '2', '--cloud', dir, '--out', out, '--prefix', 'cli-dev-'], env);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /provisioned 2 device\(s\) in thing group cli-devs/);
    assert.equal(readDeviceConfig(join(out, 'cli-dev-1')).config.thingName, 'cli-dev-1');
    const removed = await run([tsx, cli, '--remove', '--cloud', dir, '--out', out, '--prefix', 'cli-dev-'], env);
    assert.equal(removed.status, 0, removed.stderr);
    assert.match(removed.stdout, /removed 2 thing\(s\) and 2 certificate\(s\)/);
    assert.deepEqual(await readdir(out), []);

    const missing = await run([tsx, cli, '--devices', '1', '--cloud', join(out, 'no-cloud'), '--out', out], env);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^provision: .*cloud\.json not found: start the local cloud first/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
    const aws = await run([tsx, cli, '--devices', '1', '--mode', 'aws', '--out', out], env);
    assert.equal(aws.status, 1);
    assert.match(aws.stderr, /aws mode needs --ca/);
    const help = await run([tsx, cli, '--help'], env);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--devices <n>/);
  } finally {
    await rm(out, { recursive: true, force: true });
    await cleanup();
  }
});
