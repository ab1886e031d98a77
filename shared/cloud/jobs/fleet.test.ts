/**
 * A thousand devices, each an IotJobsClient on its own mutual-TLS connection, against the whole local
 * cloud: a job for their group reaches every one; an abort threshold and an in-progress timeout end
 * executions as AWS documents, on a clock the test moves.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateJobCommand, DescribeJobCommand, ListJobExecutionsForJobCommand, type JobExecutionStatus } from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ManualClock } from '../clock';
import { cloudClientConfig } from '../local-cloud';
import { deviceEndpoints, startRegistryCloud, type RegistryCloud } from '../iot/registry-testing';
import { installers } from '../services';
import { SimulatedJobDevices, type DeviceOutcome } from './simulated-devices-testing';
import { waitUntil } from '../../labs/poll-until';

const DEVICES = 1000;
const MIN = 60_000;
const clock = new ManualClock();
let rc: RegistryCloud;
let fleet: SimulatedJobDevices;
/** What each device does with each job; tests set it before creating their job. */
let outcome: (thingName: string, jobId: string) => DeviceOutcome = () => 'SUCCEEDED';
const index = (thingName: string): number => Number(thingName.slice(thingName.lastIndexOf('-') + 1));

const groupArn = (): string => `arn:aws:iot:${rc.cloud.region}:${rc.cloud.accountId}:thinggroup/wind-farm`;

async function statuses(jobId: string): Promise<Map<string, JobExecutionStatus | undefined>> {
  const out = new Map<string, JobExecutionStatus | undefined>();
  let nextToken: string | undefined;
  do {
    const page = await rc.iot.send(new ListJobExecutionsForJobCommand({ jobId, maxResults: 250, nextToken }));
    for (const s of page.executionSummaries ?? []) out.set(s.thingArn?.split('/')[1] ?? '', s.jobExecutionSummary?.status);
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/** Polls what until it holds (the one polling helper). */
function until(what: () => Promise<boolean>, label: string, ms = 20_000): Promise<void> {
  return waitUntil(label, what, { timeoutMs: ms, intervalMs: 50, maxIntervalMs: 50 });
}

before(async () => {
  rc = await startRegistryCloud({ clock, installers });
  fleet = await SimulatedJobDevices.start({
    ...deviceEndpoints(rc),
    groupName: 'wind-farm',
    count: DEVICES,
    prefix: 'turbine-',
    outcome: (thing, job) => outcome(thing, job),
  });
});

after(async () => {
  await fleet?.stop();
  await rc?.cleanup();
});

test(`a job for a group of ${DEVICES} things reaches every device through IotJobsClient`, async () => {
  const s3 = new S3Client(cloudClientConfig(rc.cloud));
  await s3.send(new CreateBucketCommand({ Bucket: 'fleet-models' }));
  await s3.send(new PutObjectCommand({ Bucket: 'fleet-models', Key: 'v3/model.tar.gz', Body: 'v3' }));
  outcome = () => 'SUCCEEDED';
  const before = fleet.reports.length;
  await rc.iot.send(new CreateJobCommand({
    jobId: 'deploy-all',
    targets: [groupArn()],
    document: JSON.stringify({ operation: 'deploy', url: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/fleet-models/v3/model.tar.gz}' }),
  }));
  await fleet.waitForReports(before + DEVICES, 60_000);
  const reports = fleet.reports.slice(before);
  assert.equal(new Set(reports.map((r) => r.thingName)).size, DEVICES, 'every device ran the job once');
  for (const r of reports) {
    assert.equal(r.jobId, 'deploy-all');
    assert.match((r.jobDocument as { url: string }).url, /\/fleet-models\/v3\/model\.tar\.gz\?.*X-Amz-Signature=/);
  }
  assert.equal(await (await fetch((reports[0].jobDocument as { url: string }).url)).text(), 'v3');
  await until(async () => (await rc.iot.send(new DescribeJobCommand({ jobId: 'deploy-all' }))).job?.status === 'COMPLETED', 'COMPLETED');
  const job = await rc.iot.send(new DescribeJobCommand({ jobId: 'deploy-all' }));
  assert.equal(job.job?.jobProcessDetails?.numberOfSucceededThings, DEVICES);
  const all = await statuses('deploy-all');
  assert.equal(all.size, DEVICES);
  assert.ok([...all.values()].every((s) => s === 'SUCCEEDED'));
});

test('an abort threshold cancels the job: QUEUED executions end CANCELED, no further thing is notified', async () => {
  // A quarter of the devices fail, a quarter succeed, half leave the job QUEUED; 200 things a minute;
  // abort at 30% FAILED once 40 things have executed.
  outcome = (thing) => (['FAILED', 'SUCCEEDED', 'ignore', 'ignore'] as const)[index(thing) % 4];
  await rc.iot.send(new CreateJobCommand({
    jobId: 'risky',
    targets: [groupArn()],
    document: '{"operation":"risky"}',
    jobExecutionsRolloutConfig: { maximumPerMinute: 200 },
    abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 30, minNumberOfExecutedThings: 40 }] },
  }));
  await until(async () => (await rc.iot.send(new DescribeJobCommand({ jobId: 'risky' }))).job?.status === 'CANCELED', 'the abort');
  // Let devices that were mid-way finish, then move past several rollout minutes.
  await until(async () => [...(await statuses('risky')).values()].every((s) => s !== 'IN_PROGRESS'), 'in-flight executions');
  await clock.advance(5 * MIN);
  const all = await statuses('risky');
  assert.equal(all.size, 200, 'only the first minute\'s things ever got an execution');
  const count = (s: string): number => [...all.values()].filter((v) => v === s).length;
  const executed = count('SUCCEEDED') + count('FAILED');
  assert.ok(count('CANCELED') >= 100, 'at least the QUEUED executions of the devices that never start were canceled');
  assert.equal(executed + count('CANCELED'), 200);
  const job = await rc.iot.send(new DescribeJobCommand({ jobId: 'risky' }));
  const m = /Aborted: (\d+) of (\d+) executed things ended FAILED \(([\d.]+)% >= 30%\)/.exec(job.job?.comment ?? '');
  assert.ok(m, job.job?.comment);
  assert.ok(Number(m[2]) >= 40 && Number(m[3]) >= 30, 'the abort came once 40 had executed with at least 30% failed');
});

