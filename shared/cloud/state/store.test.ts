import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStateStore } from './store';

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
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'crash-writer.testing.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
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
