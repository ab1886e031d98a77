import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateDeviceFleetCommand,
  DeleteDeviceFleetCommand,
  DeregisterDevicesCommand,
  DescribeDeviceCommand,
  DescribeDeviceFleetCommand,
  ListDeviceFleetsCommand,
  ListDevicesCommand,
  RegisterDevicesCommand,
} from '@aws-sdk/client-sagemaker';
import { rejectsWith, ROLE, startSageMakerCloud } from './sagemaker-testing';

const OUTPUT = { S3OutputLocation: 's3://edge-bucket/fleet-data' };

test('device fleets: create, describe, list with filters, sorting and paging, delete', async () => {
  const c = await startSageMakerCloud();
  try {
    const created = c.clock.now();
    await c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'turbines', RoleArn: ROLE, OutputConfig: OUTPUT, Description: 'wind turbines', EnableIotRoleAlias: true }));
    await c.clock.advance(1000);
    await c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'Lab-fleet', OutputConfig: OUTPUT }));
    await c.clock.advance(1000);
    await c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'spare', OutputConfig: OUTPUT }));

    const d = await c.sm.send(new DescribeDeviceFleetCommand({ DeviceFleetName: 'turbines' }));
    assert.equal(d.DeviceFleetArn, `arn:aws:sagemaker:us-east-1:000000000000:device-fleet/turbines`);
    assert.equal(d.Description, 'wind turbines');
    assert.equal(d.RoleArn, ROLE);
    assert.deepEqual(d.OutputConfig, OUTPUT);
    assert.equal(d.IotRoleAlias, 'arn:aws:iot:us-east-1:000000000000:rolealias/SageMakerEdge-turbines');
    assert.ok(d.CreationTime instanceof Date);
    assert.equal(d.CreationTime.getTime(), created);

    const all = await c.sm.send(new ListDeviceFleetsCommand({}));
    assert.deepEqual(all.DeviceFleetSummaries?.map((s) => s.DeviceFleetName), ['turbines', 'Lab-fleet', 'spare']);
    const byName = await c.sm.send(new ListDeviceFleetsCommand({ SortBy: 'NAME', SortOrder: 'Descending' }));
    assert.deepEqual(byName.DeviceFleetSummaries?.map((s) => s.DeviceFleetName), ['turbines', 'spare', 'Lab-fleet']);
    const contains = await c.sm.send(new ListDeviceFleetsCommand({ NameContains: 'LAB' }));
    assert.deepEqual(contains.DeviceFleetSummaries?.map((s) => s.DeviceFleetName), ['Lab-fleet']);
    const after = await c.sm.send(new ListDeviceFleetsCommand({ CreationTimeAfter: new Date(created + 500) }));
    assert.deepEqual(after.DeviceFleetSummaries?.map((s) => s.DeviceFleetName), ['Lab-fleet', 'spare']);
    const page1 = await c.sm.send(new ListDeviceFleetsCommand({ MaxResults: 2 }));
    assert.equal(page1.DeviceFleetSummaries?.length, 2);
    assert.ok(page1.NextToken);
    const page2 = await c.sm.send(new ListDeviceFleetsCommand({ MaxResults: 2, NextToken: page1.NextToken }));
    assert.deepEqual(page2.DeviceFleetSummaries?.map((s) => s.DeviceFleetName), ['spare']);
    assert.equal(page2.NextToken, undefined);

    await c.sm.send(new DeleteDeviceFleetCommand({ DeviceFleetName: 'spare' }));
    await rejectsWith(c.sm.send(new DescribeDeviceFleetCommand({ DeviceFleetName: 'spare' })), 'ResourceNotFound', /spare/);
    await rejectsWith(c.sm.send(new DeleteDeviceFleetCommand({ DeviceFleetName: 'spare' })), 'ResourceNotFound');
  } finally {
    await c.cleanup();
  }
});

