import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { startCloudProcess } from './cloud-process';
import { cloudClientConfig } from './local-cloud';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('startCloudProcess runs the cloud in a child process, reports its usage and stops it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cloud-process-'));
  const lines: string[] = [];
  const cloud = await startCloudProcess({ dir, log: (l) => lines.push(l) });
  try {
    assert.notEqual(cloud.pid, process.pid);
    assert.ok(lines.some((l) => l.includes(cloud.json.endpoints.http)), lines.join('\n'));
    const s3 = new S3Client(cloudClientConfig(cloud.json));
    assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets ?? [], []);
    s3.destroy();
    if (platform() === 'linux') {
      assert.ok(cloud.cpuSeconds() > 0, `cpu ${cloud.cpuSeconds()}`);
      assert.ok(cloud.rssBytes() > 0, `rss ${cloud.rssBytes()}`);
    }
    // A second cloud on the same state folder is refused with the reason, and the first keeps running.
    await assert.rejects(startCloudProcess({ dir }), /exited with 1 before it was up:[\s\S]*in use by another local cloud/);
    assert.ok(alive(cloud.pid));
  } finally {
    await cloud.stop();
  }
  assert.equal(alive(cloud.pid), false);
  await cloud.stop(); // twice is fine
  await rm(dir, { recursive: true, force: true });
});
