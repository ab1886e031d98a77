import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FillingDisk } from './disk-full-testing';
import { openStateStore } from './store';
import { mountTinyDisk } from './tiny-disk-testing';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'state-store-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('records survive close and reopen, deletes included', () =>
  withDir(async (dir) => {
    const store = openStateStore(dir);
    const things = store.collection<{ n: number }>('things');
    things.put('a', { n: 1 });
    things.put('b', { n: 2 });
    things.put('a', { n: 3 });
    assert.equal(things.delete('b'), true);
    assert.equal(things.delete('missing'), false);
    await store.close();
    const again = openStateStore(dir).collection<{ n: number }>('things');
    assert.deepEqual(again.keys(), ['a']);
    assert.deepEqual(again.get('a'), { n: 3 });
  }));

test('a torn last journal line is ignored and cut off; later appends stay readable', () =>
  withDir(async (dir) => {
    const store = openStateStore(dir);
    store.collection<number>('jobs').put('j1', 1);
    await store.close();
    const path = join(dir, 'state', 'jobs.jsonl');
    appendFileSync(path, '["j2", {"half');
    const reopened = openStateStore(dir);
    const jobs = reopened.collection<number>('jobs');
    assert.deepEqual(jobs.keys(), ['j1']);
    jobs.put('j3', 3);
    await reopened.close();
    assert.deepEqual(openStateStore(dir).collection<number>('jobs').keys().sort(), ['j1', 'j3']);
    // A complete-looking last line without its newline did not finish either.
    appendFileSync(path, '["j4",4]');
    assert.deepEqual(openStateStore(dir).collection<number>('jobs').keys().sort(), ['j1', 'j3']);
    assert.ok(readFileSync(path, 'utf8').endsWith('\n'));
  }));

test('a corrupt line in the middle is an error naming file and line', () =>
  withDir(async (dir) => {
    const store = openStateStore(dir);
    store.collection<number>('c').put('a', 1);
    await store.close();
    appendFileSync(join(dir, 'state', 'c.jsonl'), 'garbage\n["b",2]\n');
    assert.throws(() => openStateStore(dir).collection('c'), /c\.jsonl:2: corrupt state journal line/);
  }));

test('frequent updates of 1000 records append only changes and compact the journal', () =>
  withDir(async (dir) => {
    const store = openStateStore(dir);
    const execs = store.collection<{ status: string; step: number }>('executions');
    for (let i = 0; i < 1000; i++) execs.put(`t${i}`, { status: 'QUEUED', step: 0 });
    await store.flush();
    const path = join(dir, 'state', 'executions.jsonl');
    const lines = () => readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
    assert.equal(lines(), 1000);
    // Many updates of the same record between flushes cost one line.
    for (let k = 0; k < 50; k++) execs.put('t0', { status: 'IN_PROGRESS', step: k });
    await store.flush();
    assert.equal(lines(), 1001);
    // One flush per update (as the router does per request) until compaction kicks in.
    for (let step = 1; step <= 3; step++) {
      for (let i = 0; i < 1000; i++) {
        execs.put(`t${i}`, { status: 'IN_PROGRESS', step });
        if (i % 100 === 0) await store.flush();
      }
      await store.flush();
    }
    assert.ok(lines() <= 2000, `journal compacted (${lines()} lines)`);
    execs.delete('t999');
    await store.close();
    const reloaded = openStateStore(dir).collection<{ step: number }>('executions');
    assert.equal(reloaded.size(), 999);
    assert.equal(reloaded.get('t500')?.step, 3);
  }));

test('concurrent flushes each wait for their own changes', () =>
  withDir(async (dir) => {
    const store = openStateStore(dir);
    const c = store.collection<number>('c');
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      c.put(`k${i}`, i);
      flushes.push(store.flush());
    }
    await Promise.all(flushes);
    assert.equal(readFileSync(join(dir, 'state', 'c.jsonl'), 'utf8').split('\n').filter(Boolean).length, 20);
    await store.close();
  }));

test('bad collection names and record ids are refused', () =>
  withDir(async (dir) => {
    const store = openStateStore(dir);
    assert.throws(() => store.collection('../escape'), /collection name "..\/escape"/);
    assert.throws(() => store.collection<number>('ok').put('', 1), /non-empty string/);
    await store.close();
  }));

test('a writer killed with SIGKILL mid-flush loses nothing it reported durable', () =>
  withDir(async (dir) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'crash-writer-testing.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    // Let it write through at least one compaction (700 live keys, thousands of updates).
    await new Promise<void>((resolve) => {
      child.stdout.on('data', () => {
        const lines = out.trim().split('\n');
        if (Number(lines[lines.length - 1]) > 3000) resolve();
      });
    });
    child.kill('SIGKILL');
    await once(child, 'exit');
    const durable = Number(out.trim().split('\n').pop());
    const records = openStateStore(dir).collection<{ n: number }>('crash');
    assert.equal(records.size(), 700);
    // Every key holds at least the last value written to it up to the last reported flush.
    for (let k = 0; k < 700; k++) {
      const lastDurableForKey = durable - ((((durable - k) % 700) + 700) % 700);
      assert.ok((records.get(`k${k}`)?.n ?? -1) >= lastDurableForKey, `k${k}: ${records.get(`k${k}`)?.n} < ${lastDurableForKey}`);
    }
  }));

