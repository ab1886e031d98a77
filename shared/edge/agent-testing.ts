/**
 * Test support for agent integration tests: a local cloud on free ports with provisioned device bundles,
 * and readers for what the agent leaves in S3.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { cloudClientConfig, startLocalCloud, type LocalCloud } from '../cloud';
import { captureBucketName } from '../cloud/capture/service';
import { provisionDevices } from '../cloud/provisioning/provision';
import { localTarget } from '../cloud/provisioning/targets';
import type { CaptureBatch } from './capture';

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

/** Polls cond every 100 ms until true; throws with what after ms. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
