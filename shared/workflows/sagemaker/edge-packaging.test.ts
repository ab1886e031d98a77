import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateCompilationJobCommand, CreateEdgePackagingJobCommand, CreateModelPackageCommand, CreateModelPackageGroupCommand, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { ROLE, startSageMakerCloud } from '../../cloud/sagemaker/sagemaker-testing';
import type { EdgeToolchain } from '../../cloud/sagemaker/toolchain';
import { ensureBucket, latestApprovedModelPackage, splitS3Uri, uploadModelDirectory, waitForCompilationJob, waitForEdgePackagingJob } from './edge-packaging';

const toolchain: EdgeToolchain = {
  async compile(_dir, out) {
    await writeFile(out, 'onnx');
  },
  async package({ outPath, modelVersion }) {
    if (modelVersion === 'bad') throw new Error('refused');
    await writeFile(outPath, 'pkg');
    return { signature: 's' };
  },
};

test('workflow helpers: upload a model folder, wait for jobs (reasons on failure), latest approved version', async () => {
  const work = await mkdtemp(join(tmpdir(), 'workflow-'));
  const c = await startSageMakerCloud({ toolchain });
  // Cloud time runs on while the helpers poll in real time.
  const ticker = setInterval(() => void c.clock.advance(250), 10);
  try {
    await mkdir(join(work, 'my-model'));
    await writeFile(join(work, 'my-model', 'model.json'), '{}');
    await ensureBucket(c.s3, 'models');
    await ensureBucket(c.s3, 'models');
    const uri = await uploadModelDirectory(c.s3, join(work, 'my-model'), 'models', 'in/my-model.tar.gz');
    assert.equal(uri, 's3://models/in/my-model.tar.gz');
    const job = (name: string, framework: 'KERAS' | 'PYTORCH') =>
      c.sm.send(new CreateCompilationJobCommand({ CompilationJobName: name, RoleArn: ROLE, InputConfig: { S3Uri: uri, Framework: framework }, OutputConfig: { S3OutputLocation: 's3://models/out', TargetDevice: 'rasp4b' }, StoppingCondition: { MaxRuntimeInSeconds: 60 } }));
    await job('good', 'KERAS');
    await job('bad', 'PYTORCH');
    const seen: string[] = [];
    const done = await waitForCompilationJob(c.sm, 'good', { pollMs: 10, onStatus: (s) => seen.push(s) });
    assert.equal(done.ModelArtifacts?.S3ModelArtifacts, 's3://models/out/my-model-rasp4b.tar.gz');
    assert.equal(seen[seen.length - 1], 'COMPLETED');
    await assert.rejects(waitForCompilationJob(c.sm, 'bad', { pollMs: 10 }), /compilation job bad ended FAILED: ClientError: .*PYTORCH/);

    const pkg = (name: string, version: string) => c.sm.send(new CreateEdgePackagingJobCommand({ EdgePackagingJobName: name, CompilationJobName: 'good', ModelName: 'm', ModelVersion: version, RoleArn: ROLE, OutputConfig: { S3OutputLocation: 's3://models/pkg' } }));
    await pkg('p1', '1.0.0');
    await pkg('p2', 'bad');
    assert.equal((await waitForEdgePackagingJob(c.sm, 'p1', { pollMs: 10 })).ModelArtifact, 's3://models/pkg/m-1.0.0.tar.gz');
    await assert.rejects(waitForEdgePackagingJob(c.sm, 'p2', { pollMs: 10 }), /edge packaging job p2 ended FAILED: ClientError: .*refused/);

    await c.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'g' }));
    assert.equal(await latestApprovedModelPackage(c.sm, 'g'), undefined);
    const arns: string[] = [];
    for (let i = 0; i < 3; i++) arns.push((await c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'g' }))).ModelPackageArn as string);
    for (const i of [0, 1]) await c.sm.send(new UpdateModelPackageCommand({ ModelPackageArn: arns[i], ModelApprovalStatus: 'Approved' }));
    assert.equal((await latestApprovedModelPackage(c.sm, 'g'))?.ModelPackageVersion, 2);
    assert.deepEqual(splitS3Uri('s3://b/k/x.tar.gz'), { bucket: 'b', key: 'k/x.tar.gz' });
    assert.throws(() => splitS3Uri('https://b/k'), /not an s3:\/\/bucket\/key URI/);
  } finally {
    clearInterval(ticker);
    await c.cleanup();
    await rm(work, { recursive: true, force: true });
  }
});
