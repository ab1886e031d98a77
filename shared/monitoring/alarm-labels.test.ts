import { test } from 'node:test';
import assert from 'node:assert/strict';
import { S3Client } from '@aws-sdk/client-s3';
import { cloudClientConfig } from '../cloud';
import { captureKey } from '../cloud/capture/service';
import { putObjects, startTestCloud, tempDir } from '../edge/agent-testing';
import { type AlarmDecision, labelAlarm, readAlarmLabels } from './alarm-labels';
import { captureFieldBatches } from './field-capture-testing';
import { listObjectKeys } from './field-data-reader';

test('an operator label is stored exactly once with the captured windows around the alarm; a repeat keeps the one, a contradiction is refused', async () => {
  const tmp = await tempDir('monitoring-labels-');
  const cloud = await startTestCloud(tmp.dir);
  const s3 = new S3Client(cloudClientConfig(cloud));
  const bucket = 'field-data';
  try {
    // Roll's threshold 0.05 against errors of about a tenth of |input|: some windows alarm, some do not.
    const thresholds = { rule: 'budget' as const, values: [0.05, 1, 1, 1, 1, 1], errorSteps: 100, debounceWindows: 3 };
    const { batches } = await captureFieldBatches({ turbines: 2, frames: 2400, seed: 8, description: { thresholds }, sampleRate: 1 });
    await putObjects(cloud, bucket, Object.fromEntries(batches.map((b) => [captureKey(b.thingName, b.batchId), Buffer.from(JSON.stringify(b))])));
    const records = batches.filter((b) => b.thingName === 'turbine-1').flatMap((b) => b.records);
    const alarm = records.filter((r) => r.alarm)[5];
    const quiet = records.find((r) => !r.alarm);
    assert.ok(alarm && quiet, 'the captured data holds alarms and quiet windows');
    const decision: AlarmDecision = { thingName: 'turbine-1', captureId: alarm.captureId, decision: 'rejected', operator: 'ana', note: 'gusty afternoon' };

    const first = await labelAlarm(s3, bucket, decision, { now: 1_000, contextSeconds: 10 });
    assert.equal(first.created, true);
    assert.ok(first.label.windows.some((w) => w.captureId === alarm.captureId));
    const at = Date.parse(alarm.inferenceTime);
    const expected = records.filter((r) => Math.abs(Date.parse(r.inferenceTime) - at) <= 10_000).map((r) => r.captureId).sort();
    assert.deepEqual(first.label.windows.map((w) => w.captureId).sort(), expected, 'every captured window of that device within 10 s, and only those');
    assert.ok(expected.length > 5);

    const again = await labelAlarm(s3, bucket, decision, { now: 2_000 });
    assert.equal(again.created, false);
    assert.equal(again.label.decidedAt, new Date(1_000).toISOString(), 'the first decision is kept, not rewritten');
    assert.equal((await listObjectKeys(s3, bucket, ['labels/'])).length, 1, 'still one stored label');
    const second = await labelAlarm(s3, bucket, { ...decision, captureId: records.filter((r) => r.alarm)[6].captureId, decision: 'confirmed' });
    assert.equal(second.created, true, 'another alarm gets its own label');

    await assert.rejects(labelAlarm(s3, bucket, { ...decision, decision: 'confirmed', operator: 'bo' }), /alarm .* of turbine-1 was already rejected by ana at 1970-01-01T00:00:01.000Z/);
    await assert.rejects(labelAlarm(s3, bucket, { ...decision, captureId: quiet.captureId }), /raised no alarm: only alarms are labelled/);
    await assert.rejects(labelAlarm(s3, bucket, { ...decision, captureId: 'missing' }), /no captured record missing of turbine-1/);
    await assert.rejects(labelAlarm(s3, bucket, { ...decision, decision: 'maybe' as 'confirmed' }), /decision must be "confirmed" or "rejected", got "maybe"/);
    await assert.rejects(labelAlarm(s3, bucket, { ...decision, operator: ' ' }), /operator must name who decided/);
    await assert.rejects(labelAlarm(s3, bucket, { ...decision, thingName: '../x' }), /thingName "..\/x" must be/);
    const labels = await readAlarmLabels(s3, bucket);
    assert.equal(labels.length, 2, 'refused calls stored nothing');
    assert.deepEqual(labels.map((l) => l.decision).sort(), ['confirmed', 'rejected']);
  } finally {
    s3.destroy();
    await cloud.stop();
    await tmp.remove();
  }
});
