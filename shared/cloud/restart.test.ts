/**
 * The whole local cloud, every service installed, restarted in the middle of a job: no job, execution,
 * object or certificate is lost, and a device's certificate still opens a mutual-TLS MQTT session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingGroupCommand,
  DescribeCertificateCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  IoTClient,
  ListJobExecutionsForJobCommand,
} from '@aws-sdk/client-iot';
import { IoTJobsDataPlaneClient, StartNextPendingJobExecutionCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import { ManualClock } from './clock';
import { cloudClientConfig, startLocalCloud, type LocalCloud } from './local-cloud';
import { createPolicy, issueThingCertificate } from './iot/registry-testing';
import { closeDevice, connectDevice } from './mqtt/mqtt-testing';

test('restarting the whole cloud mid-job loses no job, execution, object or certificate', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cloud-restart-'));
  let cloud: LocalCloud | undefined;
  try {
    const clock = new ManualClock();
    cloud = await startLocalCloud({ dir, port: 0, mqttPort: 0, clock });
    let s3 = new S3Client(cloudClientConfig(cloud));
    let iot = new IoTClient(cloudClientConfig(cloud));
    const jobsData = new IoTJobsDataPlaneClient(cloudClientConfig(cloud));

    await s3.send(new CreateBucketCommand({ Bucket: 'models' }));
    const model = Buffer.from('model bytes '.repeat(1000));
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'dense/1.0.0.tar.gz', Body: model }));

    await createPolicy(iot, 'device', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `arn:aws:iot:${cloud.region}:${cloud.accountId}:client/\${iot:Connection.Thing.ThingName}` }],
    });
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'farm' }));
    const devices = [];
    for (const name of ['t0', 't1', 't2']) {
      devices.push(await issueThingCertificate(iot, name, 'device'));
      await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'farm', thingName: name }));
    }
    await iot.send(
      new CreateJobCommand({
        jobId: 'deploy-1',
        targets: [`arn:aws:iot:${cloud.region}:${cloud.accountId}:thinggroup/farm`],
        document: JSON.stringify({ operation: 'deploy-model', url: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/models/dense/1.0.0.tar.gz}' }),
        timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      }),
    );
    const started = await jobsData.send(new StartNextPendingJobExecutionCommand({ thingName: 't0' }));
    assert.equal(started.execution?.status, 'IN_PROGRESS');
    const before = await iot.send(new ListJobExecutionsForJobCommand({ jobId: 'deploy-1' }));
    s3.destroy();
    iot.destroy();
    jobsData.destroy();
    await cloud.stop();
    cloud = undefined;

    cloud = await startLocalCloud({ dir, port: 0, mqttPort: 0, clock: new ManualClock(clock.now()) });
    s3 = new S3Client(cloudClientConfig(cloud));
    iot = new IoTClient(cloudClientConfig(cloud));

    const object = await s3.send(new GetObjectCommand({ Bucket: 'models', Key: 'dense/1.0.0.tar.gz' }));
    assert.deepEqual(Buffer.from(await object.Body!.transformToByteArray()), model, 'object intact');

    for (const d of devices) {
      const cert = await iot.send(new DescribeCertificateCommand({ certificateId: d.certificateId }));
      assert.equal(cert.certificateDescription?.status, 'ACTIVE');
      assert.equal(cert.certificateDescription?.certificatePem?.trim(), d.certificatePem.trim());
    }
    const job = await iot.send(new DescribeJobCommand({ jobId: 'deploy-1' }));
    assert.equal(job.job?.status, 'IN_PROGRESS');
    const after = await iot.send(new ListJobExecutionsForJobCommand({ jobId: 'deploy-1' }));
    const summary = (r: typeof before) => (r.executionSummaries ?? []).map((e) => `${e.thingArn}:${e.jobExecutionSummary?.status}`).sort();
    assert.deepEqual(summary(after), summary(before), 'every execution kept its state');
    const t0 = await iot.send(new DescribeJobExecutionCommand({ jobId: 'deploy-1', thingName: 't0' }));
    assert.equal(t0.execution?.status, 'IN_PROGRESS');

    // The CA and the certificate registry survived too: the device connects over mutual TLS.
    const connection = await connectDevice({
      certificatePem: devices[1].certificatePem,
      privateKeyPem: devices[1].privateKeyPem,
      caCertPem: await readFile(cloud.caCertPath!, 'utf8'),
      host: cloud.endpoints.mqttHost,
      port: cloud.endpoints.mqttPort,
      clientId: 't1',
    });
    await closeDevice(connection);
    s3.destroy();
    iot.destroy();
  } finally {
    await cloud?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
