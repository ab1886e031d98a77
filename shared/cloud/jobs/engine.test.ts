import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../clock';
import type { StateStore } from '../contracts';
import { MemoryStateStore, openStateStore } from '../state/store';
import { FillingDisk } from '../state/disk-full-testing';
import { JobsEngine, type JobsDirectory } from './engine';
import { parseCreateJob } from './validate';
import type { JobSpec } from './records';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const MIN = 60_000;
const thingArn = (n: string): string => `arn:aws:iot:${REGION}:${ACCOUNT}:thing/${n}`;
const groupArn = (n: string): string => `arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/${n}`;

/** A registry stand-in with mutable groups. */
function fakeDirectory(groups: Record<string, string[]>): JobsDirectory {
  return {
    thing: (name) => (Object.values(groups).some((m) => m.includes(name)) || name.startsWith('t') ? { thingName: name, attributes: {} } : undefined),
    thingsInGroup: (group) => {
      const members = groups[group];
      if (!members) throw new Error(`group ${group} not found`);
      return [...members];
    },
  };
}

function setup(groups: Record<string, string[]> = {}, store: StateStore = new MemoryStateStore(), clock = new ManualClock(1_700_000_000_000)) {
  const directory = fakeDirectory(groups);
  const engine = new JobsEngine({ clock, store, region: REGION, accountId: ACCOUNT, directory: () => directory, groupPollMs: 10_000 });
  const changes: { thing: string; pendingChanged: boolean }[] = [];
  engine.onThingChanged((thing, pendingChanged) => changes.push({ thing, pendingChanged }));
  return { engine, clock, store, changes, groups };
}

