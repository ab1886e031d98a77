import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountTinyDisk } from '../cloud/state/tiny-disk-testing';
import { writeFileDurably } from './durable-file';

test('a file is replaced whole, with no temporary file left', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'durable-file-'));
  try {
    const path = join(dir, 'agent-state.json');
    writeFileDurably(path, 'old');
    writeFileDurably(path, Buffer.from('new'));
    assert.equal(readFileSync(path, 'utf8'), 'new');
    assert.deepEqual(readdirSync(dir), ['agent-state.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('on a real full disk (a tiny tmpfs) the write throws ENOSPC, the old file stays and no partial file is left', async (t) => {
  const disk = mountTinyDisk(64);
  if ('unavailable' in disk) return t.skip(disk.unavailable);
  try {
    const path = join(disk.dir, 'agent-state.json');
    writeFileDurably(path, 'the state before');
    assert.throws(() => writeFileDurably(path, Buffer.alloc(256 * 1024, 1)), (err: NodeJS.ErrnoException) => err.code === 'ENOSPC');
    assert.equal(readFileSync(path, 'utf8'), 'the state before');
    assert.deepEqual(readdirSync(disk.dir), ['agent-state.json']);
  } finally {
    disk.unmount();
  }
});
