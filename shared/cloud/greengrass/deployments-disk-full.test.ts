/**
 * Greengrass deployments and their IoT jobs are saved together: when the disk is full, CreateDeployment and
 * CancelDeployment fail with an error and leave neither a job nor a deployment record changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../clock';
import { JobsEngine } from '../jobs/engine';
import { FillingDisk } from '../state/disk-full-testing';
import { openStateStore } from '../state/store';
import { ComponentCatalog, componentOperations } from './components';
import { deploymentOperations } from './deployments';
import { COLLECTIONS, type ComponentVersionRecord, type DeploymentRecord } from './model';
import { testRecipe } from './greengrass-testing';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

test('a full disk fails CreateDeployment and CancelDeployment whole: no job, no record, no revision changed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gg-disk-full-'));
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }));
  const disk = new FillingDisk(1 << 20);
  const store = openStateStore(dir, { files: disk });
  t.after(() => store.close());
  const clock = new ManualClock(1_700_000_000_000);
  const engine = new JobsEngine({ clock, store, region: REGION, accountId: ACCOUNT, directory: () => ({ thing: (thingName) => ({ thingName, attributes: {} }), thingsInGroup: () => [] }) });
  t.after(() => engine.stop());
  const components = store.collection<ComponentVersionRecord>(COLLECTIONS.components);
  const deployments = engine.trackWith(COLLECTIONS.deployments, store.collection<DeploymentRecord>(COLLECTIONS.deployments));
  const catalog = new ComponentCatalog(components);
  const base = { clock, region: REGION, accountId: ACCOUNT };
  const ops = deploymentOperations({ ...base, deployments, engine: () => engine }, catalog);
  const componentOps = componentOperations({ ...base, components, readS3: async () => undefined, inUse: ops.inUse }, catalog);
  const recipe = (version: string) => Buffer.from(JSON.stringify(testRecipe('com.example.Model', version))).toString('base64');
  await componentOps.createComponentVersion({ inlineRecipe: recipe('1.0.0') });
  await componentOps.createComponentVersion({ inlineRecipe: recipe('2.0.0') });
  await store.flush();
  const targetArn = `arn:aws:iot:${REGION}:${ACCOUNT}:thing/core-1`;
  const deploy = (version: string) => ops.createDeployment({ targetArn, components: { 'com.example.Model': { componentVersion: version } } });

  const first = await deploy('1.0.0');
  const snapshot = () => ({ jobs: engine.listJobs().map((j) => `${j.jobId} ${j.status}`).sort(), records: deployments.values().map((d) => JSON.stringify(d)).sort() });
  const before = snapshot();
  assert.equal(before.jobs.length, 1);

  disk.bytesLeft = 0;
  await assert.rejects(deploy('2.0.0'), /could not be saved \(ENOSPC.*nothing was changed/);
  assert.deepEqual(snapshot(), before, 'no second job, no second record, the first revision is not superseded');
  await assert.rejects(ops.cancelDeployment(first.deploymentId as string), /could not be saved \(ENOSPC.*nothing was changed/);
  assert.deepEqual(snapshot(), before, 'the first deployment and its job are not canceled');
  assert.equal(ops.getDeployment(first.deploymentId as string).deploymentStatus, 'ACTIVE');

  // With room again the same requests succeed, and a reopened store holds exactly what was answered.
  disk.bytesLeft = 1 << 20;
  const second = await deploy('2.0.0');
  assert.equal(ops.getDeployment(first.deploymentId as string).deploymentStatus, 'INACTIVE');
  assert.equal(ops.getDeployment(second.deploymentId as string).revisionId, '2');
  await ops.cancelDeployment(second.deploymentId as string);
  engine.stop();
  await store.close();
  const reopened = openStateStore(dir);
  t.after(() => reopened.close());
  const saved = reopened.collection<DeploymentRecord>(COLLECTIONS.deployments).values();
  assert.deepEqual(saved.map((d) => [d.revisionId, Boolean(d.superseded), Boolean(d.canceled)]).sort(), [['1', true, false], ['2', false, true]]);
});
