/**
 * Test helpers for the SageMaker subset: a local cloud with S3 and SageMaker installed on free ports in a
 * temp folder (restartable on the same folder), its clients, and an assertion on SDK errors.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { ManualClock } from '../clock';
import { cloudClientConfig, startLocalCloud, type LocalCloud } from '../local-cloud';
import { installS3 } from '../s3/service';
import { sageMakerInstaller, type SageMakerOptions } from './service';

/** A role ARN that passes the RoleArn pattern. */
export const ROLE = 'arn:aws:iam::000000000000:role/SageMakerEdgeRole';

/** A running cloud with its clients. */
export interface SageMakerCloud {
  cloud: LocalCloud;
  clock: ManualClock;
  sm: SageMakerClient;
  s3: S3Client;
  dir: string;
  /** Stop the cloud, keeping its folder. */
  stop(): Promise<void>;
  /** Start a new cloud on the same folder (after stop()). */
  restart(options?: SageMakerOptions): Promise<SageMakerCloud>;
  /** Stop and remove the folder. */
  cleanup(): Promise<void>;
}

/** Start a cloud with S3 and SageMaker (options go to the SageMaker installer) in dir or a new temp folder. */
export async function startSageMakerCloud(options: SageMakerOptions = {}, dir?: string, clock = new ManualClock()): Promise<SageMakerCloud> {
  const folder = dir ?? (await mkdtemp(join(tmpdir(), 'sagemaker-')));
  const cloud = await startLocalCloud({
    dir: folder,
    port: 0,
    mqttPort: 0,
    clock,
    log: () => undefined,
    installers: [
      { name: 's3', install: installS3 },
      { name: 'sagemaker', install: sageMakerInstaller(options) },
    ],
  });
  const sm = new SageMakerClient({ ...cloudClientConfig(cloud), maxAttempts: 1 });
  const s3 = new S3Client(cloudClientConfig(cloud));
  const stop = async () => {
    sm.destroy();
    s3.destroy();
    await cloud.stop();
  };
  return {
    cloud,
    clock,
    sm,
    s3,
    dir: folder,
    stop,
    restart: (o = options) => startSageMakerCloud(o, folder, clock),
    async cleanup() {
      await stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

type SdkError = Error & { $metadata?: { httpStatusCode?: number } };

/** Assert that an SDK call fails with this error name (err.name), HTTP 400 and a message matching. */
export async function rejectsWith(p: Promise<unknown>, name: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: SdkError) => {
    assert.equal(err.name, name, err.message);
    assert.equal(err.$metadata?.httpStatusCode, 400);
    if (message) assert.match(err.message, message);
    return true;
  });
}
