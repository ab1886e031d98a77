import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { alertsRuleInput } from './alerts-rule';

test('the alerts rule selects every device alerts topic and publishes it raw to SNS', () => {
  const input = alertsRuleInput('edgeml_device_alerts', 'arn:aws:sns:eu-west-1:123456789012:turbine-alerts', 'arn:aws:iam::123456789012:role/iot-alerts');
  assert.equal(input.topicRulePayload?.sql, "SELECT * FROM 'wind-turbine/+/alerts'");
  assert.deepEqual(input.topicRulePayload?.actions, [{ sns: { targetArn: 'arn:aws:sns:eu-west-1:123456789012:turbine-alerts', roleArn: 'arn:aws:iam::123456789012:role/iot-alerts', messageFormat: 'RAW' } }]);
  assert.throws(() => alertsRuleInput('bad-name', 'arn:aws:sns:x', 'arn:aws:iam::1:role/r'), /rule name "bad-name" must be 1 to 128 letters, digits or '_'/);
  assert.throws(() => alertsRuleInput('ok', 'arn:aws:sqs:x', 'arn:aws:iam::1:role/r'), /SNS topic ARN "arn:aws:sqs:x" must start with arn:aws:sns:/);
});

test('npm run provision refuses the alerts options outside aws mode, before creating anything', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'cli', 'provision.ts'), '--devices', '1', '--mode', 'local', '--alerts-sns', 'arn:aws:sns:eu-west-1:1:t', '--alerts-role', 'arn:aws:iam::1:role/r'], { encoding: 'utf8', env: { ...process.env, CLOUD_MODE: 'local' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--alerts-sns and --alerts-role go together, in aws mode/);
});