const things = (n: number, prefix = 't'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function spec(jobId: string, body: Record<string, unknown>): JobSpec {
  return parseCreateJob(jobId, { document: '{"operation":"deploy"}', ...body });
}

test('snapshot job: executions queue, start, succeed, and the job completes', async () => {
  const { engine, changes } = setup({ g: things(3) });
  await engine.createJob(spec('j1', { targets: [groupArn('g')] }));
  assert.equal(engine.counts('j1').QUEUED, 3);
  assert.deepEqual(changes.map((c) => c.pendingChanged), [true, true, true]);
  const started = engine.startNext('t0', { statusDetails: { step: 'download' } });
  assert.ok(started);
  assert.equal(started.status, 'IN_PROGRESS');
  assert.equal(started.versionNumber, 2);
  assert.equal(started.executionNumber, 1);
  assert.deepEqual(started.statusDetails, { step: 'download' });
  assert.equal(changes.at(-1)?.pendingChanged, false, 'QUEUED→IN_PROGRESS does not change the pending set');
  // start-next again gives the same IN_PROGRESS execution unchanged
  assert.equal(engine.startNext('t0')?.versionNumber, 2);
  const state = engine.updateFromDevice('t0', 'j1', { status: 'SUCCEEDED', expectedVersion: 2 });
  assert.deepEqual(state, { status: 'SUCCEEDED', statusDetails: { step: 'download' }, versionNumber: 3 });
  assert.equal(engine.getJob('j1').status, 'IN_PROGRESS');
  engine.updateFromDevice('t1', 'j1', { status: 'REJECTED' }); // QUEUED → REJECTED is allowed
  engine.updateFromDevice('t2', 'j1', { status: 'IN_PROGRESS' });
  engine.updateFromDevice('t2', 'j1', { status: 'FAILED' });
  const job = engine.getJob('j1');
  assert.equal(job.status, 'COMPLETED');
  assert.ok(job.completedAt);
  assert.deepEqual(engine.counts('j1'), { QUEUED: 0, IN_PROGRESS: 0, SUCCEEDED: 1, FAILED: 1, TIMED_OUT: 0, REJECTED: 1, REMOVED: 0, CANCELED: 0 });
});

test('state transition rules and version conflicts leave the execution unchanged', async () => {
  const { engine } = setup();
  await engine.createJob(spec('j1', { targets: [thingArn('t0')] }));
  assert.throws(() => engine.updateFromDevice('t0', 'j1', { status: 'CANCELED' }), { code: 'InvalidStateTransitionException' });
  assert.throws(() => engine.updateFromDevice('t0', 'j1', { status: 'QUEUED' }), { code: 'InvalidStateTransitionException' });
  assert.throws(() => engine.updateFromDevice('t0', 'j1', { status: 'IN_PROGRESS', expectedVersion: 7 }), (e: { code: string; execution?: { versionNumber: number } }) => e.code === 'VersionConflictException' && e.execution?.versionNumber === 1);
  assert.throws(() => engine.updateFromDevice('t0', 'nope', { status: 'IN_PROGRESS' }), { code: 'ResourceNotFoundException' });
  assert.throws(() => engine.updateFromDevice('t0', 'j1', { status: 'IN_PROGRESS', executionNumber: 2 }), { code: 'ResourceNotFoundException' });
  const exec = engine.getExecution('j1', 't0');
  assert.equal(exec.status, 'QUEUED');
  assert.equal(exec.versionNumber, 1);
  engine.updateFromDevice('t0', 'j1', { status: 'IN_PROGRESS' });
  engine.updateFromDevice('t0', 'j1', { status: 'IN_PROGRESS', statusDetails: { pct: '50' } });
  assert.equal(engine.getExecution('j1', 't0').versionNumber, 3);
  engine.updateFromDevice('t0', 'j1', { status: 'SUCCEEDED' });
  assert.throws(() => engine.updateFromDevice('t0', 'j1', { status: 'IN_PROGRESS' }), { code: 'InvalidStateTransitionException' });
  assert.throws(() => engine.describeForDevice('t0', 'j1'), { code: 'TerminalStateException' });
  assert.equal(engine.getExecution('j1', 't0').status, 'SUCCEEDED');
});

test('rollout maximumPerMinute queues at most that many things a minute', async () => {
  const { engine, clock } = setup({ g: things(10) });
  await engine.createJob(spec('j1', { targets: [groupArn('g')], jobExecutionsRolloutConfig: { maximumPerMinute: 3 } }));
  const queued = (): number => engine.listExecutionsForJob('j1').length;
  assert.equal(queued(), 3);
  await clock.advance(MIN - 1);
  assert.equal(queued(), 3);
  await clock.advance(1);
  assert.equal(queued(), 6);
  await clock.advance(MIN);
  assert.equal(queued(), 9);
  await clock.advance(MIN);
  assert.equal(queued(), 10);
  assert.equal(clock.pending(), 1, 'once every thing is notified only the registry poll is left, no rollout timer');
});

test('exponential rollout raises the rate by incrementFactor at each numberOfNotifiedThings', async () => {
  const { engine, clock } = setup({ g: things(40) });
  await engine.createJob(spec('j1', {
    targets: [groupArn('g')],
    jobExecutionsRolloutConfig: { exponentialRate: { baseRatePerMinute: 2, incrementFactor: 2, rateIncreaseCriteria: { numberOfNotifiedThings: 4 } } },
  }));
  const queued = (): number => engine.listExecutionsForJob('j1').length;
  // Each minute's rate is read when the minute starts: 2·2^floor(notified/4) → 2 (0 notified), 2 (2),
  // 4 (4), 8 (8), 32 (16, capped by the 24 things left).
  const expected = [2, 4, 8, 16, 40];
  for (const total of expected) {
    assert.equal(queued(), total);
    await clock.advance(MIN);
  }
});

test('exponential rollout on numberOfSucceededThings speeds up as devices succeed', async () => {
  const { engine, clock } = setup({ g: things(10) });
  await engine.createJob(spec('j1', {
    targets: [groupArn('g')],
    jobExecutionsRolloutConfig: { exponentialRate: { baseRatePerMinute: 1, incrementFactor: 2, rateIncreaseCriteria: { numberOfSucceededThings: 2 } } },
  }));
  const queued = (): number => engine.listExecutionsForJob('j1').length;
  assert.equal(queued(), 1);
  engine.updateFromDevice('t0', 'j1', { status: 'SUCCEEDED' });
  assert.equal(queued(), 1, 'one success is below the criterion');
  await clock.advance(MIN);
  assert.equal(queued(), 2);
  engine.updateFromDevice('t1', 'j1', { status: 'SUCCEEDED' });
  // two successes: rate 2 a minute, and one was released this minute, so one more goes at once
  assert.equal(queued(), 3);
});

test('abort threshold cancels the job and its QUEUED executions; IN_PROGRESS ones run on', async () => {
  const { engine } = setup({ g: things(10) });
  await engine.createJob(spec('j1', {
    targets: [groupArn('g')],
    abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 60, minNumberOfExecutedThings: 4 }] },
  }));
  engine.updateFromDevice('t0', 'j1', { status: 'IN_PROGRESS' });
  engine.updateFromDevice('t1', 'j1', { status: 'FAILED' });
  assert.equal(engine.getJob('j1').status, 'IN_PROGRESS', '1 of 1 failed, but fewer than 4 things executed');
  engine.updateFromDevice('t2', 'j1', { status: 'SUCCEEDED' });
  engine.updateFromDevice('t3', 'j1', { status: 'SUCCEEDED' });
  engine.updateFromDevice('t4', 'j1', { status: 'FAILED' });
  assert.equal(engine.getJob('j1').status, 'IN_PROGRESS', '2 of 4 failed = 50% < 60%');
  engine.updateFromDevice('t5', 'j1', { status: 'FAILED' });
  const job = engine.getJob('j1');
  assert.equal(job.status, 'CANCELED', '3 of 5 failed = 60% >= 60%');
  assert.match(job.comment ?? '', /3 of 5/);
  const c = engine.counts('j1');
  assert.equal(c.CANCELED, 4, 't6..t9 were QUEUED');
  assert.equal(c.IN_PROGRESS, 1, 't0 runs on');
  assert.equal(engine.getExecution('j1', 't0').status, 'IN_PROGRESS');
  engine.updateFromDevice('t0', 'j1', { status: 'SUCCEEDED' });
  assert.equal(engine.getJob('j1').status, 'CANCELED');
});

