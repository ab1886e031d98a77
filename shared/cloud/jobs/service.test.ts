import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddThingToThingGroupCommand,
  CancelJobCommand,
  CancelJobExecutionCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteJobCommand,
  DeleteJobExecutionCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  GetJobDocumentCommand,
  IoTClient,
  ListJobExecutionsForJobCommand,
  ListJobExecutionsForThingCommand,
  ListJobsCommand,
  UpdateJobCommand,
} from '@aws-sdk/client-iot';
import {
  DescribeJobExecutionCommand as DeviceDescribeCommand,
  GetPendingJobExecutionsCommand,
  IoTJobsDataPlaneClient,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
} from '@aws-sdk/client-iot-jobs-data-plane';
import { ManualClock } from '../clock';
import { cloudClientConfig, startLocalCloud, type LocalCloud } from '../local-cloud';
import { installIotRegistry } from '../iot/registry-service';
import type { NamedInstaller } from '../services';
import { installJobs } from './service';

const MIN = 60_000;
const INSTALLERS: NamedInstaller[] = [
  { name: 'iot-registry', install: installIotRegistry },
  { name: 'jobs', install: installJobs },
];

type SdkError = Error & { $metadata?: { httpStatusCode?: number } };

/** Asserts an SDK call fails with the AWS error name and HTTP status. */
async function rejectsWith(p: Promise<unknown>, name: string, status: number, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: SdkError) => {
    assert.equal(err.name, name, err.message);
    assert.equal(err.$metadata?.httpStatusCode, status);
    if (message) assert.match(err.message, message);
    return true;
  });
}

