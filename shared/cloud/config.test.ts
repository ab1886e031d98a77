import { test } from 'node:test';
import assert from 'node:assert/strict';
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