test('abort criteria ALL count FAILED, REJECTED and TIMED_OUT; pending rollout is dropped', async () => {
  const { engine, clock } = setup({ g: things(6) });
  await engine.createJob(spec('j1', {
    targets: [groupArn('g')],
    jobExecutionsRolloutConfig: { maximumPerMinute: 2 },
    abortConfig: { criteriaList: [{ failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 100, minNumberOfExecutedThings: 2 }] },
  }));
  engine.updateFromDevice('t0', 'j1', { status: 'REJECTED' });
  engine.updateFromDevice('t1', 'j1', { status: 'FAILED' });
  assert.equal(engine.getJob('j1').status, 'CANCELED');
  await clock.advance(5 * MIN);
  assert.equal(engine.listExecutionsForJob('j1').length, 2, 'no thing is notified after an abort');
});

test('in-progress timeout ends an execution as TIMED_OUT; step timeouts replace each other', async () => {
  const { engine, clock } = setup();
  await engine.createJob(spec('j1', { targets: [thingArn('t0'), thingArn('t1')], timeoutConfig: { inProgressTimeoutInMinutes: 10 } }));
  engine.startNext('t0');
  await clock.advance(10 * MIN - 1);
  assert.equal(engine.getExecution('j1', 't0').status, 'IN_PROGRESS');
  await clock.advance(1);
  assert.equal(engine.getExecution('j1', 't0').status, 'TIMED_OUT');
  assert.equal(engine.getExecution('j1', 't1').status, 'QUEUED', 'the timer starts at IN_PROGRESS, not at queueing');

  engine.startNext('t1', { stepTimeoutInMinutes: 2 });
  await clock.advance(MIN);
  engine.updateFromDevice('t1', 'j1', { status: 'IN_PROGRESS', stepTimeoutInMinutes: 3 }); // new step: due at 4 min
  await clock.advance(2 * MIN);
  assert.equal(engine.getExecution('j1', 't1').status, 'IN_PROGRESS', 'the first step timeout was replaced');
  engine.updateFromDevice('t1', 'j1', { status: 'IN_PROGRESS', stepTimeoutInMinutes: -1 });
  await clock.advance(5 * MIN);
  assert.equal(engine.getExecution('j1', 't1').status, 'IN_PROGRESS', '-1 cleared the step timer');
  engine.updateFromDevice('t1', 'j1', { status: 'IN_PROGRESS', stepTimeoutInMinutes: 60 }); // capped at the 10-min in-progress deadline
  await clock.advance(2 * MIN);
  const t1 = engine.getExecution('j1', 't1');
  assert.equal(t1.status, 'TIMED_OUT');
  assert.equal(engine.getJob('j1').status, 'COMPLETED');
  assert.equal(engine.counts('j1').TIMED_OUT, 2);
});