async function withCloud(fn: (cloud: LocalCloud, clock: ManualClock, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jobs-rest-'));
  const clock = new ManualClock();
  const cloud = await startLocalCloud({ dir, port: 0, clock, installers: INSTALLERS });
  try {
    await fn(cloud, clock, dir);
  } finally {
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function makeFleet(iot: IoTClient, names: string[], group: string, members: string[]): Promise<void> {
  for (const n of names) await iot.send(new CreateThingCommand({ thingName: n }));
  await iot.send(new CreateThingGroupCommand({ thingGroupName: group }));
  for (const n of members) await iot.send(new AddThingToThingGroupCommand({ thingGroupName: group, thingName: n }));
}

test('control plane and jobs data plane through the real SDK clients: a job from creation to COMPLETED', async () => {
  await withCloud(async (cloud, clock) => {
    const iot = new IoTClient(cloudClientConfig(cloud));
    const device = new IoTJobsDataPlaneClient(cloudClientConfig(cloud));
    const arn = (type: string, name: string): string => `arn:aws:iot:${cloud.region}:${cloud.accountId}:${type}/${name}`;
    await makeFleet(iot, ['d0', 'd1', 'd2', 'd3'], 'fleet', ['d0', 'd1', 'd2']);
    const document = JSON.stringify({ operation: 'install', url: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/models/m.tar.gz}' });
    const created = await iot.send(new CreateJobCommand({
      jobId: 'update-1',
      targets: [arn('thinggroup', 'fleet'), arn('thing', 'd3')],
      document,
      description: 'model v2',
      timeoutConfig: { inProgressTimeoutInMinutes: 5 },
    }));
    assert.equal(created.jobArn, arn('job', 'update-1'));
    assert.equal(created.description, 'model v2');

    const described = await iot.send(new DescribeJobCommand({ jobId: 'update-1' }));
    assert.equal(described.job?.status, 'IN_PROGRESS');
    assert.equal(described.job?.targetSelection, 'SNAPSHOT');
    assert.equal(described.job?.jobProcessDetails?.numberOfQueuedThings, 4);
    assert.ok(described.job?.createdAt instanceof Date);
    assert.equal(described.job?.timeoutConfig?.inProgressTimeoutInMinutes, 5);
    assert.equal((await iot.send(new ListJobsCommand({ thingGroupName: 'fleet' }))).jobs?.length, 1);
    assert.equal((await iot.send(new ListJobsCommand({ status: 'COMPLETED' }))).jobs?.length, 0);

    const page1 = await iot.send(new ListJobExecutionsForJobCommand({ jobId: 'update-1', maxResults: 3 }));
    assert.equal(page1.executionSummaries?.length, 3);
    assert.ok(page1.nextToken);
    const page2 = await iot.send(new ListJobExecutionsForJobCommand({ jobId: 'update-1', maxResults: 3, nextToken: page1.nextToken }));
    assert.deepEqual(page2.executionSummaries?.map((s) => s.thingArn), [arn('thing', 'd3')]);
    assert.equal(page2.nextToken, undefined);

    const pending = await device.send(new GetPendingJobExecutionsCommand({ thingName: 'd0' }));
    assert.deepEqual(pending.queuedJobs?.map((j) => [j.jobId, j.versionNumber, j.executionNumber]), [['update-1', 1, 1]]);
    assert.deepEqual(pending.inProgressJobs, []);
    const started = await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'd0', statusDetails: { step: 'download' } }));
    assert.equal(started.execution?.status, 'IN_PROGRESS');
    assert.equal(started.execution?.versionNumber, 2);
    assert.equal(JSON.parse(started.execution?.jobDocument ?? '{}').operation, 'install');
    const updated = await device.send(new UpdateJobExecutionCommand({ thingName: 'd0', jobId: 'update-1', status: 'SUCCEEDED', expectedVersion: 2, includeJobExecutionState: true }));
    assert.equal(updated.executionState?.status, 'SUCCEEDED');
    assert.equal(updated.executionState?.versionNumber, 3);
    await rejectsWith(device.send(new UpdateJobExecutionCommand({ thingName: 'd0', jobId: 'update-1', status: 'IN_PROGRESS' })), 'InvalidStateTransitionException', 409);
    await rejectsWith(device.send(new DeviceDescribeCommand({ thingName: 'd0', jobId: 'update-1' })), 'TerminalStateException', 410);

    // d1 starts and times out on the cloud clock.
    await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'd1' }));
    const running = await iot.send(new DescribeJobExecutionCommand({ jobId: 'update-1', thingName: 'd1' }));
    assert.equal(running.execution?.status, 'IN_PROGRESS');
    assert.equal(running.execution?.approximateSecondsBeforeTimedOut, 300);
    await clock.advance(5 * MIN);
    const timedOut = await iot.send(new DescribeJobExecutionCommand({ jobId: 'update-1', thingName: 'd1' }));
    assert.equal(timedOut.execution?.status, 'TIMED_OUT');
    assert.equal(timedOut.execution?.thingArn, arn('thing', 'd1'));

    await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'd2' }));
    await rejectsWith(iot.send(new CancelJobExecutionCommand({ jobId: 'update-1', thingName: 'd2' })), 'InvalidStateTransitionException', 409);
    await rejectsWith(iot.send(new CancelJobExecutionCommand({ jobId: 'update-1', thingName: 'd2', force: true, expectedVersion: 9 })), 'VersionConflictException', 409);
    await iot.send(new CancelJobExecutionCommand({ jobId: 'update-1', thingName: 'd2', force: true }));
    const forThing = await iot.send(new ListJobExecutionsForThingCommand({ thingName: 'd2' }));
    assert.equal(forThing.executionSummaries?.[0].jobExecutionSummary?.status, 'CANCELED');

    const viaNext = await device.send(new DeviceDescribeCommand({ thingName: 'd3', jobId: '$next', includeJobDocument: false }));
    assert.deepEqual([viaNext.execution?.jobId, viaNext.execution?.status, viaNext.execution?.jobDocument], ['update-1', 'QUEUED', undefined]);
    await device.send(new UpdateJobExecutionCommand({ thingName: 'd3', jobId: 'update-1', status: 'REJECTED', statusDetails: { reason: 'disk full' } }));
    const done = await iot.send(new DescribeJobCommand({ jobId: 'update-1' }));
    assert.equal(done.job?.status, 'COMPLETED');
    assert.ok(done.job?.completedAt instanceof Date);
    const d = done.job?.jobProcessDetails;
    assert.deepEqual([d?.numberOfSucceededThings, d?.numberOfTimedOutThings, d?.numberOfCanceledThings, d?.numberOfRejectedThings], [1, 1, 1, 1]);
    assert.equal((await iot.send(new GetJobDocumentCommand({ jobId: 'update-1' }))).document, document);
    await rejectsWith(iot.send(new CancelJobCommand({ jobId: 'update-1' })), 'InvalidStateTransitionException', 409);
    await rejectsWith(iot.send(new DeleteJobExecutionCommand({ jobId: 'update-1', thingName: 'd0', executionNumber: 5 })), 'ResourceNotFoundException', 404);
    await iot.send(new DeleteJobExecutionCommand({ jobId: 'update-1', thingName: 'd0', executionNumber: 1 }));
    await rejectsWith(iot.send(new DescribeJobExecutionCommand({ jobId: 'update-1', thingName: 'd0' })), 'ResourceNotFoundException', 404);
    await iot.send(new DeleteJobCommand({ jobId: 'update-1' }));
    await rejectsWith(iot.send(new DescribeJobCommand({ jobId: 'update-1' })), 'ResourceNotFoundException', 404);
  });
});

