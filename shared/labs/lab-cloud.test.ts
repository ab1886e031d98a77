import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

test("the AWS SDK's Node version notice stays out of a lab's output once lab-cloud is loaded", () => {
  const dir = mkdtempSync(join(tmpdir(), 'labtest-sdk-'));
  try {
    const script = (withLabCloud: boolean) => {
      const file = join(dir, `${withLabCloud ? 'with' : 'without'}.ts`);
      const imports = withLabCloud ? `import '${join(__dirname, 'lab-cloud')}';\n` : '';
      writeFileSync(file, `${imports}import { S3Client } from '${require.resolve('@aws-sdk/client-s3')}';\nnew S3Client({ region: 'us-east-1' }).destroy();\n`);
      const env = { ...process.env };
      delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
      return spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: join(__dirname, '..', '..'), env, encoding: 'utf8' });
    };
    const quiet = script(true);
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /NodeVersionSupportWarning|NodeDeprecationWarning/);
    // The control: this SDK warns on Node before 22, so without lab-cloud the notice is there.
    if (Number(process.versions.node.split('.')[0]) < 22) assert.match(script(false).stderr, /NodeVersionSupportWarning/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