test('retries re-queue FAILED and TIMED_OUT executions with executionNumber + 1 until they run out', async () => {
  const { engine, clock } = setup();
  await engine.createJob(spec('j1', {
    targets: [thingArn('t0')],
    timeoutConfig: { inProgressTimeoutInMinutes: 1 },
    jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }, { failureType: 'TIMED_OUT', numberOfRetries: 1 }] },
  }));
  const reply = engine.updateFromDevice('t0', 'j1', { status: 'FAILED', statusDetails: { why: 'disk' } });
  assert.equal(reply.status, 'FAILED', 'the device is told its update was accepted as FAILED');
  let exec = engine.getExecution('j1', 't0');
  assert.equal(exec.status, 'QUEUED');
  assert.equal(exec.executionNumber, 2);
  assert.equal(exec.versionNumber, 1);
  assert.equal(exec.retryAttempt, 1);
  const first = engine.getExecution('j1', 't0', 1);
  assert.equal(first.status, 'FAILED');
  assert.deepEqual(first.statusDetails, { why: 'disk' });
  engine.startNext('t0');
  await clock.advance(MIN);
  exec = engine.getExecution('j1', 't0');
  assert.equal(exec.status, 'QUEUED', 'TIMED_OUT has its own retry');
  assert.equal(exec.executionNumber, 3);
  engine.startNext('t0');
  engine.updateFromDevice('t0', 'j1', { status: 'FAILED' });
  exec = engine.getExecution('j1', 't0');
  assert.equal(exec.status, 'FAILED', 'the FAILED retry is used up');
  assert.equal(exec.executionNumber, 3);
  assert.equal(engine.getJob('j1').status, 'COMPLETED');
  assert.throws(() => engine.getExecution('j1', 't0', 9), { code: 'ResourceNotFoundException' });
});

test('CancelJob and CancelJobExecution follow the force rules', async () => {
  const { engine } = setup({ g: things(4) });
  await engine.createJob(spec('j1', { targets: [groupArn('g')] }));
  engine.startNext('t0');
  engine.startNext('t1');
  assert.throws(() => engine.cancelExecution('j1', 't0'), { code: 'InvalidStateTransitionException' });
  assert.throws(() => engine.cancelExecution('j1', 't0', { force: true, expectedVersion: 1 }), { code: 'VersionConflictException' });
  assert.equal(engine.getExecution('j1', 't0').status, 'IN_PROGRESS');
  engine.cancelExecution('j1', 't0', { force: true, expectedVersion: 2, statusDetails: { by: 'operator' } });
  const t0 = engine.getExecution('j1', 't0');
  assert.equal(t0.status, 'CANCELED');
  assert.equal((t0 as { forceCanceled?: boolean }).forceCanceled, true);
  assert.throws(() => engine.cancelExecution('j1', 't0', { force: true }), { code: 'InvalidStateTransitionException' });
  engine.cancelExecution('j1', 't2');
  assert.equal(engine.getExecution('j1', 't2').status, 'CANCELED');

  engine.cancelJob('j1', { comment: 'stop', reasonCode: 'R1' });
  const job = engine.getJob('j1');
  assert.equal(job.status, 'CANCELED');
  assert.equal(job.reasonCode, 'R1');
  assert.equal(engine.getExecution('j1', 't3').status, 'CANCELED');
  assert.equal(engine.getExecution('j1', 't1').status, 'IN_PROGRESS', 'without force IN_PROGRESS runs on');
  engine.cancelJob('j1', { force: true });
  assert.equal(engine.getExecution('j1', 't1').status, 'CANCELED');
  assert.equal(engine.getJob('j1').forceCanceled, true);
});

