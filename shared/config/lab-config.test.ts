import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LAB_PROFILES, LabConfigError, PROJECT_ROOT, describeLabConfig, loadLabConfig } from './lab-config';

test('no settings gives the full profile in local mode with data under the project', () => {
  const c = loadLabConfig({}, '/somewhere');
  assert.deepEqual(c, { mode: 'local', profile: 'full', ...LAB_PROFILES.full, dataDir: join(PROJECT_ROOT, 'data') });
});

test('LAB_PROFILE=ci takes the ci values, and single overrides win over the profile', () => {
  const ci = loadLabConfig({ LAB_PROFILE: 'ci' });
  assert.equal(ci.turbines, LAB_PROFILES.ci.turbines);
  assert.ok(LAB_PROFILES.ci.minutes < LAB_PROFILES.full.minutes);
  const c = loadLabConfig({ LAB_PROFILE: 'ci', CLOUD_MODE: 'aws', LAB_TURBINES: '7', LAB_MINUTES: '0.5', LAB_EPOCHS: '9', LAB_FLEET_SECONDS: '12.5', LAB_SEED: '0' });
  assert.deepEqual(
    { mode: c.mode, turbines: c.turbines, minutes: c.minutes, epochs: c.trainingEpochs, fleet: c.fleetSeconds, seed: c.seed },
    { mode: 'aws', turbines: 7, minutes: 0.5, epochs: 9, fleet: 12.5, seed: 0 },
  );
  assert.match(describeLabConfig(c), /profile ci, mode aws, 7 turbines, 0.5 min/);
});

test('a relative LAB_DATA_DIR resolves against the working directory; blank values count as unset', () => {
  assert.equal(loadLabConfig({ LAB_DATA_DIR: 'out/data' }, '/tmp/x').dataDir, join('/tmp/x', 'out/data'));
  assert.equal(loadLabConfig({ LAB_DATA_DIR: '/abs/dir' }).dataDir, '/abs/dir');
  assert.equal(loadLabConfig({ LAB_TURBINES: '  ', CLOUD_MODE: '', LAB_MODE: ' ' }).turbines, LAB_PROFILES.full.turbines);
});

test('invalid values are refused with the variable, the value and what it accepts', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ CLOUD_MODE: 'cloud' }, /^CLOUD_MODE must be "local" or "aws", got "cloud"$/],
    [{ LAB_MODE: 'aws' }, /^LAB_MODE is not read: set CLOUD_MODE=aws instead/],
    [{ LAB_PROFILE: 'short' }, /^LAB_PROFILE: "short" is not one of full, ci$/],
    [{ LAB_TURBINES: 'abc' }, /^LAB_TURBINES: "abc" is not a whole number$/],
    [{ LAB_TURBINES: '2.5' }, /^LAB_TURBINES: "2.5" is not a whole number$/],
    [{ LAB_TURBINES: '0' }, /^LAB_TURBINES: 0 is out of range; expected 1 to 1000$/],
    [{ LAB_MINUTES: '-3' }, /^LAB_MINUTES: "-3" is not a positive number$/],
    [{ LAB_MINUTES: '0' }, /^LAB_MINUTES: 0 is out of range/],
    [{ LAB_MINUTES: 'NaN' }, /^LAB_MINUTES: "NaN" is not a positive number$/],
    [{ LAB_SEED: '1e3' }, /^LAB_SEED: "1e3" is not a whole number$/],
    [{ LAB_SEED: String(2 ** 32) }, /^LAB_SEED: 4294967296 is out of range/],
    [{ LAB_FLEET_SECONDS: 'soon' }, /^LAB_FLEET_SECONDS: "soon" is not a positive number$/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadLabConfig(env), (err: unknown) => err instanceof LabConfigError && message.test(err.message), JSON.stringify(env));
  }
});