test('an in-progress timeout ends hung executions as TIMED_OUT and the job completes', async () => {
  // A hundred devices hang; the rest succeed. The job targets the first 300 things.
  outcome = (thing) => (index(thing) < 100 ? 'hang' : 'SUCCEEDED');
  const targets = fleet.thingNames.slice(0, 300).map((n) => `arn:aws:iot:${rc.cloud.region}:${rc.cloud.accountId}:thing/${n}`);
  await rc.iot.send(new CreateJobCommand({ jobId: 'slow', targets, document: '{"operation":"slow"}', timeoutConfig: { inProgressTimeoutInMinutes: 2 } }));
  await until(async () => {
    const s = await statuses('slow');
    return [...s.values()].filter((v) => v === 'IN_PROGRESS').length === 100 && [...s.values()].filter((v) => v === 'SUCCEEDED').length === 200;
  }, 'devices to start');
  await clock.advance(2 * MIN - 1000);
  assert.equal([...(await statuses('slow')).values()].filter((v) => v === 'IN_PROGRESS').length, 100, 'not before the timeout');
  await clock.advance(1000);
  const all = await statuses('slow');
  assert.equal([...all.values()].filter((v) => v === 'TIMED_OUT').length, 100);
  const job = await rc.iot.send(new DescribeJobCommand({ jobId: 'slow' }));
  assert.equal(job.job?.status, 'COMPLETED');
  assert.equal(job.job?.jobProcessDetails?.numberOfTimedOutThings, 100);
});