test('devices: register with IoT thing names, describe, list by fleet, deregister; a fleet with devices cannot be deleted', async () => {
  const c = await startSageMakerCloud();
  try {
    await c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'turbines', OutputConfig: OUTPUT }));
    await c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'other', OutputConfig: OUTPUT }));
    const registered = c.clock.now();
    await c.sm.send(new RegisterDevicesCommand({
      DeviceFleetName: 'turbines',
      Devices: [
        { DeviceName: 'turbine-0', IotThingName: 'edgeml-turbine-0', Description: 'first' },
        { DeviceName: 'turbine-1', IotThingName: 'edgeml-turbine-1' },
      ],
    }));
    await c.sm.send(new RegisterDevicesCommand({ DeviceFleetName: 'other', Devices: [{ DeviceName: 'bench-0' }] }));

    const d = await c.sm.send(new DescribeDeviceCommand({ DeviceName: 'turbine-0', DeviceFleetName: 'turbines' }));
    assert.equal(d.DeviceName, 'turbine-0');
    assert.equal(d.DeviceFleetName, 'turbines');
    assert.equal(d.IotThingName, 'edgeml-turbine-0');
    assert.equal(d.Description, 'first');
    assert.equal(d.DeviceArn, 'arn:aws:sagemaker:us-east-1:000000000000:device-fleet/turbines/device/turbine-0');
    assert.equal(d.RegistrationTime?.getTime(), registered);
    assert.deepEqual(d.Models, []);

    const inFleet = await c.sm.send(new ListDevicesCommand({ DeviceFleetName: 'turbines' }));
    assert.deepEqual(inFleet.DeviceSummaries?.map((s) => [s.DeviceName, s.IotThingName]), [['turbine-0', 'edgeml-turbine-0'], ['turbine-1', 'edgeml-turbine-1']]);
    const everywhere = await c.sm.send(new ListDevicesCommand({}));
    assert.equal(everywhere.DeviceSummaries?.length, 3);
    const withModel = await c.sm.send(new ListDevicesCommand({ ModelName: 'wind-turbine' }));
    assert.deepEqual(withModel.DeviceSummaries, []);

    // Wrong fleet for the device, and a device in another fleet.
    await rejectsWith(c.sm.send(new DescribeDeviceCommand({ DeviceName: 'bench-0', DeviceFleetName: 'turbines' })), 'ResourceNotFound', /bench-0/);
    await rejectsWith(c.sm.send(new RegisterDevicesCommand({ DeviceFleetName: 'turbines', Devices: [{ DeviceName: 'bench-0' }] })), 'ValidationException', /already registered in device fleet other/);
    await rejectsWith(c.sm.send(new DeleteDeviceFleetCommand({ DeviceFleetName: 'turbines' })), 'ResourceInUse', /2 registered device/);

    await rejectsWith(c.sm.send(new DeregisterDevicesCommand({ DeviceFleetName: 'turbines', DeviceNames: ['turbine-0', 'bench-0'] })), 'ValidationException', /bench-0/);
    assert.equal((await c.sm.send(new ListDevicesCommand({ DeviceFleetName: 'turbines' }))).DeviceSummaries?.length, 2, 'a refused deregistration removes nothing');
    await c.sm.send(new DeregisterDevicesCommand({ DeviceFleetName: 'turbines', DeviceNames: ['turbine-0', 'turbine-1'] }));
    assert.deepEqual((await c.sm.send(new ListDevicesCommand({ DeviceFleetName: 'turbines' }))).DeviceSummaries, []);
    await c.sm.send(new DeleteDeviceFleetCommand({ DeviceFleetName: 'turbines' }));
  } finally {
    await c.cleanup();
  }
});

