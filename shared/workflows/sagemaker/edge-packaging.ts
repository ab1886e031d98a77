/**
 * Client-side steps of the package-and-deploy lab, written against the SageMaker and S3 APIs only, so they
 * run the same on the local cloud and on AWS: upload a model directory, wait for a compilation or edge
 * packaging job, find the latest approved version in a model package group.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import * as tar from 'tar';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  DescribeCompilationJobCommand,
  DescribeEdgePackagingJobCommand,
  ListModelPackagesCommand,
  type DescribeCompilationJobCommandOutput,
  type DescribeEdgePackagingJobCommandOutput,
  type ModelPackageSummary,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';

/** How long and how often to poll a job, and who hears about status changes. */
export interface WaitOptions {
  /** Give up after this many ms (default 10 minutes). */
  timeoutMs?: number;
  /** Poll period in ms (default 500). */
  pollMs?: number;
  /** Called once per status seen, in order. */
  onStatus?: (status: string) => void;
}

/** Creates the bucket unless this account already owns it. */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if ((err as Error).name !== 'BucketAlreadyOwnedByYou') throw err;
  }
}

/** Uploads a model directory as a tar.gz (holding the folder by its name) to s3://bucket/key; returns that URI. */
export async function uploadModelDirectory(s3: S3Client, modelDir: string, bucket: string, key: string): Promise<string> {
  const dir = resolve(modelDir);
  const work = await mkdtemp(join(tmpdir(), 'model-upload-'));
  try {
    const archive = join(work, 'model.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: dirname(dir), portable: true }, [basename(dir)]);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(archive), ContentType: 'application/gzip' }));
    return `s3://${bucket}/${key}`;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Polls describe() until terminal(status); throws with the reason unless the status is wanted. */
async function waitForJob<T>(what: string, describe: () => Promise<T>, status: (t: T) => string | undefined, reason: (t: T) => string | undefined, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  let last: string | undefined;
  for (;;) {
    const out = await describe();
    const s = status(out);
    if (s !== last && s !== undefined) opts.onStatus?.(s);
    last = s;
    if (s === 'COMPLETED') return out;
    if (s === 'FAILED' || s === 'STOPPED') throw new Error(`${what} ended ${s}${reason(out) ? `: ${reason(out)}` : ''}`);
    if (Date.now() > deadline) throw new Error(`${what} is still ${s} after ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
}

/** Waits for a compilation job to complete; throws with its FailureReason if it fails or stops. */
export function waitForCompilationJob(sm: SageMakerClient, name: string, opts: WaitOptions = {}): Promise<DescribeCompilationJobCommandOutput> {
  return waitForJob(
    `compilation job ${name}`,
    () => sm.send(new DescribeCompilationJobCommand({ CompilationJobName: name })),
    (d) => d.CompilationJobStatus,
    (d) => d.FailureReason,
    opts,
  );
}

/** Waits for an edge packaging job to complete; throws with its status message if it fails or stops. */
export function waitForEdgePackagingJob(sm: SageMakerClient, name: string, opts: WaitOptions = {}): Promise<DescribeEdgePackagingJobCommandOutput> {
  return waitForJob(
    `edge packaging job ${name}`,
    () => sm.send(new DescribeEdgePackagingJobCommand({ EdgePackagingJobName: name })),
    (d) => d.EdgePackagingJobStatus,
    (d) => d.EdgePackagingJobStatusMessage,
    opts,
  );
}

/** The most recently created Approved version in a model package group, or undefined when none is approved. */
export async function latestApprovedModelPackage(sm: SageMakerClient, group: string): Promise<ModelPackageSummary | undefined> {
  const out = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: group, ModelApprovalStatus: 'Approved', SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 1 }));
  return out.ModelPackageSummaryList?.[0];
}

/** Splits s3://bucket/key. */
export function splitS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`"${uri}" is not an s3://bucket/key URI`);
  return { bucket: m[1], key: m[2] };
}
