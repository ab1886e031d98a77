/**
 * The Jobs MQTT API as a device sees it: aws-iot-device-sdk-v2's IotJobsClient over mutual TLS against
 * the local cloud (S3, registry, broker, jobs), with job documents carrying pre-signed S3 URLs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AddThingToThingGroupCommand, CancelJobCommand, CreateJobCommand, CreateThingGroupCommand, DescribeJobCommand, DescribeJobExecutionCommand, GetJobDocumentCommand, RemoveThingFromThingGroupCommand } from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { iotjobs, mqtt } from 'aws-iot-device-sdk-v2';
import { ManualClock } from '../clock';
import { cloudClientConfig } from '../local-cloud';
import { installIotRegistry } from '../iot/registry-service';
import { connectThing, createPolicy, issueThingCertificate, startRegistryCloud, type RegistryCloud, type ThingCredentials } from '../iot/registry-testing';
import { installMqttBroker } from '../mqtt/service';
import { closeDevice, Inbox } from '../mqtt/mqtt-testing';
import { installS3 } from '../s3/service';
import { installJobs } from './service';
import { jobsDevicePolicy } from './simulated-devices-testing';
import { waitUntil } from '../../labs/poll-until';

let rc: RegistryCloud;
const clock = new ManualClock();
const devices: mqtt.MqttClientConnection[] = [];

async function connect(t: ThingCredentials): Promise<mqtt.MqttClientConnection> {
  const c = await connectThing(rc, t);
  devices.push(c);
  return c;
}

/**
 * Subscribes and resolves once the broker acknowledged the subscription, with the first message it
 * delivers that passes the check (rejected after ms).
 */
async function subscribeForFirst<T>(subscribe: (handler: (err: unknown, response?: T) => void) => Promise<unknown>, check: (r: T) => boolean = () => true, ms = 5000): Promise<{ first: Promise<T> }> {
  let resolveFirst!: (r: T) => void;
  let rejectFirst!: (e: Error) => void;
  const first = new Promise<T>((resolve, reject) => ((resolveFirst = resolve), (rejectFirst = reject)));
  const timer = setTimeout(() => rejectFirst(new Error(`no matching message within ${ms} ms`)), ms);
  await subscribe((err, response) => {
    if (err || !response || !check(response)) return;
    clearTimeout(timer);
    resolveFirst(response);
  });
  return { first };
}

const arn = (type: string, name: string): string => `arn:aws:iot:${rc.cloud.region}:${rc.cloud.accountId}:${type}/${name}`;

before(async () => {
  rc = await startRegistryCloud({
    clock,
    installers: [
      { name: 's3', install: installS3 },
      { name: 'iot-registry', install: installIotRegistry },
      { name: 'mqtt-broker', install: installMqttBroker },
      { name: 'jobs', install: installJobs },
    ],
  });
  // The policy the workshop gives devices: their own jobs topics only.
  await createPolicy(rc.iot, 'jobs-device', jobsDevicePolicy(rc.cloud.region, rc.cloud.accountId));
});

after(async () => {
  for (const d of devices) await closeDevice(d);
  await rc?.cleanup();
  // aws-crt's request-response client (IotJobsClientv2) aborts in a native finalizer when Node tears the
  // environment down at a natural exit; leaving through process.exit() skips that teardown. Results are
  // already reported, and a failed test still fails the file (exit() keeps process.exitCode).
  setTimeout(() => process.exit(), 200);
});

