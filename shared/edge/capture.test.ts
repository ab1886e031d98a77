import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tempDir } from './agent-testing';
import { CaptureSpool } from './capture';
import type { ScoredWindow } from './scoring-runtime';

const window = (i: number): ScoredWindow => ({
  endIndex: i,
  endEventTime: '',
  model: 'm',
  version: '1.0.0',
  errors: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
  score: 0.6,
  overThreshold: [],
  alarm: false,
  input: new Float32Array(600).fill(i),
  output: new Float32Array(600),
  latencyMs: 1,
});

test('capture samples at the configured rate, batches by size and age, and survives a restart on disk', async () => {
  const tmp = await tempDir('capture-');
  try {
    const spool = new CaptureSpool(tmp.dir, 'thing', { sampleRate: 0.25, batchSize: 10, maxAgeSeconds: 5, bufferMaxBytes: 10_000_000, seed: 3 });
    let taken = 0;
    for (let i = 0; i < 2000; i++) if (spool.offer(window(i), 1000)) taken++;
    assert.ok(taken > 440 && taken < 560, `about a quarter sampled, got ${taken}`);
    const again = new CaptureSpool(tmp.dir + '-x', 'thing', { sampleRate: 0.25, batchSize: 10, maxAgeSeconds: 5, bufferMaxBytes: 10_000_000, seed: 3 });
    let same = 0;
    for (let i = 0; i < 2000; i++) if (again.offer(window(i), 1000)) same++;
    assert.equal(same, taken, 'the same seed samples the same windows');
    assert.equal(spool.counters.pendingBatches, Math.floor(taken / 10));
    spool.tick(1000 + 4999);
    assert.equal(spool.counters.pendingRecords, Math.floor(taken / 10) * 10, 'an open batch younger than maxAge stays open');
    spool.tick(1000 + 5000);
    assert.equal(spool.counters.pendingRecords, taken);
    const reopened = new CaptureSpool(tmp.dir, 'thing', { sampleRate: 1, batchSize: 10, maxAgeSeconds: 5, bufferMaxBytes: 10_000_000 });
    assert.equal(reopened.counters.pendingRecords, taken);
    const first = reopened.pending()[0];
    reopened.confirm(first);
    reopened.confirm(first);
    assert.equal(reopened.counters.uploaded, first.records, 'a duplicate confirmation counts once');
  } finally {
    await tmp.remove();
    await import('node:fs/promises').then((fs) => fs.rm(tmp.dir + '-x', { recursive: true, force: true }));
  }
});

test('a full spool drops its oldest batches, counted and logged, and keeps the newest', async () => {
  const tmp = await tempDir('capture-cap-');
  try {
    const logs: string[] = [];
    const spool = new CaptureSpool(tmp.dir, 'thing', { sampleRate: 1, batchSize: 5, maxAgeSeconds: 60, bufferMaxBytes: 100_000, includeOutput: false }, (m) => logs.push(m));
    for (let i = 0; i < 200; i++) spool.offer(window(i));
    const c = spool.counters;
    assert.equal(c.captured, 200);
    assert.ok(c.dropped > 0 && c.dropped % 5 === 0);
    assert.equal(c.dropped + c.pendingRecords, 200, 'every record is pending or counted as dropped');
    assert.ok(c.pendingBytes <= 100_000);
    assert.equal(readdirSync(tmp.dir).length, c.pendingBatches);
    assert.match(logs[0], /capture buffer full \(100000 bytes\): dropped the oldest batch .* \(5 records\)/);
    assert.throws(() => new CaptureSpool(tmp.dir, 'thing', { sampleRate: 2, batchSize: 5, maxAgeSeconds: 60, bufferMaxBytes: 1 }), /sampleRate must be from 0 to 1, got 2/);
  } finally {
    await tmp.remove();
  }
});

test('a full spool drops batches already sent last, and counts them as unconfirmed (they may be in S3)', async () => {
  const tmp = await tempDir('capture-sent-');
  try {
    const spool = new CaptureSpool(tmp.dir, 'thing', { sampleRate: 1, batchSize: 5, maxAgeSeconds: 60, bufferMaxBytes: 60_000, includeOutput: false });
    for (let i = 0; i < 20; i++) spool.offer(window(i));
    const [oldest] = spool.pending();
    spool.read(oldest.file); // sent, its confirmation not yet back
    for (let i = 20; i < 30; i++) spool.offer(window(i));
    const c = spool.counters;
    assert.ok(c.dropped > 0);
    assert.ok(spool.pending().some((p) => p.batchId === oldest.batchId), 'the sent batch outlives newer unsent ones');
    assert.equal(c.droppedUnconfirmed, 0);
    for (let i = 30; i < 200; i++) spool.offer(window(i));
    assert.ok(spool.pending().some((p) => p.batchId === oldest.batchId), 'kept while unsent batches can make room');
    for (const p of spool.pending()) spool.read(p.file);
    const before = c.dropped;
    for (let i = 200; i < 205; i++) spool.offer(window(i));
    assert.equal(c.dropped - before, 5, 'one sent batch made room');
    assert.equal(c.droppedUnconfirmed, 5, 'and is counted as sent but unconfirmed');
    assert.ok(!spool.pending().some((p) => p.batchId === oldest.batchId), 'the oldest sent batch went first');
    assert.equal(c.dropped + c.pendingRecords, 205);
  } finally {
    await tmp.remove();
  }
});

test('a spool that cannot be written (read-only or full disk) drops and counts the batch, and offer() never throws', { skip: process.getuid?.() === 0 ? 'root ignores folder permissions (shared/faults/capture-disk-full.test.ts fills a real tmpfs instead)' : false }, async () => {
  const tmp = await tempDir('capture-ro-');
  const { chmodSync } = await import('node:fs');
  try {
    const logs: string[] = [];
    const spool = new CaptureSpool(tmp.dir, 'thing', { sampleRate: 1, batchSize: 5, maxAgeSeconds: 60, bufferMaxBytes: 1_000_000 }, (m) => logs.push(m));
    chmodSync(tmp.dir, 0o500);
    for (let i = 0; i < 12; i++) spool.offer(window(i));
    assert.equal(spool.counters.droppedWriteFailed, 10);
    assert.equal(spool.counters.dropped, 10);
    assert.match(logs[0], /not written to the spool \(EACCES\): 5 records dropped/);
  } finally {
    chmodSync(tmp.dir, 0o700);
    await tmp.remove();
  }
});
