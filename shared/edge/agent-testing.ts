/**
 * Test support for agent integration tests: a local cloud on free ports with provisioned device bundles,
 * and readers for what the agent leaves in S3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { cloudClientConfig, startLocalCloud, type LocalCloud } from '../cloud';
import { captureBucketName } from '../cloud/capture/service';
import { provisionDevices } from '../workflows/provisioning/provision';
import { localTarget } from '../workflows/provisioning/targets';
import type { CaptureBatch } from './capture';
import { waitUntil } from '../labs/poll-until';

/** A temp folder removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Starts a local cloud in dir (ports 0 unless given). */
export function startTestCloud(dir: string, ports: { port?: number; mqttPort?: number } = {}): Promise<LocalCloud> {
  return startLocalCloud({ dir, port: ports.port ?? 0, mqttPort: ports.mqttPort ?? 0, log: () => undefined });
}

/** Provisions devices edge-test-0.. into outDir; returns their bundle folders. */
export async function provisionTestDevices(cloudDir: string, outDir: string, devices: number): Promise<string[]> {
  const target = localTarget(cloudDir);
  const result = await provisionDevices({ ...target, devices, prefix: 'edge-test-', group: 'edge-test', outDir });
  target.iot.destroy();
  return result.devices.map((d) => d.bundleDir);
}

/** Every captured batch of a thing in the capture bucket. */
export async function capturedBatches(cloud: LocalCloud, thingName: string): Promise<{ key: string; batch: CaptureBatch }[]> {
  const s3 = new S3Client(cloudClientConfig(cloud));
  const out: { key: string; batch: CaptureBatch }[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: captureBucketName(), Prefix: `capture/${thingName}/`, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const body = await (await s3.send(new GetObjectCommand({ Bucket: captureBucketName(), Key: o.Key }))).Body?.transformToString();
        out.push({ key: o.Key as string, batch: JSON.parse(body as string) as CaptureBatch });
      }
      token = page.NextContinuationToken;
    } while (token);
  } catch (err) {
    if ((err as Error).name !== 'NoSuchBucket') throw err;
  } finally {
    s3.destroy();
  }
  return out;
}

/** Polls cond every 100 ms until true (waitUntil, the one polling helper); throws naming what after ms. */
export function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  return waitUntil(what, cond, { timeoutMs: ms, intervalMs: 100, maxIntervalMs: 100 });
}

/** Creates the bucket (if new) and puts objects in it. */
export async function putObjects(cloud: LocalCloud, bucket: string, objects: Record<string, Buffer>): Promise<void> {
  const { CreateBucketCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client(cloudClientConfig(cloud));
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: Error) => {
      if (err.name !== 'BucketAlreadyOwnedByYou') throw err;
    });
    for (const [key, body] of Object.entries(objects)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } finally {
    s3.destroy();
  }
}

/** A deploy-model job document whose URL IoT Jobs pre-signs for each delivery. */
export function deployJobDocument(name: string, version: string, bucket: string, key: string): string {
  return JSON.stringify({ operation: 'deploy-model', model: { name, version, url: `\${aws:iot:s3-presigned-url:https://s3.amazonaws.com/${bucket}/${key}}` } });
}

/** Creates a job for things; returns a function waiting for each thing's terminal execution. */
export async function createJob(cloud: LocalCloud, jobId: string, document: string, things: string[]): Promise<(ms?: number) => Promise<Record<string, { status: string; statusDetails: Record<string, string> }>>> {
  const { IoTClient, CreateJobCommand, DescribeThingCommand, DescribeJobExecutionCommand } = await import('@aws-sdk/client-iot');
  const iot = new IoTClient(cloudClientConfig(cloud));
  const targets: string[] = [];
  for (const thingName of things) targets.push((await iot.send(new DescribeThingCommand({ thingName }))).thingArn as string);
  await iot.send(new CreateJobCommand({ jobId, targets, document }));
  return async (ms = 30_000) => {
    const out: Record<string, { status: string; statusDetails: Record<string, string> }> = {};
    try {
      await waitFor(async () => {
        for (const thingName of things) {
          if (out[thingName]) continue;
          const e = (await iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution;
          if (e && ['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELED', 'TIMED_OUT', 'REMOVED'].includes(e.status as string)) {
            out[thingName] = { status: e.status as string, statusDetails: (e.statusDetails?.detailsMap ?? {}) as Record<string, string> };
          }
        }
        return Object.keys(out).length === things.length;
      }, ms, `job ${jobId} to end on ${things.join(', ')}`);
      return out;
    } finally {
      iot.destroy();
    }
  };
}

/** The status and details of a job execution now. */
export async function jobExecution(cloud: LocalCloud, jobId: string, thingName: string): Promise<{ status: string; statusDetails: Record<string, string> }> {
  const { IoTClient, DescribeJobExecutionCommand } = await import('@aws-sdk/client-iot');
  const iot = new IoTClient(cloudClientConfig(cloud));
  try {
    const e = (await iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution;
    return { status: e?.status as string, statusDetails: (e?.statusDetails?.detailsMap ?? {}) as Record<string, string> };
  } finally {
    iot.destroy();
  }
}

/** An agent process started with --events: its events (stdout JSON lines), stderr lines, and exit. */
export interface AgentProcess {
  proc: ChildProcess;
  events: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<number | null>;
}

/** Starts `node <entry...> <args...>` (an agent CLI with --events) and collects what it prints. */
export function spawnAgentProcess(entry: string[], args: string[], opts: { cwd: string; stdin?: boolean }): AgentProcess {
  const proc = spawn(process.execPath, [...entry, ...args], { cwd: opts.cwd, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => events.push(JSON.parse(l)));
  createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, events, stderr, exited };
}

/** The window events of an agent process so far. */
export const windowsOf = (a: AgentProcess): { endIndex: number; version: string; score: number }[] => a.events.filter((e) => e.type === 'window') as never;

/** `npm run agent`'s entry point (shared/cli/agent.ts run with tsx) as a process: spawnAgentProcess for the checkout. */
export function spawnAgent(args: string[], stdin = false): AgentProcess {
  const root = resolve(__dirname, '..', '..');
  return spawnAgentProcess(['--import', 'tsx', join(root, 'shared', 'cli', 'agent.ts')], args, { cwd: root, stdin });
}