test('DeleteJob needs force while the job runs, and then removes everything', async () => {
  const { engine } = setup();
  await engine.createJob(spec('j1', { targets: [thingArn('t0')] }));
  assert.throws(() => engine.deleteJob('j1'), { code: 'InvalidStateTransitionException' });
  assert.equal(engine.listJobs().length, 1);
  engine.deleteJob('j1', true);
  assert.throws(() => engine.getJob('j1'), { code: 'ResourceNotFoundException' });
  assert.equal(engine.listExecutionsForThing('t0').length, 0);
  assert.equal(engine.next('t0'), undefined);
});

test('a restart in the middle of a job loses nothing: rollout, timeouts and executions resume', async (t) => {
  // The journaled store on disk, closed and opened again, as a restart of the cloud does.
  const dir = await mkdtemp(join(tmpdir(), 'jobs-engine-'));
  // The store may still be finishing a background flush of the second engine when the test ends.
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }));
  const first = setup({ g: things(5) }, openStateStore(dir));
  await first.engine.createJob(spec('j1', {
    targets: [groupArn('g')],
    jobExecutionsRolloutConfig: { maximumPerMinute: 2 },
    timeoutConfig: { inProgressTimeoutInMinutes: 3 },
  }));
  first.engine.startNext('t0');
  first.engine.updateFromDevice('t1', 'j1', { status: 'SUCCEEDED' });
  await first.clock.advance(30_000);
  first.engine.stop();
  assert.equal(first.clock.pending(), 0, 'stop() cancels every timer');
  await first.store.flush();
  await first.store.close();

  const store = openStateStore(dir);
  t.after(() => store.close());
  const clock = new ManualClock(first.clock.now());
  const second = setup({ g: things(5) }, store, clock);
  assert.equal(second.engine.getJob('j1').status, 'IN_PROGRESS');
  assert.equal(second.engine.getExecution('j1', 't0').status, 'IN_PROGRESS');
  assert.equal(second.engine.getExecution('j1', 't1').status, 'SUCCEEDED');
  assert.equal(second.engine.listExecutionsForJob('j1').length, 2);
  await clock.advance(30_000);
  assert.equal(second.engine.listExecutionsForJob('j1').length, 4, 'the rollout window carried over the restart');
  await clock.advance(2 * MIN);
  assert.equal(second.engine.getExecution('j1', 't0').status, 'TIMED_OUT', 'the stored deadline fired after the restart');
  assert.equal(second.engine.listExecutionsForJob('j1').length, 5);
});

test('continuous jobs reach things that join the group later; things that leave are REMOVED', async () => {
  const { engine, clock, groups } = setup({ g: ['t0'] });
  await engine.createJob(spec('j1', { targets: [groupArn('g')], targetSelection: 'CONTINUOUS' }));
  engine.updateFromDevice('t0', 'j1', { status: 'SUCCEEDED' });
  assert.equal(engine.getJob('j1').status, 'IN_PROGRESS', 'a continuous job never completes');
  groups.g.push('t1', 't2');
  await clock.advance(10_000);
  assert.equal(engine.getExecution('j1', 't1').status, 'QUEUED');
  engine.startNext('t2');
  groups.g = ['t0', 't1'];
  await clock.advance(10_000);
  assert.equal(engine.getExecution('j1', 't2').status, 'REMOVED');
  groups.g.push('t2');
  engine.refreshTargets();
  const again = engine.getExecution('j1', 't2');
  assert.equal(again.status, 'QUEUED');
  assert.equal(again.executionNumber, 2, 'a thing that rejoins gets a new execution');
});

test('$next order: IN_PROGRESS first, then the oldest QUEUED', async () => {
  const { engine, clock } = setup();
  await engine.createJob(spec('a', { targets: [thingArn('t0')] }));
  await clock.advance(1000);
  await engine.createJob(spec('b', { targets: [thingArn('t0')] }));
  assert.equal(engine.next('t0')?.jobId, 'a');
  engine.updateFromDevice('t0', 'b', { status: 'IN_PROGRESS' });
  assert.equal(engine.next('t0')?.jobId, 'b');
  const p = engine.pending('t0');
  assert.deepEqual([p.inProgress.map((e) => e.jobId), p.queued.map((e) => e.jobId)], [['b'], ['a']]);
});