test('IotJobsClient: notify-next, start-next, update and a pre-signed model URL that downloads', async () => {
  const s3 = new S3Client(cloudClientConfig(rc.cloud));
  await s3.send(new CreateBucketCommand({ Bucket: 'models' }));
  await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'turbine/model-v2.tar.gz', Body: 'model bytes v2' }));
  const dev = await issueThingCertificate(rc.iot, 'turbine-1', 'jobs-device');
  const connection = await connect(dev);
  const jobs = new iotjobs.IotJobsClient(connection);
  const thingName = dev.thingName;
  const QOS = mqtt.QoS.AtLeastOnce;

  // Nothing pending: both lists come back, empty.
  const emptyPending = await subscribeForFirst<iotjobs.model.GetPendingJobExecutionsResponse>((h) => jobs.subscribeToGetPendingJobExecutionsAccepted({ thingName }, QOS, h));
  await jobs.publishGetPendingJobExecutions({ thingName, clientToken: 'pending-1' }, QOS);
  const none = await emptyPending.first;
  assert.deepEqual([none.inProgressJobs, none.queuedJobs, none.clientToken], [[], [], 'pending-1']);

  const nextEvents: iotjobs.model.NextJobExecutionChangedEvent[] = [];
  const listEvents: iotjobs.model.JobExecutionsChangedEvent[] = [];
  await jobs.subscribeToNextJobExecutionChangedEvents({ thingName }, QOS, (err, e) => { if (!err && e) nextEvents.push(e); });
  await jobs.subscribeToJobExecutionsChangedEvents({ thingName }, QOS, (err, e) => { if (!err && e) listEvents.push(e); });
  const startAccepted: iotjobs.model.StartNextJobExecutionResponse[] = [];
  await jobs.subscribeToStartNextPendingJobExecutionAccepted({ thingName }, QOS, (err, r) => { if (!err && r) startAccepted.push(r); });
  const updates: iotjobs.model.UpdateJobExecutionResponse[] = [];
  const rejections: iotjobs.model.RejectedErrorResponse[] = [];
  await jobs.subscribeToUpdateJobExecutionAccepted({ thingName, jobId: '+' }, QOS, (err, r) => { if (!err && r) updates.push(r); });
  await jobs.subscribeToUpdateJobExecutionRejected({ thingName, jobId: '+' }, QOS, (err, r) => { if (!err && r) rejections.push(r); });

  const document = { operation: 'deploy-model', modelUrl: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/models/turbine/model-v2.tar.gz}' };
  await rc.iot.send(new CreateJobCommand({
    jobId: 'deploy-v2',
    targets: [arn('thing', thingName)],
    document: JSON.stringify(document),
    presignedUrlConfig: { roleArn: arn('role', 'x'), expiresInSec: 300 },
  }));
  const until = (what: () => boolean, label: string): Promise<void> => waitUntil(label, what, { timeoutMs: 5000, intervalMs: 20 });
  await until(() => nextEvents.length === 1 && listEvents.length === 1, 'notify and notify-next');
  const next = nextEvents[0].execution;
  assert.equal(next?.jobId, 'deploy-v2');
  assert.equal(next?.status, 'QUEUED');
  assert.equal(typeof next?.queuedAt, 'number');
  const url = (next?.jobDocument as { modelUrl: string }).modelUrl;
  assert.match(url, /X-Amz-Expires=300/);
  assert.equal(await (await fetch(url)).text(), 'model bytes v2', 'the pre-signed URL downloads the model');
  assert.deepEqual(listEvents[0].jobs?.QUEUED?.map((s) => s.jobId), ['deploy-v2']);

  await jobs.publishStartNextPendingJobExecution({ thingName, clientToken: 'start-1', statusDetails: { phase: 'download' } }, QOS);
  await until(() => startAccepted.length === 1, 'start-next accepted');
  const started = startAccepted[0];
  assert.equal(started.clientToken, 'start-1');
  assert.equal(started.execution?.status, 'IN_PROGRESS');
  assert.equal(started.execution?.versionNumber, 2);
  assert.deepEqual(started.execution?.statusDetails, { phase: 'download' });
  assert.match((started.execution?.jobDocument as { modelUrl: string }).modelUrl, /^http.*X-Amz-Signature=/);

  await jobs.publishUpdateJobExecution({ thingName, jobId: 'deploy-v2', status: iotjobs.model.JobStatus.IN_PROGRESS, expectedVersion: 7, clientToken: 'upd-0' }, QOS);
  await until(() => rejections.length === 1, 'version mismatch rejection');
  assert.equal(rejections[0].code, 'VersionMismatch');
  assert.equal(rejections[0].clientToken, 'upd-0');
  assert.equal(rejections[0].executionState?.versionNumber, 2);

  await jobs.publishUpdateJobExecution({ thingName, jobId: 'deploy-v2', status: iotjobs.model.JobStatus.SUCCEEDED, expectedVersion: 2, includeJobExecutionState: true, clientToken: 'upd-1' }, QOS);
  await until(() => updates.length === 1 && nextEvents.length === 2 && listEvents.length === 2, 'update accepted and the events after it');
  assert.equal(updates[0].clientToken, 'upd-1');
  assert.equal(updates[0].executionState?.status, 'SUCCEEDED');
  assert.equal(nextEvents[1].execution, undefined, 'notify-next with nothing pending carries no execution');
  assert.deepEqual(listEvents[1].jobs, {}, 'notify with nothing pending is jobs: {}');
  const control = await rc.iot.send(new DescribeJobExecutionCommand({ jobId: 'deploy-v2', thingName }));
  assert.equal(control.execution?.status, 'SUCCEEDED');

  await jobs.publishUpdateJobExecution({ thingName, jobId: 'deploy-v2', status: iotjobs.model.JobStatus.IN_PROGRESS, clientToken: 'upd-2' }, QOS);
  await until(() => rejections.length === 2, 'invalid transition rejection');
  assert.equal(rejections[1].code, 'InvalidStateTransition');
});

