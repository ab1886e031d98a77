/**
 * End to end with the real toolchain: a detector model directory goes up to S3 as a tar.gz, a compilation
 * job exports it to ONNX, a packaging job signs it, and the package that lands in S3 verifies with the
 * project key and scores like the tfjs model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateCompilationJobCommand,
  CreateEdgePackagingJobCommand,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeCompilationJobCommand,
  DescribeEdgePackagingJobCommand,
  DescribeModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { readModelDir } from '../../detector/model-dir';
import { modelFromFiles } from '../../detector/model-io';
import { createOnnxSession, loadOrCreateSigningKey, runOnnx, SIGNATURE_FILE, verifyPackage } from '../../packaging';
import { farmTestWindows, maxAbsDiff, tfjsReconstruct, writeTestModelDir } from '../../packaging/packaging-testing';
import { ROLE, startSageMakerCloud, type SageMakerCloud } from './sagemaker-testing';
import { pollUntil } from '../../labs/poll-until';

const BUCKET = 'edge-models';

function waitForStatus(read: () => Promise<string | undefined>, done: string[]): Promise<string | undefined> {
  return pollUntil(`status ${done.join('|')}`, async () => {
    const s = await read();
    return done.includes(s ?? '') ? s : undefined;
  }, { timeoutMs: 40_000, intervalMs: 50, maxIntervalMs: 50 });
}

async function s3Bytes(c: SageMakerCloud, uri: string): Promise<Buffer> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) as RegExpExecArray;
  const out = await c.s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

test('a model directory compiled and packaged through the SageMaker API verifies and scores like tfjs', async () => {
  const work = await mkdtemp(join(tmpdir(), 'sagemaker-round-trip-'));
  const keyDir = join(work, 'signing');
  // The default toolchain (the real exporter and signer), with a key of its own.
  const c = await startSageMakerCloud({ signingKeyDir: keyDir });
  try {
    const modelDir = join(work, 'wind-turbine');
    await writeTestModelDir(modelDir, 'dense', 3);
    await tar.c({ gzip: true, file: join(work, 'model.tar.gz'), cwd: work }, ['wind-turbine']);
    await c.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await c.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/wind-turbine.tar.gz', Body: await readFile(join(work, 'model.tar.gz')) }));

    await c.sm.send(new CreateCompilationJobCommand({
      CompilationJobName: 'wind-turbine-onnx',
      RoleArn: ROLE,
      InputConfig: { S3Uri: `s3://${BUCKET}/models/wind-turbine.tar.gz`, Framework: 'TENSORFLOW', DataInputConfig: '{"input":[1,6,10,10]}' },
      OutputConfig: { S3OutputLocation: `s3://${BUCKET}/compiled`, TargetPlatform: { Os: 'LINUX', Arch: 'X86_64' } },
      StoppingCondition: { MaxRuntimeInSeconds: 900 },
    }));
    await c.clock.advance(1000);
    const describeCompilation = () => c.sm.send(new DescribeCompilationJobCommand({ CompilationJobName: 'wind-turbine-onnx' }));
    await waitForStatus(async () => (await describeCompilation()).CompilationJobStatus, ['COMPLETED', 'FAILED']);
    const compiled = await describeCompilation();
    assert.equal(compiled.CompilationJobStatus, 'COMPLETED', compiled.FailureReason);

    const packagingJob = (name: string, version: string) =>
      c.sm.send(new CreateEdgePackagingJobCommand({ EdgePackagingJobName: name, CompilationJobName: 'wind-turbine-onnx', ModelName: 'wind-turbine', ModelVersion: version, RoleArn: ROLE, OutputConfig: { S3OutputLocation: `s3://${BUCKET}/packages` } }));
    await packagingJob('wind-turbine-1-0-0', '1.0.0');
    await packagingJob('not-semver', '1.0');
    await c.clock.advance(1000);
    const describePackaging = (name: string) => c.sm.send(new DescribeEdgePackagingJobCommand({ EdgePackagingJobName: name }));
    for (const name of ['wind-turbine-1-0-0', 'not-semver']) await waitForStatus(async () => (await describePackaging(name)).EdgePackagingJobStatus, ['COMPLETED', 'FAILED']);
    const packaged = await describePackaging('wind-turbine-1-0-0');
    assert.equal(packaged.EdgePackagingJobStatus, 'COMPLETED', packaged.EdgePackagingJobStatusMessage);
    const refused = await describePackaging('not-semver');
    assert.equal(refused.EdgePackagingJobStatus, 'FAILED');
    assert.match(refused.EdgePackagingJobStatusMessage as string, /ClientError: .*"1.0" is not a semantic version/);

    const bytes = await s3Bytes(c, packaged.ModelArtifact as string);
    const key = loadOrCreateSigningKey(keyDir);
    const verified = verifyPackage(bytes, key.publicKeyPem, { name: 'wind-turbine', inputName: 'input', inputShape: [null, 6, 10, 10] });
    assert.equal(verified.manifest.version, '1.0.0');
    assert.equal(verified.manifest.createdAt, new Date(c.clock.now()).toISOString());
    assert.equal(packaged.ModelSignature, verified.files[SIGNATURE_FILE].toString('utf8').trim());
    assert.deepEqual(verified.manifest.thresholds, readModelDir(modelDir).description.thresholds);

    // The shipped ONNX scores like the tfjs model it came from.
    const { windows, count } = farmTestWindows();
    const n = Math.min(count, 32);
    const sample = windows.slice(0, n * 600);
    const model = await modelFromFiles(readModelDir(modelDir).model);
    const expected = tfjsReconstruct(model, sample, n);
    model.dispose();
    const session = await createOnnxSession(verified.model);
    const actual = await runOnnx(session, sample, n);
    await session.release();
    assert.ok(maxAbsDiff(actual, expected) <= 1e-5, `max abs difference ${maxAbsDiff(actual, expected)}`);

    // CompilerOptions pick the weight-quantised variant; the package says so and is smaller.
    await c.sm.send(new CreateCompilationJobCommand({
      CompilationJobName: 'wind-turbine-int8',
      RoleArn: ROLE,
      InputConfig: { S3Uri: `s3://${BUCKET}/models/wind-turbine.tar.gz`, Framework: 'TENSORFLOW' },
      OutputConfig: { S3OutputLocation: `s3://${BUCKET}/compiled-int8`, TargetDevice: 'rasp4b', CompilerOptions: '{"weights":"int8"}' },
      StoppingCondition: { MaxRuntimeInSeconds: 900 },
    }));
    await c.clock.advance(1000);
    const int8Compiled = await waitForStatus(async () => (await c.sm.send(new DescribeCompilationJobCommand({ CompilationJobName: 'wind-turbine-int8' }))).CompilationJobStatus, ['COMPLETED', 'FAILED']);
    assert.equal(int8Compiled, 'COMPLETED');
    await c.sm.send(new CreateEdgePackagingJobCommand({ EdgePackagingJobName: 'wind-turbine-int8-1-0-1', CompilationJobName: 'wind-turbine-int8', ModelName: 'wind-turbine', ModelVersion: '1.0.1', RoleArn: ROLE, OutputConfig: { S3OutputLocation: `s3://${BUCKET}/packages` } }));
    await c.clock.advance(1000);
    await waitForStatus(async () => (await describePackaging('wind-turbine-int8-1-0-1')).EdgePackagingJobStatus, ['COMPLETED', 'FAILED']);
    const int8 = verifyPackage(await s3Bytes(c, (await describePackaging('wind-turbine-int8-1-0-1')).ModelArtifact as string), key.publicKeyPem);
    assert.equal(int8.manifest.model.weights, 'int8');
    assert.equal(verified.manifest.model.weights, 'float32');
    assert.ok(int8.model.length < verified.model.length / 2, `int8 model ${int8.model.length} bytes vs float32 ${verified.model.length}`);

    // The package lands in the registry, pending approval, pointing at the S3 artifact.
    await c.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'wind-turbine' }));
    const registered = await c.sm.send(new CreateModelPackageCommand({
      ModelPackageGroupName: 'wind-turbine',
      InferenceSpecification: { Containers: [{ Image: 'edge-agent/onnxruntime-node', ModelDataUrl: packaged.ModelArtifact }] },
      CustomerMetadataProperties: { semver: '1.0.0', sha256: verified.sha256 },
    }));
    const d = await c.sm.send(new DescribeModelPackageCommand({ ModelPackageName: registered.ModelPackageArn }));
    assert.equal(d.InferenceSpecification?.Containers?.[0].ModelDataUrl, packaged.ModelArtifact);
    assert.equal(d.ModelApprovalStatus, 'PendingManualApproval');
  } finally {
    await c.cleanup();
    await rm(work, { recursive: true, force: true });
  }
});
