import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import {
  CreateCompilationJobCommand,
  CreateDeviceFleetCommand,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeCompilationJobCommand,
  DescribeDeviceCommand,
  DescribeDeviceFleetCommand,
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  RegisterDevicesCommand,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { ROLE, startSageMakerCloud } from './sagemaker-testing';
import type { EdgeToolchain } from './toolchain';

const toolchain: EdgeToolchain = {
  compile: (_dir, out) => writeFile(out, 'onnx'),
  package: async ({ outPath }) => (await writeFile(outPath, 'pkg'), { signature: 's' }),
};

test('a restart keeps fleets, devices and the registry; a job caught mid-way is FAILED with the reason', async () => {
  const first = await startSageMakerCloud({ toolchain });
  let second: Awaited<ReturnType<typeof first.restart>> | undefined;
  try {
    const sm = first.sm;
    await sm.send(new CreateDeviceFleetCommand({ DeviceFleetName: 'turbines', OutputConfig: { S3OutputLocation: 's3://b/data' } }));
    await sm.send(new RegisterDevicesCommand({ DeviceFleetName: 'turbines', Devices: [{ DeviceName: 'turbine-0', IotThingName: 'edgeml-turbine-0' }] }));
    await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'wind-turbine' }));
    const v1 = await sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine', CustomerMetadataProperties: { semver: '1.0.0' } }));
    await sm.send(new UpdateModelPackageCommand({ ModelPackageArn: v1.ModelPackageArn, ModelApprovalStatus: 'Approved' }));
    // Created but not started: the clock does not move before the stop.
    await sm.send(new CreateCompilationJobCommand({
      CompilationJobName: 'interrupted',
      RoleArn: ROLE,
      InputConfig: { S3Uri: 's3://b/m.tar.gz', Framework: 'TENSORFLOW' },
      OutputConfig: { S3OutputLocation: 's3://b/out', TargetDevice: 'rasp4b' },
      StoppingCondition: { MaxRuntimeInSeconds: 900 },
    }));
    await first.stop();

    second = await first.restart();
    const fleet = await second.sm.send(new DescribeDeviceFleetCommand({ DeviceFleetName: 'turbines' }));
    assert.equal(fleet.OutputConfig?.S3OutputLocation, 's3://b/data');
    const device = await second.sm.send(new DescribeDeviceCommand({ DeviceName: 'turbine-0', DeviceFleetName: 'turbines' }));
    assert.equal(device.IotThingName, 'edgeml-turbine-0');
    const pkg = await second.sm.send(new DescribeModelPackageCommand({ ModelPackageName: v1.ModelPackageArn }));
    assert.equal(pkg.ModelApprovalStatus, 'Approved');
    assert.deepEqual(pkg.CustomerMetadataProperties, { semver: '1.0.0' });
    const v2 = await second.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine' }));
    assert.match(v2.ModelPackageArn as string, /\/wind-turbine\/2$/, 'versions continue after a restart');
    const listed = await second.sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: 'wind-turbine' }));
    assert.equal(listed.ModelPackageSummaryList?.length, 2);

    const job = await second.sm.send(new DescribeCompilationJobCommand({ CompilationJobName: 'interrupted' }));
    assert.equal(job.CompilationJobStatus, 'FAILED');
    assert.match(job.FailureReason as string, /local cloud stopped while this job was running/);
    assert.equal(second.clock.pending(), 0, 'no timer left for the failed job');
  } finally {
    if (second) await second.cleanup();
    else await first.cleanup();
  }
});

test('withSageMakerOptions swaps in a configured SageMaker installer and refuses a list without one', async () => {
  const { withSageMakerOptions } = await import('./service');
  const { installers } = await import('../services');
  const list = withSageMakerOptions(installers, { startDelayMs: 5 });
  assert.deepEqual(list.map((i) => i.name), installers.map((i) => i.name));
  assert.notEqual(list.find((i) => i.name === 'sagemaker')?.install, installers.find((i) => i.name === 'sagemaker')?.install);
  assert.equal(list.find((i) => i.name === 's3')?.install, installers.find((i) => i.name === 's3')?.install);
  assert.throws(() => withSageMakerOptions(installers.slice(0, 1), {}), /no sagemaker entry \(it has s3\)/);
});
