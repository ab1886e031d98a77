/**
 * `npm run nucleus` as a user runs it: from a provisioned bundle it takes a deployment from the local
 * cloud and runs the component; SIGTERM stops the component and the process; a bad bundle is named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGreengrassCloud } from '../cloud/greengrass/greengrass-testing';
import { provisionDevices } from '../workflows/provisioning/provision';
import { publishComponent } from '../workflows/greengrass/components';
import { createDeployment, thingGroupArn, waitForDeployment } from '../workflows/greengrass/deployments';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'shared', 'cli', 'nucleus.ts');

test('a bundle folder without device.json is refused with the reason', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--bundle', join(tmpdir(), 'no-such-bundle')], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /is not a device bundle \(no device.json\)/);
});

test('the nucleus CLI takes a deployment, runs the component, and stops it on SIGTERM', async () => {
  const work = await mkdtemp(join(tmpdir(), 'nucleus-cli-'));
  const gc = await startGreengrassCloud();
  try {
    const provisioned = await provisionDevices({ iot: gc.iot, devices: 1, prefix: 'cli-core-', group: 'cli', outDir: join(work, 'bundles'), caCertPem: await readFile(gc.cloud.caCertPath as string, 'utf8'), mode: 'local', region: gc.cloud.region, mqtt: { host: gc.cloud.endpoints.mqttHost, port: gc.cloud.endpoints.mqttPort } });
    const device = provisioned.devices[0];
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--bundle', device.bundleDir, '--root', join(work, 'root')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const pidFile = join(work, 'component.pid');
    await publishComponent({ gg: gc.gg, s3: gc.s3, bucket: gc.bucket, region: gc.cloud.region, accountId: gc.cloud.accountId, recipe: { RecipeFormatVersion: '2020-01-25', ComponentName: 'com.example.Cli', ComponentVersion: '1.0.0', Manifests: [{ Lifecycle: { Run: `echo $$ > ${pidFile}; exec sleep 600` } }] } });
    const { deploymentId } = await createDeployment(gc.gg, { targetArn: thingGroupArn(gc.cloud.region, gc.cloud.accountId, 'cli'), components: { 'com.example.Cli': { componentVersion: '1.0.0' } } });
    const statuses = await waitForDeployment({ gg: gc.gg, iot: gc.iot, deploymentId, thingNames: [device.thingName], timeoutMs: 90_000 });
    assert.equal(statuses[0].status, 'SUCCEEDED', stderr);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    process.kill(pid, 0);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.throws(() => process.kill(pid, 0), 'the component process is gone');
    assert.match(stderr, /deployment .*: SUCCEEDED SUCCESSFUL/);
  } finally {
    await gc.cleanup();
    await rm(work, { recursive: true, force: true });
  }
});