test('bad CreateJob input is refused with InvalidRequestException and nothing changes', async () => {
  const { engine } = setup({ g: ['t0'] });
  await engine.createJob(spec('j1', { targets: [thingArn('t0')] }));
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['bad id!', { targets: [thingArn('t0')], document: '{}' }, /jobId/],
    ['j2', { targets: [], document: '{}' }, /targets/],
    ['j2', { targets: [thingArn('t0')] }, /exactly one of document and documentSource/],
    ['j2', { targets: [thingArn('t0')], document: '{"a":' }, /not valid JSON/],
    ['j2', { targets: [thingArn('t0')], document: JSON.stringify({ pad: 'x'.repeat(33 * 1024) }) }, /limit is 32768 bytes/],
    ['j2', { targets: [thingArn('t0')], document: '{}', targetSelection: 'SOMETIMES' }, /targetSelection/],
    ['j2', { targets: [thingArn('t0')], document: '{}', timeoutConfig: { inProgressTimeoutInMinutes: 0 } }, /inProgressTimeoutInMinutes/],
    ['j2', { targets: [thingArn('t0')], document: '{}', jobExecutionsRolloutConfig: { exponentialRate: { baseRatePerMinute: 5, incrementFactor: 9, rateIncreaseCriteria: { numberOfNotifiedThings: 1 } } } }, /incrementFactor/],
    ['j2', { targets: [thingArn('t0')], document: '{}', abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'PAUSE', thresholdPercentage: 5, minNumberOfExecutedThings: 1 }] } }, /action/],
    ['j2', { targets: [thingArn('t0')], document: '{}', jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 11 }] } }, /numberOfRetries/],
    ['j2', { targets: [thingArn('t0')], document: '{"u":"${aws:iot:s3-presigned-url:ftp://x/y}"}' }, /placeholder/],
  ];
  for (const [id, body, message] of bad) {
    assert.throws(() => parseCreateJob(id, body), (e: { code: string; message: string }) => e.code === 'InvalidRequestException' && message.test(e.message), `${id} ${JSON.stringify(body).slice(0, 80)}`);
  }
  await assert.rejects(engine.createJob(spec('j2', { targets: ['arn:aws:iot:eu-west-1:000000000000:thing/t0'] })), { code: 'InvalidRequestException' });
  await assert.rejects(engine.createJob(spec('j2', { targets: ['not-an-arn'] })), { code: 'InvalidRequestException' });
  await assert.rejects(engine.createJob(spec('j2', { targets: [groupArn('missing')] })), { code: 'ResourceNotFoundException' });
  await assert.rejects(engine.createJob(spec('j1', { targets: [thingArn('t0')] })), { code: 'ResourceAlreadyExistsException' });
  assert.deepEqual(engine.listJobs().map((j) => j.jobId), ['j1']);
  assert.equal(engine.listExecutionsForThing('t0').length, 1);
});

test('executions of a deleted thing end as REMOVED, and a snapshot job can then complete', async () => {
  const groups: Record<string, string[]> = { g: ['x0', 'x1'] };
  const directory: JobsDirectory = {
    thing: (name) => (groups.g.includes(name) ? { thingName: name, attributes: {} } : undefined),
    thingsInGroup: (group) => [...(groups[group] ?? [])],
  };
  const clock = new ManualClock();
  const engine = new JobsEngine({ clock, store: new MemoryStateStore(), region: REGION, accountId: ACCOUNT, directory: () => directory });
  await engine.createJob(spec('j1', { targets: [groupArn('g')] }));
  engine.updateFromDevice('x0', 'j1', { status: 'SUCCEEDED' });
  groups.g = ['x0']; // x1 deleted
  await clock.advance(10_000);
  assert.equal(engine.getExecution('j1', 'x1').status, 'REMOVED');
  assert.equal(engine.getJob('j1').status, 'COMPLETED');
  assert.equal(clock.pending(), 0, 'no poll once no job runs');
  engine.stop();
});