test('bad fleet and device input is a ValidationException naming the member, and changes nothing', async () => {
  const c = await startSageMakerCloud({ limits: { deviceFleets: 2, devicesPerFleet: 2 } });
  try {
    await c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'turbines', OutputConfig: OUTPUT }));
    await c.sm.send(new RegisterDevicesCommand({ DeviceFleetName: 'turbines', Devices: [{ DeviceName: 'turbine-0' }] }));
    const cases: [Promise<unknown>, string, RegExp][] = [
      [c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'no_underscores', OutputConfig: OUTPUT })), 'ValidationException', /at 'deviceFleetName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
      [c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'x'.repeat(64), OutputConfig: OUTPUT })), 'ValidationException', /length less than or equal to 63/],
      [c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'nooutput' } as never)), 'ValidationException', /Value null at 'outputConfig' failed to satisfy constraint: Member must not be null/],
      [c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'badout', OutputConfig: { S3OutputLocation: 'ftp://b/k' } })), 'ValidationException', /outputConfig.s3OutputLocation/],
      [c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'badrole', RoleArn: 'arn:aws:iam::12:role/x', OutputConfig: OUTPUT })), 'ValidationException', /roleArn/],
      [c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'turbines', OutputConfig: OUTPUT })), 'ResourceInUse', /turbines already exists/],
      [c.sm.send(new RegisterDevicesCommand({ DeviceFleetName: 'nofleet', Devices: [{ DeviceName: 'd' }] })), 'ResourceNotFound', /nofleet/],
      [c.sm.send(new RegisterDevicesCommand({ DeviceFleetName: 'turbines', Devices: [] })), 'ValidationException', /'devices'.*greater than or equal to 1/],
      [c.sm.send(new RegisterDevicesCommand({ DeviceFleetName: 'turbines', Devices: [{ DeviceName: 'ok' }, { DeviceName: 'bad name' }] })), 'ValidationException', /'devices.2.deviceName'/],
      [c.sm.send(new RegisterDevicesCommand({ DeviceFleetName: 'turbines', Devices: [{ DeviceName: 'ok', IotThingName: 'bad/thing' }] })), 'ValidationException', /devices.1.iotThingName/],
      [c.sm.send(new RegisterDevicesCommand({ DeviceFleetName: 'turbines', Devices: [{ DeviceName: 'a' }, { DeviceName: 'b' }] })), 'ResourceLimitExceeded', /limit 2/],
      [c.sm.send(new RegisterDevicesCommand({ DeviceFleetName: 'turbines', Devices: [{ DeviceName: 'a' }, { DeviceName: 'a' }] })), 'ValidationException', /twice/],
      [c.sm.send(new DescribeDeviceCommand({ DeviceName: 'turbine-0' } as never)), 'ValidationException', /deviceFleetName/],
      [c.sm.send(new ListDevicesCommand({ DeviceFleetName: 'nofleet' })), 'ResourceNotFound', /nofleet/],
      [c.sm.send(new ListDeviceFleetsCommand({ SortBy: 'SIZE' as never })), 'ValidationException', /enum value set/],
      [c.sm.send(new ListDeviceFleetsCommand({ NextToken: 'garbage' })), 'ValidationException', /NextToken/],
    ];
    for (const [p, name, message] of cases) await rejectsWith(p, name, message);
    await c.clock.advance(1000);
    await c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'second', OutputConfig: OUTPUT }));
    await rejectsWith(c.sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'third', OutputConfig: OUTPUT })), 'ResourceLimitExceeded', /device fleets/);

    const fleets = await c.sm.send(new ListDeviceFleetsCommand({}));
    assert.deepEqual(fleets.DeviceFleetSummaries?.map((s) => s.DeviceFleetName), ['turbines', 'second']);
    const devices = await c.sm.send(new ListDevicesCommand({}));
    assert.deepEqual(devices.DeviceSummaries?.map((s) => s.DeviceName), ['turbine-0']);
  } finally {
    await c.cleanup();
  }
});

test('an operation outside the subset is UnknownOperationException, unsigned requests are refused', async () => {
  const c = await startSageMakerCloud();
  try {
    const { CreateTrainingJobCommand } = await import('@aws-sdk/client-sagemaker');
    await rejectsWith(c.sm.send(new CreateTrainingJobCommand({} as never)), 'UnknownOperationException', /CreateTrainingJob/);
    const res = await fetch(c.cloud.endpoints.http, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SageMaker.ListDeviceFleets' },
      body: '{}',
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-amzn-errortype') !== null, true);
  } finally {
    await c.cleanup();
  }
});