test('bad requests on the jobs topics are rejected with the documented codes', async () => {
  const dev = await issueThingCertificate(rc.iot, 'turbine-2', 'jobs-device');
  const connection = await connect(dev);
  const base = `$aws/things/${dev.thingName}/jobs`;
  const inbox = new Inbox();
  // Answers only: an echo of the device's own empty publish would reach aws-crt as a detached buffer.
  for (const f of ['+/accepted', '+/rejected', '+/+/accepted', '+/+/rejected', 'notify-next']) {
    await connection.subscribe(`${base}/${f}`, mqtt.QoS.AtLeastOnce, inbox.onMessage);
  }
  await rc.iot.send(new CreateJobCommand({ jobId: 'j-bad', targets: [arn('thing', dev.thingName)], document: '{"x":1}' }));

  await connection.publish(`${base}/start-next`, '{not json', mqtt.QoS.AtLeastOnce);
  assert.equal(JSON.parse(await inbox.next(`${base}/start-next/rejected`)).code, 'InvalidJson');
  await connection.publish(`${base}/j-bad/explode`, '{"clientToken":"c1"}', mqtt.QoS.AtLeastOnce);
  const topicRejected = JSON.parse(await inbox.next(`${base}/j-bad/explode/rejected`));
  assert.deepEqual([topicRejected.code, topicRejected.clientToken], ['InvalidTopic', 'c1']);
  await connection.publish(`${base}/j-bad/update`, '{"status":"DONE","clientToken":"c2"}', mqtt.QoS.AtLeastOnce);
  const badStatus = JSON.parse(await inbox.next(`${base}/j-bad/update/rejected`));
  assert.deepEqual([badStatus.code, badStatus.clientToken], ['InvalidRequest', 'c2']);
  assert.match(badStatus.message, /status must be one of/);
  await connection.publish(`${base}/nope/get`, '{}', mqtt.QoS.AtLeastOnce);
  assert.equal(JSON.parse(await inbox.next(`${base}/nope/get/rejected`)).code, 'ResourceNotFound');
  await connection.publish(`${base}/j-bad/get`, '{"clientToken":"c3","includeJobDocument":false}', mqtt.QoS.AtLeastOnce);
  const described = JSON.parse(await inbox.next(`${base}/j-bad/get/accepted`));
  assert.deepEqual([described.execution.status, described.execution.jobDocument, described.clientToken], ['QUEUED', undefined, 'c3']);
  await connection.publish(`${base}/$next/get`, '', mqtt.QoS.AtLeastOnce);
  assert.deepEqual(JSON.parse(await inbox.next(`${base}/$next/get/accepted`)).execution.jobDocument, { x: 1 });
  const state = await rc.iot.send(new DescribeJobExecutionCommand({ jobId: 'j-bad', thingName: dev.thingName }));
  assert.deepEqual([state.execution?.status, state.execution?.versionNumber], ['QUEUED', 1], 'rejected requests changed nothing');

  // The control plane cancels: the device hears it on notify-next.
  await rc.iot.send(new CancelJobCommand({ jobId: 'j-bad' }));
  let afterCancel = JSON.parse(await inbox.next(`${base}/notify-next`));
  if (afterCancel.execution) afterCancel = JSON.parse(await inbox.next(`${base}/notify-next`)); // the one sent at creation
  assert.equal(afterCancel.execution, undefined);
});