test('a change is answered only once saved; a save that fails is InternalFailureException and leaves the state as it was', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jobs-engine-save-'));
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }));
  const disk = new FillingDisk(1 << 20);
  const store = openStateStore(dir, { files: disk });
  const { engine, clock } = setup({}, store);
  t.after(() => engine.stop());
  await engine.commit(() => engine.createJob(spec('j1', { targets: [thingArn('t0'), thingArn('t1')], timeoutConfig: { inProgressTimeoutInMinutes: 2 } })));
  await engine.commit(() => engine.startNext('t0'));
  const before = { t0: structuredClone(engine.getExecution('j1', 't0')), t1: structuredClone(engine.getExecution('j1', 't1')), job: structuredClone(engine.getJob('j1')) };

  // The disk fills: each device change is refused with an error, and nothing it did remains.
  disk.bytesLeft = 0;
  const failedSave = (err: unknown): boolean => {
    assert.equal((err as { code?: string }).code, 'InternalFailureException');
    assert.equal((err as { status?: number }).status, 500);
    assert.match((err as Error).message, /could not be saved \(ENOSPC.*nothing was changed/);
    return true;
  };
  await assert.rejects(engine.commit(() => engine.updateFromDevice('t0', 'j1', { status: 'SUCCEEDED', statusDetails: { model: '2.0.0' } })), failedSave);
  await assert.rejects(engine.commit(() => engine.startNext('t1')), failedSave);
  await assert.rejects(engine.commit(() => engine.cancelJob('j1')), failedSave);
  assert.deepEqual(engine.getExecution('j1', 't0'), before.t0, 't0 is still IN_PROGRESS at its old version');
  assert.deepEqual(engine.getExecution('j1', 't1'), before.t1, 't1 is still QUEUED');
  assert.deepEqual(engine.getJob('j1'), before.job);
  assert.equal(engine.next('t1')?.status, 'QUEUED', 'the indexes were rebuilt from the records put back');
  assert.equal(engine.counts('j1').IN_PROGRESS, 1);
  // A bad request is still answered with its own error.
  await assert.rejects(engine.commit(() => engine.updateFromDevice('t1', 'j1', { status: 'SUCCEEDED', expectedVersion: 99 })), /VersionConflict|version/);

  // The timeout timer, rebuilt from the record put back, still fires; with room again the same change succeeds and survives a restart.
  disk.bytesLeft = 1 << 20;
  const done = await engine.commit(() => engine.updateFromDevice('t0', 'j1', { status: 'SUCCEEDED', statusDetails: { model: '2.0.0' } }));
  assert.equal(done.status, 'SUCCEEDED');
  await clock.advance(3 * MIN);
  assert.equal(engine.getExecution('j1', 't1').status, 'QUEUED', 'a QUEUED execution has no timeout');
  engine.stop();
  await store.close();
  const reopened = openStateStore(dir);
  t.after(() => reopened.close());
  const again = setup({}, reopened);
  t.after(() => again.engine.stop());
  assert.equal(again.engine.getExecution('j1', 't0').status, 'SUCCEEDED');
  assert.deepEqual(again.engine.getExecution('j1', 't0').statusDetails, { model: '2.0.0' });
  assert.equal(again.engine.getExecution('j1', 't1').status, 'QUEUED');
  assert.equal(again.engine.getJob('j1').status, 'IN_PROGRESS');
});

test('commit resolves only after the store flush has resolved, and runs changes one at a time', async () => {
  let release!: () => void;
  const memory = new MemoryStateStore();
  const flushes: string[] = [];
  const gated: StateStore = {
    collection: (name) => memory.collection(name),
    close: () => memory.close(),
    flush: () => {
      flushes.push('flush');
      return new Promise<void>((r) => (release = r));
    },
  };
  const { engine } = setup({}, gated);
  const created = engine.commit(() => engine.createJob(spec('j1', { targets: [thingArn('t0')] })));
  let answered = false;
  void created.then(() => (answered = true));
  const second = engine.commit(() => engine.startNext('t0'));
  await new Promise((r) => setImmediate(r));
  assert.equal(flushes.length, 1);
  assert.equal(answered, false, 'not answered while the save is pending');
  assert.equal(engine.getExecution('j1', 't0').status, 'QUEUED', 'the second change waits for the first save');
  release();
  await created;
  await new Promise((r) => setImmediate(r));
  assert.equal(flushes.length, 2);
  release();
  assert.equal((await second)?.status, 'IN_PROGRESS');
  engine.stop();
});