test('CancelJob, UpdateJob and DeleteJob with force', async () => {
  await withCloud(async (cloud) => {
    const iot = new IoTClient(cloudClientConfig(cloud));
    const device = new IoTJobsDataPlaneClient(cloudClientConfig(cloud));
    const arn = (name: string): string => `arn:aws:iot:${cloud.region}:${cloud.accountId}:thing/${name}`;
    await makeFleet(iot, ['a', 'b'], 'g', []);
    await iot.send(new CreateJobCommand({ jobId: 'j', targets: [arn('a'), arn('b')], document: '{}' }));
    await iot.send(new UpdateJobCommand({ jobId: 'j', description: 'changed', jobExecutionsRolloutConfig: { maximumPerMinute: 10 } }));
    const after = await iot.send(new DescribeJobCommand({ jobId: 'j' }));
    assert.equal(after.job?.description, 'changed');
    assert.equal(after.job?.jobExecutionsRolloutConfig?.maximumPerMinute, 10);
    await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'a' }));
    await rejectsWith(iot.send(new DeleteJobCommand({ jobId: 'j' })), 'InvalidStateTransitionException', 409);
    await iot.send(new CancelJobCommand({ jobId: 'j', comment: 'wrong model', reasonCode: 'BAD_MODEL' }));
    const canceled = await iot.send(new DescribeJobCommand({ jobId: 'j' }));
    assert.deepEqual([canceled.job?.status, canceled.job?.comment, canceled.job?.reasonCode], ['CANCELED', 'wrong model', 'BAD_MODEL']);
    assert.equal(canceled.job?.jobProcessDetails?.numberOfInProgressThings, 1);
    assert.equal(canceled.job?.jobProcessDetails?.numberOfCanceledThings, 1);
    await rejectsWith(iot.send(new DeleteJobCommand({ jobId: 'j' })), 'InvalidStateTransitionException', 409, /still running/);
    await iot.send(new DeleteJobCommand({ jobId: 'j', force: true }));
    assert.equal((await iot.send(new ListJobsCommand({}))).jobs?.length, 0);
    const none = await device.send(new GetPendingJobExecutionsCommand({ thingName: 'a' }));
    assert.deepEqual([none.inProgressJobs, none.queuedJobs], [[], []]);
  });
});

