import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsClientConfig, cloudSettings, resourceName } from './config';

test('local mode is the default, with a prefix, state folder and region', () => {
  const s = cloudSettings({}, {});
  assert.deepEqual(s, { mode: 'local', resourcePrefix: 'edgeml-', stateDir: '.state/cloud', region: 'us-east-1' });
});

test('aws mode takes the region from the environment or leaves it to the SDK chain', () => {
  const withRegion = cloudSettings({}, { CLOUD_MODE: 'aws', AWS_REGION: 'eu-west-1', CLOUD_RESOURCE_PREFIX: 'lab1-' });
  assert.equal(withRegion.mode, 'aws');
  assert.equal(withRegion.resourcePrefix, 'lab1-');
  assert.deepEqual(awsClientConfig(withRegion), { region: 'eu-west-1' });
  const chain = cloudSettings({}, { CLOUD_MODE: 'aws' });
  assert.equal(chain.region, undefined);
  assert.deepEqual(awsClientConfig(chain), {});
  assert.equal(cloudSettings({ mode: 'local' }, { CLOUD_MODE: 'aws' }).mode, 'local');
  assert.equal(resourceName(withRegion, 'fleet'), 'lab1-fleet');
});

test('bad settings are refused naming the variable', () => {
  assert.throws(() => cloudSettings({}, { CLOUD_MODE: 'cloudy' }), /CLOUD_MODE must be "local" or "aws", got "cloudy"/);
  assert.throws(() => cloudSettings({}, { LAB_MODE: 'aws' }), /LAB_MODE is not read: set CLOUD_MODE=aws instead/);
  assert.throws(() => cloudSettings({}, { CLOUD_RESOURCE_PREFIX: 'Bad_Prefix' }), /CLOUD_RESOURCE_PREFIX/);
});

test("the AWS SDK's Node version notice stays out of any program that loads the cloud settings", () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-sdk-'));
  try {
    // A client built from this module's settings, as every command, lab and test builds one.
    const script = (withConfig: boolean, env: NodeJS.ProcessEnv) => {
      const file = join(dir, `${withConfig ? 'with' : 'without'}.ts`);
      const imports = withConfig ? `import { awsClientConfig, cloudSettings } from '${join(__dirname, 'config')}';\n` : '';
      const settings = withConfig ? 'awsClientConfig(cloudSettings({ mode: "local" }))' : "{ region: 'us-east-1' }";
      writeFileSync(file, `${imports}import { S3Client } from '${require.resolve('@aws-sdk/client-s3')}';\nnew S3Client(${settings}).destroy();\n`);
      return spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: join(__dirname, '..', '..'), env, encoding: 'utf8' });
    };
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const quiet = script(true, env);
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /NodeVersionSupportWarning|NodeDeprecationWarning/);
    if (Number(process.versions.node.split('.')[0]) < 22) {
      // The controls: this SDK warns on Node before 22 without the switch, and a user's own "false" wins.
      assert.match(script(false, env).stderr, /NodeVersionSupportWarning/);
      assert.match(script(true, { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' }).stderr, /NodeVersionSupportWarning/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