test('a device cannot act on another thing\'s jobs even where its policy allows the topic', async () => {
  await createPolicy(rc.iot, 'too-wide', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['iot:Connect', 'iot:Publish', 'iot:Subscribe', 'iot:Receive'], Resource: '*' }],
  });
  const victim = await issueThingCertificate(rc.iot, 'victim', 'jobs-device');
  const intruder = await issueThingCertificate(rc.iot, 'intruder', 'too-wide');
  await rc.iot.send(new CreateJobCommand({ jobId: 'victim-job', targets: [arn('thing', 'victim')], document: '{}' }));
  const connection = await connect(intruder);
  const inbox = new Inbox();
  await connection.subscribe('$aws/things/+/jobs/#', mqtt.QoS.AtLeastOnce, inbox.onMessage);
  await connection.publish('$aws/things/victim/jobs/start-next', '{"clientToken":"steal"}', mqtt.QoS.AtLeastOnce);
  await connection.publish('$aws/things/intruder/jobs/get', '{"clientToken":"own"}', mqtt.QoS.AtLeastOnce);
  // Its own request is answered; by then the other was handled too, and it got no answer and changed nothing.
  assert.equal(JSON.parse(await inbox.next('$aws/things/intruder/jobs/get/accepted')).clientToken, 'own');
  // A fixed pause on purpose: the assertion below is that no answer arrives (nothing to await).
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(inbox.messages.filter((m) => m.topic.startsWith('$aws/things/victim/jobs/start-next')).length, 1, 'only its own publish, no answer');
  const state = await rc.iot.send(new DescribeJobExecutionCommand({ jobId: 'victim-job', thingName: 'victim' }));
  assert.equal(state.execution?.status, 'QUEUED');
  void victim;
});

