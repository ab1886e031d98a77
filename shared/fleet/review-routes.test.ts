/**
 * The dashboard's alarm review API over HTTP, on a real local cloud whose capture bucket holds batches
 * captured by the edge's real scoring runtime: an operator's decision is stored once with its windows, a
 * repeated (or doubled) click stores nothing more, and a bad alarm id is refused with the reason and stores
 * nothing. The monitoring report's drift verdict is served too.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import Fastify, { type FastifyInstance } from 'fastify';
import { cloudClientConfig } from '../cloud';
import { captureKey } from '../cloud/capture/service';
import type { LocalCloud } from '../cloud/local-cloud';
import type { CaptureRecord } from '../edge/capture';
import { putObjects, startTestCloud, tempDir } from '../edge/agent-testing';
import { captureFieldBatches } from '../monitoring/field-capture-testing';
import { listObjectKeys, readObjectText } from '../monitoring/field-data-reader';
import { AlarmReview, type ReviewAlarm, type ReviewResult } from './alarm-review';
import { registerReviewRoutes } from './review-routes';

const BUCKET = 'field-data';
const FEATURES = ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage'];
let cloud: LocalCloud;
let s3: S3Client;
let app: FastifyInstance;
let base: string;
let records: CaptureRecord[];
/** The alarms the dashboard lists (newest first): what an operator clicks. */
let listed: ReviewAlarm[];
let cleanup: () => Promise<void> = async () => undefined;

