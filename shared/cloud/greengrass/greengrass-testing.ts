/**
 * Test helpers for Greengrass v2: a local cloud with S3, the IoT registry, the broker, Jobs and
 * Greengrass on free ports in a temp folder, its clients, a bucket for artifacts, and a restart on the
 * same folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import { IoTClient } from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '../contracts';
import { cloudClientConfig, startLocalCloud, type LocalCloud } from '../local-cloud';
import { installers } from '../services';

/** The services Greengrass needs, in installation order. */
export const GREENGRASS_INSTALLERS = installers.filter((i) => ['s3', 'iot-registry', 'mqtt-broker', 'jobs', 'greengrass'].includes(i.name));

/** A started cloud with Greengrass and its clients. */
export interface GreengrassCloud {
  cloud: LocalCloud;
  gg: GreengrassV2Client;
  iot: IoTClient;
  s3: S3Client;
  dir: string;
  bucket: string;
  /** Upload an artifact; returns its s3:// URI. */
  putArtifact(key: string, body: string | Buffer): Promise<string>;
  /** Stop (keeping the folder) and start again on the same folder. */
  restart(): Promise<GreengrassCloud>;
  /** Stop the cloud and remove its folder. */
  cleanup(): Promise<void>;
}

/** Starts a Greengrass-capable local cloud in a new temp folder (or dir) with an artifact bucket. */
export async function startGreengrassCloud(options: { clock?: Clock; dir?: string } = {}): Promise<GreengrassCloud> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'greengrass-')));
  const cloud = await startLocalCloud({ dir, port: 0, mqttPort: 0, installers: GREENGRASS_INSTALLERS, log: () => undefined, clock: options.clock });
  const config = cloudClientConfig(cloud);
  const gg = new GreengrassV2Client(config);
  const iot = new IoTClient(config);
  const s3 = new S3Client(config);
  const bucket = 'edgeml-components';
  if (!options.dir) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const stop = async (): Promise<void> => {
    gg.destroy();
    iot.destroy();
    s3.destroy();
    await cloud.stop();
  };
  return {
    cloud,
    gg,
    iot,
    s3,
    dir,
    bucket,
    async putArtifact(key, body) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return `s3://${bucket}/${key}`;
    },
    async restart() {
      await stop();
      return startGreengrassCloud({ ...options, dir });
    },
    async cleanup() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A recipe object for tests: name, version, dependencies, lifecycle and artifacts as given. */
export function testRecipe(name: string, version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: name,
    ComponentVersion: version,
    ComponentPublisher: 'tests',
    Manifests: [{ Platform: { os: '*' }, Lifecycle: { Run: 'echo hello' } }],
    ...extra,
  };
}