test('documentSource is read from the local S3; a continuous job reaches a thing that joins its group later', async () => {
  const s3 = new S3Client(cloudClientConfig(rc.cloud));
  await s3.send(new CreateBucketCommand({ Bucket: 'job-docs' }));
  const doc = '{"operation":"configure","sampleRate":10}';
  await s3.send(new PutObjectCommand({ Bucket: 'job-docs', Key: 'configure.json', Body: doc }));
  await rc.iot.send(new CreateThingGroupCommand({ thingGroupName: 'late-group' }));
  const source = 'https://s3.amazonaws.com/job-docs/configure.json';
  await rc.iot.send(new CreateJobCommand({ jobId: 'continuous', targets: [arn('thinggroup', 'late-group')], documentSource: source, targetSelection: 'CONTINUOUS' }));
  const described = await rc.iot.send(new DescribeJobCommand({ jobId: 'continuous' }));
  assert.deepEqual([described.documentSource, described.job?.targetSelection, described.job?.status], [source, 'CONTINUOUS', 'IN_PROGRESS']);
  assert.equal((await rc.iot.send(new GetJobDocumentCommand({ jobId: 'continuous' }))).document, doc);
  await assert.rejects(
    rc.iot.send(new CreateJobCommand({ jobId: 'missing-doc', targets: [arn('thinggroup', 'late-group')], documentSource: 'https://s3.amazonaws.com/job-docs/nope.json' })),
    (err: Error) => err.name === 'InvalidRequestException' && /could not be read/.test(err.message),
  );

  const dev = await issueThingCertificate(rc.iot, 'latecomer', 'jobs-device');
  const connection = await connect(dev);
  const jobs = new iotjobs.IotJobsClient(connection);
  const events: iotjobs.model.NextJobExecutionChangedEvent[] = [];
  await jobs.subscribeToNextJobExecutionChangedEvents({ thingName: 'latecomer' }, mqtt.QoS.AtLeastOnce, (err, e) => { if (!err && e) events.push(e); });
  await rc.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'late-group', thingName: 'latecomer' }));
  await clock.advance(10_000); // continuous jobs look at their groups every 10 s of cloud time
  await waitUntil('notify-next for the continuous job', () => events.length > 0, { timeoutMs: 5000, intervalMs: 20 });
  assert.equal(events[0]?.execution?.jobId, 'continuous');
  assert.deepEqual(events[0]?.execution?.jobDocument, JSON.parse(doc));

  await rc.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'late-group', thingName: 'latecomer' }));
  await clock.advance(10_000);
  await waitUntil('notify-next after leaving the group', () => events.length >= 2, { timeoutMs: 5000, intervalMs: 20 });
  assert.equal(events[1]?.execution, undefined, 'the execution left the queue');
  const removed = await rc.iot.send(new DescribeJobExecutionCommand({ jobId: 'continuous', thingName: 'latecomer' }));
  assert.equal(removed.execution?.status, 'REMOVED');
});

test('IotJobsClientv2 (request-response client) runs the SDK\'s own processing scenario unchanged', async () => {
  const dev = await issueThingCertificate(rc.iot, 'v2-device', 'jobs-device');
  const connection = await connect(dev);
  const client = iotjobs.IotJobsClientv2.newFromMqtt311(connection, { maxRequestResponseSubscriptions: 6, maxStreamingSubscriptions: 2, operationTimeoutInSeconds: 10 });
  try {
    const thingName = dev.thingName;
    await rc.iot.send(new CreateThingGroupCommand({ thingGroupName: 'v2-group' }));
    await rc.iot.send(new CreateJobCommand({ jobId: 'v2-job', targets: [arn('thinggroup', 'v2-group')], document: '{"op":"v2"}', targetSelection: 'CONTINUOUS' }));
    const changed = client.createJobExecutionsChangedStream({ thingName });
    const next = client.createNextJobExecutionChangedStream({ thingName });
    changed.open();
    next.open();
    type Published<T> = [{ message: T }];
    const firstChanged = once<Published<iotjobs.model.JobExecutionsChangedEvent>>(changed, 'incomingPublish');
    const firstNext = once<Published<iotjobs.model.NextJobExecutionChangedEvent>>(next, 'incomingPublish');
    const none = await client.getPendingJobExecutions({ thingName });
    assert.deepEqual([none.queuedJobs, none.inProgressJobs], [[], []]);
    await rc.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'v2-group', thingName }));
    await clock.advance(10_000);
    assert.equal((await firstChanged)[0].message.jobs?.QUEUED?.[0].jobId, 'v2-job');
    const queued = (await firstNext)[0].message.execution;
    assert.deepEqual([queued?.jobId, queued?.status], ['v2-job', 'QUEUED']);

    const finalChanged = once<Published<iotjobs.model.JobExecutionsChangedEvent>>(changed, 'incomingPublish');
    const finalNext = once<Published<iotjobs.model.NextJobExecutionChangedEvent>>(next, 'incomingPublish');
    const started = await client.startNextPendingJobExecution({ thingName });
    assert.equal(started.execution?.jobId, 'v2-job');
    const described = await client.describeJobExecution({ thingName, jobId: 'v2-job' });
    assert.equal(described.execution?.status, 'IN_PROGRESS');
    await client.updateJobExecution({ thingName, jobId: 'v2-job', status: iotjobs.model.JobStatus.SUCCEEDED });
    assert.deepEqual((await finalChanged)[0].message.jobs, {});
    const last = (await finalNext)[0].message;
    assert.ok(last.timestamp !== undefined && last.execution === undefined);
    const after = await client.getPendingJobExecutions({ thingName });
    assert.deepEqual([after.queuedJobs?.length, after.inProgressJobs?.length], [0, 0]);
    await assert.rejects(client.updateJobExecution({ thingName, jobId: 'v2-job', status: iotjobs.model.JobStatus.IN_PROGRESS }), (err: { modeledError?: { code?: string; executionState?: { status?: string } } }) => {
      assert.equal(err.modeledError?.code, 'InvalidStateTransition');
      assert.equal(err.modeledError?.executionState?.status, 'SUCCEEDED');
      return true;
    });
    changed.close();
    next.close();
  } finally {
    client.close();
  }
});

