import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './agent-testing';
import { defaultAgentConfig, deviceConfigJson, deviceTopics, parseDeviceConfig, readDeviceConfig, type DeviceConfig } from './device-config';

const minimal = { thingName: 'edge-device-0', mqtt: { host: 'localhost', port: 8883 }, files: { certificate: 'certificate.pem', privateKey: 'private.key', ca: 'ca.pem' } };

test('a minimal device.json gets the default topics and agent settings; given ones are kept', () => {
  const config = parseDeviceConfig(minimal);
  assert.deepEqual(config.topics, deviceTopics('edge-device-0'));
  assert.deepEqual(config.agent, defaultAgentConfig('edge-device-0'));
  const custom = parseDeviceConfig({ ...minimal, agent: { heartbeatSeconds: 5, capture: { sampleRate: 0.5 } }, topics: { alarms: 'site-7/alarms' } });
  assert.equal(custom.agent.heartbeatSeconds, 5);
  assert.equal(custom.agent.capture.sampleRate, 0.5);
  assert.equal(custom.agent.capture.batchSize, defaultAgentConfig('x').capture.batchSize);
  assert.equal(custom.topics.alarms, 'site-7/alarms');
  assert.equal(custom.topics.telemetry, 'wind-turbine/edge-device-0/telemetry');
});

test('a bad device.json is refused naming the file and every wrong member', () => {
  const cases: [unknown, RegExp][] = [
    [[], /^Error: device\.json: must be a JSON object, got an array$/],
    [null, /must be a JSON object, got null/],
    [{ thingName: 't' }, /^Error: device\.json: mqtt\.host must be a string, got undefined; mqtt\.port must be an integer from 1 to 65535, got undefined; files\.certificate must be a string/],
    [{ ...minimal, thingName: 'a/b' }, /thingName must be 1 to 128 characters of a-z, A-Z, 0-9, ':', '_' and '-', got "a\/b"/],
    [{ ...minimal, mqtt: { host: 'h', port: '8883' } }, /mqtt\.port must be an integer from 1 to 65535, got "8883"/],
    [{ ...minimal, mqtt: { host: 'h', port: 70000 } }, /mqtt\.port must be an integer from 1 to 65535, got 70000/],
    [{ ...minimal, mqtt: 'h:8883' }, /mqtt must be an object, got "h:8883"/],
    [{ ...minimal, files: { certificate: '', privateKey: 'k', ca: 'c' } }, /files\.certificate must be a string, got ""/],
    [{ ...minimal, mode: 'cloud' }, /mode must be one of local, aws, got "cloud"/],
    [{ ...minimal, httpEndpoint: 'not a url' }, /httpEndpoint must be a URL, got "not a url"/],
    [{ ...minimal, agent: { heartbeatSecond: 5 } }, /agent\.heartbeatSecond is not a device\.json member \(known: modelsDir, captureDir, heartbeatSeconds, capture\)/],
    [{ ...minimal, agent: { capture: { sampleRate: 2, batchSize: 0.5 } } }, /agent\.capture\.sampleRate must be a number from 0 to 1, got 2; agent\.capture\.batchSize must be an integer from 1 to 10000, got 0\.5/],
    [{ ...minimal, thing: 'x' }, /thing is not a device\.json member \(known: thingName, mqtt, files, region,/],
    [{ ...minimal, credentialsFile: 'credentials.json' }, /credentialsFile: device bundles carry no cloud credentials any more: delete credentials\.json/],
  ];
  for (const [value, message] of cases) assert.throws(() => parseDeviceConfig(value), message, JSON.stringify(value));
});

test('readDeviceConfig reads a bundle folder or its file; unreadable and broken files are named', async () => {
  const tmp = await tempDir('device-config-');
  try {
    const bundle = join(tmp.dir, 'edge-device-0');
    mkdirSync(bundle);
    writeFileSync(join(bundle, 'device.json'), JSON.stringify(minimal));
    for (const path of [bundle, join(bundle, 'device.json')]) {
      const read = readDeviceConfig(path);
      assert.equal(read.config.thingName, 'edge-device-0');
      assert.equal(read.dir, bundle);
      assert.equal(read.file, join(bundle, 'device.json'));
    }
    assert.throws(() => readDeviceConfig(join(tmp.dir, 'missing')), /missing: cannot read the device configuration \(ENOENT/);
    writeFileSync(join(tmp.dir, 'broken.json'), '{"thingName": ');
    assert.throws(() => readDeviceConfig(join(tmp.dir, 'broken.json')), /broken\.json: cannot read the device configuration \(.*JSON/);
    writeFileSync(join(tmp.dir, 'wrong.json'), JSON.stringify({ ...minimal, mqtt: { host: 'h' } }));
    assert.throws(() => readDeviceConfig(join(tmp.dir, 'wrong.json')), /wrong\.json: mqtt\.port must be an integer/);
  } finally {
    await tmp.remove();
  }
});

test('deviceConfigJson writes only what the reader accepts, and reads back the same', () => {
  const config: DeviceConfig = { ...parseDeviceConfig(minimal), region: 'eu-west-1', mode: 'aws', httpEndpoint: undefined };
  const text = deviceConfigJson(config);
  assert.deepEqual(parseDeviceConfig(JSON.parse(text)), { region: 'eu-west-1', mode: 'aws', ...parseDeviceConfig(minimal) });
  assert.doesNotMatch(text, /httpEndpoint/);
  assert.throws(() => deviceConfigJson({ ...config, mqtt: { host: 'h', port: 0 } }), /^Error: device config to write: mqtt\.port must be an integer from 1 to 65535, got 0$/);
});