test('a full disk (short write, then ENOSPC) fails the flush, leaves no torn line, and the changes land once there is room', () =>
  withDir(async (dir) => {
    const disk = new FillingDisk(1 << 20);
    const store = openStateStore(dir, { files: disk });
    const things = store.collection<{ n: number; pad: string }>('things');
    things.put('kept', { n: 0, pad: '' });
    await store.flush();
    const path = join(dir, 'state', 'things.jsonl');
    const before = readFileSync(path, 'utf8');
    disk.bytesLeft = 100; // the next append is cut short by the disk
    things.put('big', { n: 1, pad: 'x'.repeat(500) });
    await assert.rejects(store.flush(), (err: NodeJS.ErrnoException) => err.code === 'ENOSPC');
    assert.equal(disk.shortWrites, 1, 'the disk did cut the write short');
    assert.equal(readFileSync(path, 'utf8'), before, 'the partial append was cut off the journal');
    assert.deepEqual(openStateStore(dir).collection('things').keys(), ['kept'], 'nothing unacknowledged was loaded');
    disk.bytesLeft = 1 << 20;
    things.put('after', { n: 2, pad: '' });
    await store.close();
    const again = openStateStore(dir).collection<{ n: number }>('things');
    assert.deepEqual(again.keys().sort(), ['after', 'big', 'kept'], 'the failed changes were retried with the next flush');
  }));

test('a flush that fails on one collection keeps the changes of the collections after it for the next flush', () =>
  withDir(async (dir) => {
    const disk = new FillingDisk(0);
    const store = openStateStore(dir, { files: disk });
    store.collection<number>('first').put('a', 1);
    store.collection<number>('second').put('b', 2);
    await assert.rejects(store.flush(), (err: NodeJS.ErrnoException) => err.code === 'ENOSPC');
    disk.bytesLeft = 1 << 20;
    await store.flush(); // nothing changed in between: the second collection must still be written
    await store.close();
    const again = openStateStore(dir);
    assert.equal(again.collection<number>('first').get('a'), 1);
    assert.equal(again.collection<number>('second').get('b'), 2, 'the collection after the failed one was written');
    await again.close();
  }));

test('a full disk during compaction keeps the old journal and fails the flush', () =>
  withDir(async (dir) => {
    const disk = new FillingDisk(1 << 20);
    const store = openStateStore(dir, { files: disk });
    const things = store.collection<number>('things');
    for (let i = 0; i < 1500; i++) {
      things.put('one', i);
      await store.flush();
    }
    const path = join(dir, 'state', 'things.jsonl');
    const before = readFileSync(path, 'utf8');
    disk.bytesLeft = 0;
    for (let i = 0; i < 600; i++) things.put(`k${i}`, i);
    await assert.rejects(store.flush(), (err: NodeJS.ErrnoException) => err.code === 'ENOSPC');
    assert.equal(readFileSync(path, 'utf8'), before);
    assert.deepEqual(readdirSync(join(dir, 'state')), ['things.jsonl'], 'no snapshot left behind');
  }));

test('on a real full disk (a tiny tmpfs) every acknowledged record survives and the journal is intact', async (t) => {
  const disk = mountTinyDisk(64);
  if ('unavailable' in disk) return t.skip(disk.unavailable);
  try {
    const store = openStateStore(disk.dir);
    const things = store.collection<{ n: number; pad: string }>('things');
    const acknowledged: string[] = [];
    let failure: NodeJS.ErrnoException | undefined;
    for (let n = 0; n < 1000 && !failure; n++) {
      things.put(`k${n}`, { n, pad: 'x'.repeat(300) });
      try {
        await store.flush();
        acknowledged.push(`k${n}`);
      } catch (err) {
        failure = err as NodeJS.ErrnoException;
      }
    }
    assert.equal(failure?.code, 'ENOSPC', 'the disk filled up');
    assert.ok(acknowledged.length > 10);
    const text = readFileSync(join(disk.dir, 'state', 'things.jsonl'), 'utf8');
    assert.ok(text.endsWith('\n'), 'no torn line at the end of the journal');
    await assert.rejects(store.close(), (err: NodeJS.ErrnoException) => err.code === 'ENOSPC', 'the unacknowledged change still does not fit');
    const reopened = openStateStore(disk.dir).collection('things');
    assert.deepEqual(reopened.keys(), acknowledged);
  } finally {
    disk.unmount();
  }
});