before(async () => {
  const tmp = await tempDir('review-routes-');
  cleanup = tmp.remove;
  cloud = await startTestCloud(tmp.dir);
  s3 = new S3Client(cloudClientConfig(cloud));
  // Roll's threshold 0.05 against errors of about a tenth of |input|: some windows alarm, some do not.
  const thresholds = { rule: 'budget' as const, values: [0.05, 1, 1, 1, 1, 1], errorSteps: 100, debounceWindows: 3 };
  const { batches } = await captureFieldBatches({ turbines: 2, frames: 2400, seed: 8, description: { thresholds }, sampleRate: 1 });
  await putObjects(cloud, BUCKET, Object.fromEntries(batches.map((b) => [captureKey(b.thingName, b.batchId), Buffer.from(JSON.stringify(b))])));
  records = batches.filter((b) => b.thingName === 'turbine-1').flatMap((b) => b.records);
  app = Fastify({ logger: false });
  registerReviewRoutes(app, { review: new AlarmReview(s3, { bucket: BUCKET, featureNames: FEATURES, contextSeconds: 10 }), thingNames: ['turbine-0', 'turbine-1'], heartbeats: () => [] });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app?.close();
  s3?.destroy();
  await cloud?.stop();
  await cleanup();
});

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T & { error?: string } }> {
  const r = await fetch(`${base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as T & { error?: string } };
}
const labelKeys = (): Promise<string[]> => listObjectKeys(s3, BUCKET, ['labels/']);
const label = (index: number, captureId: string, body: unknown): Promise<{ status: number; body: ReviewResult & { error?: string } }> =>
  call<ReviewResult>('POST', `/api/turbines/${index}/alarms/${encodeURIComponent(captureId)}/label`, body);

test('the captured alarms of a turbine are listed newest first, unlabelled', async () => {
  const res = await call<{ alarms: ReviewAlarm[] }>('GET', '/api/turbines/1/alarms');
  assert.equal(res.status, 200);
  const alarms = res.body.alarms;
  listed = alarms;
  const expected = records.filter((r) => r.alarm).length;
  assert.equal(alarms.length, Math.min(20, expected));
  assert.ok(alarms.every((a) => a.thingName === 'turbine-1' && a.label === null && FEATURES.includes(a.feature)));
  const byId = new Map(records.map((r) => [r.captureId, r]));
  assert.ok(alarms.every((a) => byId.get(a.captureId)?.alarm === true && byId.get(a.captureId)?.score === a.score), 'each is a captured alarm');
  for (let i = 1; i < alarms.length; i++) assert.ok(alarms[i - 1].inferenceTime >= alarms[i].inferenceTime, 'newest first');
});

test('a decision is stored once with its captured windows; the same click again stores nothing more', async () => {
  const alarm = records.find((r) => r.captureId === listed[0].captureId)!;
  const first = await label(1, alarm.captureId, { decision: 'rejected', operator: 'ana' });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.created, true);
  assert.equal(first.body.label.decision, 'rejected');
  const keys = await labelKeys();
  assert.deepEqual(keys, [`labels/turbine-1/${alarm.captureId}.json`]);
  const stored = JSON.parse(await readObjectText(s3, BUCKET, keys[0])) as { decision: string; operator: string; windows: CaptureRecord[] };
  const at = Date.parse(alarm.inferenceTime);
  const around = records.filter((r) => Math.abs(Date.parse(r.inferenceTime) - at) <= 10_000).map((r) => r.captureId).sort();
  assert.deepEqual(stored.windows.map((w) => w.captureId).sort(), around, 'the captured windows within 10 s of the alarm');
  assert.equal(first.body.label.windows, around.length);

  const again = await label(1, alarm.captureId, { decision: 'rejected', operator: 'ana' });
  assert.equal(again.status, 200);
  assert.equal(again.body.created, false);
  assert.equal(again.body.label.decidedAt, first.body.label.decidedAt, 'the first label stands');
  assert.equal((await labelKeys()).length, 1);

  // A double click: two requests at once on another alarm store one label, and exactly one says it stored it.
  const other = listed[1];
  const both = await Promise.all([label(1, other.captureId, { decision: 'confirmed', operator: 'bo' }), label(1, other.captureId, { decision: 'confirmed', operator: 'bo' })]);
  assert.deepEqual(both.map((r) => r.status), [200, 200]);
  assert.deepEqual(both.map((r) => r.body.created).sort(), [false, true]);
  assert.equal((await labelKeys()).length, 2);

  const now = (await call<{ alarms: ReviewAlarm[] }>('GET', '/api/turbines/1/alarms')).body.alarms;
  assert.deepEqual(now.slice(0, 2).map((a) => a.label?.decision), ['rejected', 'confirmed'], 'the list shows the labels');
  assert.ok(now.slice(2).every((a) => a.label === null));
});

test('a bad alarm id or decision is refused with the reason and stores nothing', async () => {
  const before = await labelKeys();
  const alarm = listed[0];
  const quiet = records.find((r) => !r.alarm)!;
  const cases: [Promise<{ status: number; body: { error?: string } }>, number, RegExp][] = [
    [label(1, 'no-such-alarm', { decision: 'confirmed' }), 404, /no captured alarm no-such-alarm of turbine-1: only alarms whose windows were captured/],
    [label(0, alarm.captureId, { decision: 'confirmed' }), 404, /no captured alarm .* of turbine-0/],
    [label(1, 'bad id!', { decision: 'confirmed' }), 400, /captureId must match pattern/],
    [label(7, alarm.captureId, { decision: 'confirmed' }), 400, /index must be <= 1/],
    [label(1, quiet.captureId, { decision: 'rejected' }), 400, /raised no alarm: only alarms are labelled/],
    [label(1, alarm.captureId, { decision: 'maybe' }), 400, /decision must be equal to one of the allowed values/],
    [label(1, alarm.captureId, { decision: 'confirmed', operator: 'bo' }), 409, /was already rejected by ana/],
    [label(1, listed[2].captureId, { decision: 'rejected', operator: ' ' }), 400, /operator must name who decided/],
  ];
  for (const [pending, status, reason] of cases) {
    const res = await pending;
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.match(String(res.body.error), reason);
  }
  assert.deepEqual(await labelKeys(), before, 'nothing stored');
});

test('the monitoring report serves the drift verdict per version over the farm and per turbine', async () => {
  const res = await call<{ rows: { version: string; thingName: string; windows: number; verdict: string; features: { feature: string }[] }[] }>('GET', '/api/monitoring');
  assert.equal(res.status, 200);
  const farm = res.body.rows.filter((r) => r.thingName === '*');
  assert.equal(farm.length, 1);
  assert.equal(res.body.rows[0].thingName, '*', 'the farm first');
  assert.ok(['stable', 'watch', 'drift', 'insufficient-data'].includes(farm[0].verdict));
  assert.deepEqual(farm[0].features.map((f) => f.feature), FEATURES);
  assert.deepEqual(res.body.rows.filter((r) => r.thingName !== '*').map((r) => r.thingName), ['turbine-0', 'turbine-1']);
});
