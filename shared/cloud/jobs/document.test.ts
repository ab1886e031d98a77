import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock';
import { JobsDeviceApi } from './device-api';
import { checkDocument, parseS3Url, resolvePlaceholders } from './document';
import { JobsEngine } from './engine';
import { MemoryStateStore } from '../state/store';
import { parseCreateJob } from './validate';

test('S3 URLs in the forms AWS IoT accepts give bucket and key; anything else is refused', () => {
  const ok: [string, string, string][] = [
    ['https://s3.amazonaws.com/models/v1/model.tar.gz', 'models', 'v1/model.tar.gz'],
    ['https://s3.eu-west-1.amazonaws.com/models/a%20b.json', 'models', 'a b.json'],
    ['https://s3-us-west-2.amazonaws.com/b/k', 'b', 'k'],
    ['https://my-bucket.s3.amazonaws.com/dir/k.bin', 'my-bucket', 'dir/k.bin'],
    ['https://my-bucket.s3.us-east-1.amazonaws.com/k', 'my-bucket', 'k'],
  ];
  for (const [url, bucket, key] of ok) assert.deepEqual(parseS3Url(url), { bucket, key }, url);
  for (const bad of ['http://s3.amazonaws.com/b/k', 'https://s3.amazonaws.com/b', 'https://s3.amazonaws.com/b/', 'https://example.com/b/k', 'ftp://x/y', 'not a url']) {
    assert.equal(parseS3Url(bad), undefined, bad);
  }
});

test('placeholders are replaced by a fresh pre-signed URL per delivery, escaped for JSON', async () => {
  const doc = JSON.stringify({ a: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/x.bin}', b: ['${aws:iot:s3-presigned-url:https://bk2.s3.amazonaws.com/y%20z}'] });
  checkDocument(doc, 'test');
  let n = 0;
  const calls: string[] = [];
  const resolved = await resolvePlaceholders(doc, async (bucket, key, s) => {
    calls.push(`${bucket}/${key}/${s}`);
    return `http://local/${bucket}/${key}?sig=${++n}&q="`;
  }, 120);
  const parsed = JSON.parse(resolved);
  assert.equal(parsed.a, 'http://local/b/x.bin?sig=1&q="');
  assert.equal(parsed.b[0], 'http://local/bk2/y z?sig=2&q="');
  assert.deepEqual(calls, ['b/x.bin/120', 'bk2/y z/120']);
});

test('devices get documents pre-signed with the job\'s expiresInSec (default 3600); the control plane keeps the placeholder', async () => {
  const clock = new ManualClock();
  const engine = new JobsEngine({ clock, store: new MemoryStateStore(), region: 'us-east-1', accountId: '123456789012' });
  const seen: number[] = [];
  const api = new JobsDeviceApi(engine, clock, () => ({ presignGet: async (b, k, s) => (seen.push(s), `https://signed/${b}/${k}`) }));
  const document = '{"url":"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/m/k}"}';
  const target = ['arn:aws:iot:us-east-1:123456789012:thing/t0'];
  await engine.createJob(parseCreateJob('short', { targets: target, document, presignedUrlConfig: { expiresInSec: 60 } }));
  await engine.createJob(parseCreateJob('default', { targets: target, document }));
  const started = await api.startNext('t0', {}, 'mqtt');
  assert.deepEqual((started.execution as { jobDocument: unknown }).jobDocument, { url: 'https://signed/m/k' });
  const described = await api.describe('t0', 'default', {}, 'rest');
  assert.equal((described.execution as { jobDocument: string }).jobDocument, '{"url":"https://signed/m/k"}', 'the data plane carries the document as a string');
  assert.deepEqual(seen, [60, 3600]);
  assert.equal(engine.getJob('short').document, document);
  const noDoc = await api.describe('t0', 'short', { includeJobDocument: false }, 'mqtt');
  assert.equal((noDoc.execution as { jobDocument?: unknown }).jobDocument, undefined);
  await assert.rejects(api.update('t0', 'short', { status: 'DONE' }, 'mqtt'), /status must be one of/);
  await assert.rejects(api.update('t0', 'short', { status: 'SUCCEEDED', statusDetails: { k: 5 } }, 'mqtt'), /statusDetails\.k/);
  await assert.rejects(api.startNext('t0', { stepTimeoutInMinutes: 0 }, 'mqtt'), /stepTimeoutInMinutes/);
  assert.equal(engine.getExecution('short', 't0').status, 'IN_PROGRESS', 'rejected updates changed nothing');
});