test('a retried failure comes back on notify-next as executionNumber 2; a step timeout ends it TIMED_OUT', async () => {
  const dev = await issueThingCertificate(rc.iot, 'retrier', 'jobs-device');
  const connection = await connect(dev);
  const base = `$aws/things/${dev.thingName}/jobs`;
  const inbox = new Inbox();
  for (const f of ['notify-next', 'start-next/accepted', '+/update/accepted']) await connection.subscribe(`${base}/${f}`, mqtt.QoS.AtLeastOnce, inbox.onMessage);
  await rc.iot.send(new CreateJobCommand({
    jobId: 'flaky',
    targets: [arn('thing', dev.thingName)],
    document: '{"op":"flaky"}',
    jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }] },
  }));
  assert.equal(JSON.parse(await inbox.next(`${base}/notify-next`)).execution.executionNumber, 1);
  await connection.publish(`${base}/start-next`, '{"clientToken":"s1"}', mqtt.QoS.AtLeastOnce);
  assert.equal(JSON.parse(await inbox.next(`${base}/start-next/accepted`)).execution.status, 'IN_PROGRESS');
  await connection.publish(`${base}/flaky/update`, '{"status":"FAILED","includeJobExecutionState":true,"clientToken":"u1"}', mqtt.QoS.AtLeastOnce);
  assert.equal(JSON.parse(await inbox.next(`${base}/flaky/update/accepted`)).executionState.status, 'FAILED');
  const retry = JSON.parse(await inbox.next(`${base}/notify-next`)).execution;
  assert.deepEqual([retry.jobId, retry.status, retry.executionNumber, retry.versionNumber], ['flaky', 'QUEUED', 2, 1]);
  await connection.publish(`${base}/start-next`, '{"stepTimeoutInMinutes":1}', mqtt.QoS.AtLeastOnce);
  assert.equal(JSON.parse(await inbox.next(`${base}/start-next/accepted`)).execution.executionNumber, 2);
  await clock.advance(60_000);
  assert.equal(JSON.parse(await inbox.next(`${base}/notify-next`)).execution, undefined, 'timed out: nothing pending');
  const second = await rc.iot.send(new DescribeJobExecutionCommand({ jobId: 'flaky', thingName: dev.thingName }));
  assert.deepEqual([second.execution?.status, second.execution?.executionNumber], ['TIMED_OUT', 2]);
  const first = await rc.iot.send(new DescribeJobExecutionCommand({ jobId: 'flaky', thingName: dev.thingName, executionNumber: 1 }));
  assert.equal(first.execution?.status, 'FAILED');
});

/** The first emission of event on emitter, as its argument list. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- aws-crt's typed emitters take per-event listener types
function once<T extends unknown[]>(emitter: { on(event: any, fn: any): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => {
    let done = false;
    emitter.on(event, (...args: never[]) => {
      if (done) return;
      done = true;
      resolve(args as unknown as T);
    });
  });
}
