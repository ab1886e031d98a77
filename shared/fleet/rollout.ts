/**
 * Model rollouts to the fleet through IoT Jobs: the signed package goes to S3, a job whose document
 * names it (a pre-signed URL placeholder IoT Jobs resolves per device) targets the fleet's thing group,
 * and the jobs' progress is read back from the control plane for the dashboard.
 */
import { createHash } from 'node:crypto';
import { CreateJobCommand, DescribeJobCommand, type IoTClient, ListJobsCommand } from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { verifyPackage } from '../packaging/verify-package';

/** Progress of one job, as the dashboard shows it. */
export interface JobProgress {
  jobId: string;
  status: string;
  model: string | null;
  version: string | null;
  targets: number;
  succeeded: number;
  failed: number;
  inProgress: number;
  queued: number;
}

/** A rollout that was started. */
export interface Rollout {
  jobId: string;
  name: string;
  version: string;
  key: string;
  sha256: string;
}

/**
 * Verifies a signed package with the fleet's trusted key (a bad one is refused before anything is
 * uploaded), uploads it and creates the deploy-model job for targetArn (a thing group or thing ARN).
 */
export async function startRollout(iot: IoTClient, s3: S3Client, bucket: string, packageBytes: Buffer, publicKeyPem: string, targetArn: string, jobId?: string): Promise<Rollout> {
  const { manifest } = verifyPackage(packageBytes, publicKeyPem);
  const { name, version } = manifest;
  const sha256 = createHash('sha256').update(packageBytes).digest('hex');
  const id = jobId ?? `deploy-${name}-${version.replace(/[^a-zA-Z0-9]/g, '-')}-${Date.now()}`;
  const key = `packages/${name}-${version}.tar.gz`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: Error) => {
    if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
  });
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: packageBytes }));
  const document = JSON.stringify({ operation: 'deploy-model', model: { name, version, url: `\${aws:iot:s3-presigned-url:https://s3.amazonaws.com/${bucket}/${key}}`, sha256 } });
  await iot.send(new CreateJobCommand({ jobId: id, targets: [targetArn], document, description: `deploy ${name} ${version}`, targetSelection: 'SNAPSHOT' }));
  return { jobId: id, name, version, key, sha256 };
}

/** Progress of the newest jobs (at most limit), newest first. */
export async function jobsProgress(iot: IoTClient, limit = 5): Promise<JobProgress[]> {
  const list = (await iot.send(new ListJobsCommand({ maxResults: 50 }))).jobs ?? [];
  const newest = [...list].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0)).slice(0, limit);
  const out: JobProgress[] = [];
  for (const j of newest) {
    const job = (await iot.send(new DescribeJobCommand({ jobId: j.jobId }))).job;
    const d = job?.jobProcessDetails ?? {};
    const m = /^deploy (\S+) (\S+)$/.exec(job?.description ?? '');
    out.push({
      jobId: j.jobId as string,
      status: String(job?.status ?? j.status),
      model: m?.[1] ?? null,
      version: m?.[2] ?? null,
      targets: (d.numberOfSucceededThings ?? 0) + (d.numberOfFailedThings ?? 0) + (d.numberOfInProgressThings ?? 0) + (d.numberOfQueuedThings ?? 0) + (d.numberOfRejectedThings ?? 0) + (d.numberOfTimedOutThings ?? 0) + (d.numberOfCanceledThings ?? 0) + (d.numberOfRemovedThings ?? 0),
      succeeded: d.numberOfSucceededThings ?? 0,
      failed: (d.numberOfFailedThings ?? 0) + (d.numberOfRejectedThings ?? 0) + (d.numberOfTimedOutThings ?? 0),
      inProgress: d.numberOfInProgressThings ?? 0,
      queued: d.numberOfQueuedThings ?? 0,
    });
  }
  return out;
}