test('bad input gets an AWS-shaped 4xx and changes nothing', async () => {
  await withCloud(async (cloud) => {
    const iot = new IoTClient(cloudClientConfig(cloud));
    const arn = `arn:aws:iot:${cloud.region}:${cloud.accountId}:thing/t1`;
    await makeFleet(iot, ['t1'], 'g', ['t1']);
    await iot.send(new CreateJobCommand({ jobId: 'keep', targets: [arn], document: '{"v":1}' }));
    const snapshot = async (): Promise<string> => JSON.stringify([
      (await iot.send(new ListJobsCommand({}))).jobs?.map((j) => [j.jobId, j.status]),
      (await iot.send(new ListJobExecutionsForThingCommand({ thingName: 't1' }))).executionSummaries?.map((s) => [s.jobId, s.jobExecutionSummary?.status, s.jobExecutionSummary?.lastUpdatedAt?.getTime()]),
    ]);
    const before = await snapshot();

    // A client whose serialised body or path is replaced before signing, to send what the SDK never would.
    type Req = { body?: unknown; path: string; headers: Record<string, string> };
    const tampered = (change: (req: Req) => void): IoTClient => {
      const c = new IoTClient(cloudClientConfig(cloud));
      c.middlewareStack.add((next) => async (args) => {
        const req = (args as unknown as { request: Req }).request;
        change(req);
        if (typeof req.body === 'string') req.headers['content-length'] = String(Buffer.byteLength(req.body));
        return next(args);
      }, { step: 'build', priority: 'low' });
      return c;
    };
    await rejectsWith(tampered((r) => { r.body = '{"targets": ['; }).send(new CreateJobCommand({ jobId: 'j2', targets: [arn], document: '{}' })), 'InvalidRequestException', 400, /not valid JSON/);
    await rejectsWith(tampered((r) => { r.path = '/jobs/j2/explode'; }).send(new CreateJobCommand({ jobId: 'j2', targets: [arn], document: '{}' })), 'UnknownOperationException', 404);
    await rejectsWith(iot.send(new CreateJobCommand({ jobId: 'no spaces', targets: [arn], document: '{}' })), 'InvalidRequestException', 400, /jobId/);
    await rejectsWith(iot.send(new CreateJobCommand({ jobId: 'j2', targets: [arn], document: JSON.stringify({ pad: 'x'.repeat(40_000) }) })), 'InvalidRequestException', 400, /32768 bytes/);
    await rejectsWith(iot.send(new CreateJobCommand({ jobId: 'j2', targets: ['arn:aws:iot:us-east-1:1:thing/t1'], document: '{}' })), 'InvalidRequestException', 400, /targets\[0\]/);
    await rejectsWith(iot.send(new CreateJobCommand({ jobId: 'j2', targets: [arn.replace('t1', 'ghost')], document: '{}' })), 'ResourceNotFoundException', 404, /ghost/);
    await rejectsWith(iot.send(new CreateJobCommand({ jobId: 'j2', targets: [arn], document: '[1,2]' })), 'InvalidRequestException', 400, /JSON object/);
    await rejectsWith(iot.send(new CreateJobCommand({ jobId: 'j2', targets: [arn], documentSource: 'ftp://example/doc.json' })), 'InvalidRequestException', 400, /documentSource/);
    await rejectsWith(iot.send(new CreateJobCommand({ jobId: 'keep', targets: [arn], document: '{}' })), 'ResourceAlreadyExistsException', 409);
    await rejectsWith(iot.send(new ListJobsCommand({ maxResults: 0 })), 'InvalidRequestException', 400, /maxResults/);
    await rejectsWith(iot.send(new ListJobsCommand({ nextToken: 'garbage' })), 'InvalidRequestException', 400, /nextToken/);
    await rejectsWith(iot.send(new ListJobsCommand({ thingGroupId: 'abc' })), 'InvalidRequestException', 400, /thingGroupName/);
    await rejectsWith(iot.send(new ListJobsCommand({ status: 'NOPE' as never })), 'InvalidRequestException', 400, /status/);
    await rejectsWith(iot.send(new DescribeJobExecutionCommand({ jobId: 'keep', thingName: 'nobody' })), 'ResourceNotFoundException', 404);
    await rejectsWith(iot.send(new CancelJobExecutionCommand({ jobId: 'keep', thingName: 't1', statusDetails: { 'bad key!': 'x' } })), 'InvalidRequestException', 400, /statusDetails/);
    assert.equal(await snapshot(), before);
  });
});

test('a restart of the cloud in the middle of a job loses no job or execution, and its timers resume', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jobs-restart-'));
  try {
    const clock = new ManualClock();
    let cloud = await startLocalCloud({ dir, port: 0, clock, installers: INSTALLERS });
    let iot = new IoTClient(cloudClientConfig(cloud));
    let device = new IoTJobsDataPlaneClient(cloudClientConfig(cloud));
    await makeFleet(iot, ['r0', 'r1', 'r2'], 'g', ['r0', 'r1', 'r2']);
    const group = `arn:aws:iot:${cloud.region}:${cloud.accountId}:thinggroup/g`;
    await iot.send(new CreateJobCommand({ jobId: 'survivor', targets: [group], document: '{"a":1}', jobExecutionsRolloutConfig: { maximumPerMinute: 2 }, timeoutConfig: { inProgressTimeoutInMinutes: 2 } }));
    await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'r0' }));
    await device.send(new UpdateJobExecutionCommand({ thingName: 'r1', jobId: 'survivor', status: 'SUCCEEDED' }));
    await cloud.stop();

    const later = new ManualClock(clock.now());
    cloud = await startLocalCloud({ dir, port: 0, clock: later, installers: INSTALLERS });
    iot = new IoTClient(cloudClientConfig(cloud));
    device = new IoTJobsDataPlaneClient(cloudClientConfig(cloud));
    const job = await iot.send(new DescribeJobCommand({ jobId: 'survivor' }));
    assert.equal(job.job?.status, 'IN_PROGRESS');
    assert.deepEqual([job.job?.jobProcessDetails?.numberOfInProgressThings, job.job?.jobProcessDetails?.numberOfSucceededThings], [1, 1]);
    assert.equal((await iot.send(new DescribeJobExecutionCommand({ jobId: 'survivor', thingName: 'r0' }))).execution?.versionNumber, 2);
    await later.advance(MIN);
    assert.equal((await device.send(new GetPendingJobExecutionsCommand({ thingName: 'r2' }))).queuedJobs?.length, 1, 'the rollout resumed');
    await later.advance(MIN);
    assert.equal((await iot.send(new DescribeJobExecutionCommand({ jobId: 'survivor', thingName: 'r0' }))).execution?.status, 'TIMED_OUT', 'the timeout resumed');
    await cloud.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
