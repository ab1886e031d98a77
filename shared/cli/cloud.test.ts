import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { cloudClientConfig, readCloudJson } from '../cloud/local-cloud';

const root = join(__dirname, '..', '..');
const cli = join(root, 'shared', 'cli', 'cloud.ts');

test('npm run cloud starts the cloud, writes cloud.json and stops cleanly on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cloud-cli-'));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--dir', dir, '--port', '0', '--mqtt-port', '0', '--log-requests'], {
    cwd: root,
    env: { ...process.env, CLOUD_MODE: 'local' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cloud did not start in 40 s:\n${stdout}\n${stderr}`)), 40_000);
      child.stdout.on('data', () => {
        if (stdout.includes('Press Ctrl-C to stop.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`cloud exited early with ${code}:\n${stderr}`)));
    });
    const json = readCloudJson(dir);
    assert.ok(stdout.includes(json.endpoints.http), stdout);
    const s3 = new S3Client(cloudClientConfig(json));
    await s3.send(new CreateBucketCommand({ Bucket: 'from-cli' }));
    assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ['from-cli']);
    s3.destroy();
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /local cloud stopped/);
    assert.match(stderr, /200 s3 PUT \/from-cli\/? /);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('npm run cloud prints help, and refuses a bad port with a one-line error', () => {
  const help = spawnSync(process.execPath, ['--import', 'tsx', cli, '--help'], { cwd: root, encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--dir <dir>/);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', cli, '--port', 'lots'], { cwd: root, encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /"lots" is not a port number/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
});
