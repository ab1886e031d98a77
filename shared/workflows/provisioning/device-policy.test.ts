import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionVariables, iotArn, isAllowed, parsePolicyDocument } from '../../cloud/iot/policy';
import { deviceTopics } from '../../edge/device-config';
import { devicePolicyDocument } from './device-policy';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';

/** The policy variables of a connection by thing `thing` with client id `clientId`. */
function vars(thing: string, clientId = thing): Record<string, string> {
  return connectionVariables({ clientId, thing: { thingName: thing, attributes: {} }, isAttached: true });
}

test('the device policy lets a device use only its own client id and topics', () => {
  const policy = parsePolicyDocument(devicePolicyDocument(REGION, ACCOUNT));
  const allowed = (action: string, type: 'client' | 'topic' | 'topicfilter', name: string, v = vars('edge-device-0')): boolean =>
    isAllowed([policy], action, iotArn(REGION, ACCOUNT, type, name), v);
  const own = deviceTopics('edge-device-0');
  const other = deviceTopics('edge-device-1');

  assert.equal(allowed('iot:Connect', 'client', 'edge-device-0'), true);
  assert.equal(allowed('iot:Connect', 'client', 'edge-device-1'), false);
  for (const topic of [own.telemetry, own.heartbeat, own.alarms, `${own.thingRoot}/jobs/notify-next`, `${own.thingRoot}/shadow/update`]) {
    assert.equal(allowed('iot:Publish', 'topic', topic), true, topic);
    assert.equal(allowed('iot:Receive', 'topic', topic), true, topic);
  }
  assert.equal(allowed('iot:Subscribe', 'topicfilter', `${own.thingRoot}/jobs/#`), true);
  assert.equal(allowed('iot:Subscribe', 'topicfilter', 'wind-turbine/edge-device-0/+'), true);
  for (const topic of [other.telemetry, `${other.thingRoot}/jobs/notify-next`, 'wind-turbine/edge-device-00/telemetry', 'elsewhere/x']) {
    assert.equal(allowed('iot:Publish', 'topic', topic), false, topic);
    assert.equal(allowed('iot:Receive', 'topic', topic), false, topic);
  }
  assert.equal(allowed('iot:Subscribe', 'topicfilter', 'wind-turbine/#'), false);
  assert.equal(allowed('iot:Subscribe', 'topicfilter', '$aws/things/+/jobs/#'), false);
  // Another account's or region's resources are not covered.
  assert.equal(isAllowed([policy], 'iot:Connect', iotArn('us-east-1', ACCOUNT, 'client', 'edge-device-0'), vars('edge-device-0')), false);
  // The policy stays under AWS's 2048-character limit (whitespace excluded) even with a long prefix.
  assert.ok(devicePolicyDocument(REGION, ACCOUNT, 'a'.repeat(60)).replace(/\s/g, '').length <= 2048);
});

test('a telemetry prefix that is not one topic level is refused', () => {
  assert.throws(() => devicePolicyDocument(REGION, ACCOUNT, 'a/b'), /one topic level/);
  assert.throws(() => devicePolicyDocument(REGION, ACCOUNT, '#'), /one topic level/);
  assert.throws(() => devicePolicyDocument(REGION, ACCOUNT, ''), /one topic level/);
});
