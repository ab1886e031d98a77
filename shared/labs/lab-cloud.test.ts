import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { describeLabCloud, openLabCloud } from './lab-cloud';

const ROLE = 'arn:aws:iam::123456789012:role/WorkshopSageMaker';

test('CLOUD_MODE=aws starts no local cloud and gives the SDK real AWS settings', async () => {
  const lab = await openLabCloud({ name: 'labtest', signingKeyDir: '/nonexistent', env: { CLOUD_MODE: 'aws', AWS_REGION: 'eu-west-1', CLOUD_ROLE_ARN: ROLE } });
  try {
    assert.equal(lab.local, undefined);
    assert.equal(lab.settings.mode, 'aws');
    // No endpoint and no keys: the SDK resolves AWS's own endpoints and the default credential chain.
    assert.deepEqual(lab.clientConfig, { region: 'eu-west-1' });
    assert.equal(lab.roleArn, ROLE);
    assert.equal(lab.modelBucket, 'edgeml-models');
    assert.match(describeLabCloud(lab), /^AWS \(region eu-west-1, role .*\); no local cloud started$/);
    await assert.rejects(lab.provisionTarget(), /CLOUD_MODE=aws needs CLOUD_ROOT_CA/);
  } finally {
    await lab.stop();
  }
  assert.equal(existsSync(lab.workDir), false);
});

test('aws mode without a role, or a retired LAB_MODE, is refused before anything starts', async () => {
  await assert.rejects(openLabCloud({ name: 'labtest', signingKeyDir: '/nonexistent', env: { CLOUD_MODE: 'aws' } }), /CLOUD_MODE=aws needs CLOUD_ROLE_ARN/);
  await assert.rejects(openLabCloud({ name: 'labtest', signingKeyDir: '/nonexistent', env: { LAB_MODE: 'aws' } }), /LAB_MODE is not read: set CLOUD_MODE=aws/);
  await assert.rejects(openLabCloud({ name: 'labtest', signingKeyDir: '/nonexistent', env: { CLOUD_MODE: 'gcp' } }), /CLOUD_MODE must be "local" or "aws", got "gcp"/);
});

test('local mode starts the embedded cloud that the client settings point at, and stop removes it', async () => {
  const keys = mkdtempSync(join(tmpdir(), 'labtest-keys-'));
  const lab = await openLabCloud({ name: 'labtest', signingKeyDir: keys, env: {} });
  try {
    assert.ok(lab.local);
    assert.equal(lab.clientConfig.endpoint, lab.local.endpoints.http);
    assert.equal(lab.roleArn, `arn:aws:iam::${lab.local.accountId}:role/SageMakerEdgeRole`);
    const s3 = new S3Client(lab.clientConfig);
    assert.ok(Array.isArray((await s3.send(new ListBucketsCommand({}))).Buckets));
    s3.destroy();
    const target = await lab.provisionTarget();
    assert.equal(target.mode, 'local');
    target.iot.destroy();
  } finally {
    await lab.stop();
    rmSync(keys, { recursive: true, force: true });
  }
  assert.equal(existsSync(lab.workDir), false);
});
