/**
 * Compilation and edge packaging jobs through the SDK, with a stub toolchain injected through the
 * installer's options so these tests prove the job machinery (S3 in and out, statuses, failures, stop,
 * restart) without the real exporter; the round trip with the real one is in round-trip.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import * as tar from 'tar';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateCompilationJobCommand,
  CreateEdgePackagingJobCommand,
  DescribeCompilationJobCommand,
  DescribeEdgePackagingJobCommand,
  ListCompilationJobsCommand,
  ListEdgePackagingJobsCommand,
  StopCompilationJobCommand,
  type CreateCompilationJobCommandInput,
} from '@aws-sdk/client-sagemaker';
import { rejectsWith, ROLE, startSageMakerCloud, type SageMakerCloud } from './sagemaker-testing';
import type { EdgeToolchain } from './toolchain';
import { pollUntil } from '../../labs/poll-until';

const BUCKET = 'edge-models';

/** A toolchain that "compiles" by hashing model.json and "packages" by tarring what it was given. */
function stubToolchain(calls: string[] = []): EdgeToolchain {
  return {
    async compile(modelDir, outPath, options) {
      calls.push(`compile ${(await readdir(modelDir)).sort().join(',')}${options.weights ? ` ${options.weights}` : ''}`);
      const model = await readFile(join(modelDir, 'model.json'));
      if (model.toString().includes('unsupported')) throw new Error('layer Lambda is not supported');
      if (model.toString().includes('throws-string')) throw 'exporter crashed';
      await writeFile(outPath, `onnx:${createHash('sha256').update(model).digest('hex')}`);
    },
    async package({ compiledDir, modelName, modelVersion, outPath }) {
      const files = (await readdir(compiledDir)).sort();
      calls.push(`package ${modelName} ${modelVersion} ${files.join(',')}`);
      await tar.c({ gzip: true, file: outPath, cwd: compiledDir }, files);
      return { signature: `sig-${modelName}-${modelVersion}` };
    },
  };
}

/** A model directory's files as the detector writes them (content is irrelevant to the stub). */
async function modelTarGz(extra: Record<string, string> = {}): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'model-src-'));
  try {
    const files: Record<string, string> = { 'model.json': '{"modelTopology":{}}', 'weights.bin': 'w', 'detector.json': '{"thresholds":[1]}', 'metrics.json': '{}', ...extra };
    await mkdir(join(dir, 'wind-turbine'));
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, 'wind-turbine', name), text);
    const out = join(dir, 'model.tar.gz');
    await tar.c({ gzip: true, file: out, cwd: dir }, ['wind-turbine']);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A model folder (in dir) whose detector.json is a symbolic link to outside, a file next to it. */
async function symlinkModelTarGz(dir: string): Promise<Buffer> {
  await writeFile(join(dir, 'outside.json'), '{"secret":true}');
  await mkdir(join(dir, 'm'));
  await writeFile(join(dir, 'm', 'model.json'), '{}');
  await symlink(join(dir, 'outside.json'), join(dir, 'm', 'detector.json'));
  await tar.c({ gzip: true, file: join(dir, 'a.tgz'), cwd: dir }, ['m']);
  return await readFile(join(dir, 'a.tgz'));
}

function compilationInput(name: string, s3Uri: string, over: Partial<CreateCompilationJobCommandInput> = {}): CreateCompilationJobCommandInput {
  return {
    CompilationJobName: name,
    RoleArn: ROLE,
    InputConfig: { S3Uri: s3Uri, Framework: 'TENSORFLOW', DataInputConfig: '{"input":[1,6,10,10]}' },
    OutputConfig: { S3OutputLocation: `s3://${BUCKET}/compiled`, TargetPlatform: { Os: 'LINUX', Arch: 'ARM64' } },
    StoppingCondition: { MaxRuntimeInSeconds: 900 },
    ...over,
  };
}

/** Poll (real time) until the describe call's status is one of want; the cloud's clock is advanced by the caller. */
function waitFor<T>(describe: () => Promise<T>, status: (t: T) => string | undefined, want: string[]): Promise<T> {
  return pollUntil(`status ${want.join('|')}`, async () => {
    const out = await describe();
    return want.includes(status(out) ?? '') ? out : undefined;
  }, { timeoutMs: 15_000, intervalMs: 20, maxIntervalMs: 20 });
}

const compilation = (c: SageMakerCloud, name: string) => () => c.sm.send(new DescribeCompilationJobCommand({ CompilationJobName: name }));
const packaging = (c: SageMakerCloud, name: string) => () => c.sm.send(new DescribeEdgePackagingJobCommand({ EdgePackagingJobName: name }));

async function s3Bytes(c: SageMakerCloud, uri: string): Promise<Buffer> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) as RegExpExecArray;
  const out = await c.s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

async function listTar(bytes: Buffer): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tar-list-'));
  try {
    await writeFile(join(dir, 'a.tar.gz'), bytes);
    const names: string[] = [];
    await tar.t({ file: join(dir, 'a.tar.gz'), onReadEntry: (e) => names.push(e.path) });
    return names.sort();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('compile a model tar.gz and package it: STARTING → INPROGRESS → COMPLETED, artifacts in S3', async () => {
  const calls: string[] = [];
  const c = await startSageMakerCloud({ toolchain: stubToolchain(calls) });
  try {
    await c.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await c.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'models/wind-turbine.tar.gz', Body: await modelTarGz() }));
    const created = await c.sm.send(new CreateCompilationJobCommand(compilationInput('compile-1', `s3://${BUCKET}/models/wind-turbine.tar.gz`)));
    assert.equal(created.CompilationJobArn, 'arn:aws:sagemaker:us-east-1:000000000000:compilation-job/compile-1');
    const starting = await compilation(c, 'compile-1')();
    assert.equal(starting.CompilationJobStatus, 'STARTING');
    assert.equal(starting.FailureReason, '');
    assert.deepEqual(starting.OutputConfig?.TargetPlatform, { Os: 'LINUX', Arch: 'ARM64' });
    assert.equal(calls.length, 0, 'nothing runs before the start delay');

    await c.clock.advance(1000);
    const done = await waitFor(compilation(c, 'compile-1'), (d) => d.CompilationJobStatus, ['COMPLETED', 'FAILED']);
    assert.equal(done.CompilationJobStatus, 'COMPLETED', done.FailureReason);
    assert.deepEqual(calls, ['compile detector.json,metrics.json,model.json,weights.bin']);
    assert.equal(done.ModelArtifacts?.S3ModelArtifacts, `s3://${BUCKET}/compiled/wind-turbine-linux_arm64.tar.gz`);
    const artifact = await s3Bytes(c, done.ModelArtifacts?.S3ModelArtifacts as string);
    assert.equal(done.ModelDigests?.ArtifactDigest, createHash('sha256').update(artifact).digest('hex'));
    assert.deepEqual(await listTar(artifact), ['detector.json', 'metrics.json', 'model.onnx']);
    assert.ok(done.CompilationStartTime && done.CompilationEndTime);

    const listed = await c.sm.send(new ListCompilationJobsCommand({ StatusEquals: 'COMPLETED' }));
    assert.deepEqual(listed.CompilationJobSummaries?.map((s) => [s.CompilationJobName, s.CompilationTargetPlatformOs, s.CompilationTargetPlatformArch]), [['compile-1', 'LINUX', 'ARM64']]);

    await c.sm.send(new CreateEdgePackagingJobCommand({
      EdgePackagingJobName: 'package-1',
      CompilationJobName: 'compile-1',
      ModelName: 'wind-turbine',
      ModelVersion: '1.0.0',
      RoleArn: ROLE,
      OutputConfig: { S3OutputLocation: `s3://${BUCKET}/packages/` },
    }));
    assert.equal((await packaging(c, 'package-1')()).EdgePackagingJobStatus, 'STARTING');
    await c.clock.advance(1000);
    const packaged = await waitFor(packaging(c, 'package-1'), (d) => d.EdgePackagingJobStatus, ['COMPLETED', 'FAILED']);
    assert.equal(packaged.EdgePackagingJobStatus, 'COMPLETED', packaged.EdgePackagingJobStatusMessage);
    assert.equal(packaged.ModelArtifact, `s3://${BUCKET}/packages/wind-turbine-1.0.0.tar.gz`);
    assert.equal(packaged.ModelSignature, 'sig-wind-turbine-1.0.0');
    assert.equal(calls[1], 'package wind-turbine 1.0.0 detector.json,metrics.json,model.onnx');
    assert.deepEqual(await listTar(await s3Bytes(c, packaged.ModelArtifact as string)), ['detector.json', 'metrics.json', 'model.onnx']);
    const packages = await c.sm.send(new ListEdgePackagingJobsCommand({ ModelNameContains: 'TURBINE' }));
    assert.deepEqual(packages.EdgePackagingJobSummaries?.map((s) => [s.EdgePackagingJobName, s.EdgePackagingJobStatus, s.ModelVersion]), [['package-1', 'COMPLETED', '1.0.0']]);
  } finally {
    await c.cleanup();
  }
});

test('a prefix holding the model files compiles; target device names the output; CompilerOptions reach the compiler', async () => {
  const calls: string[] = [];
  const c = await startSageMakerCloud({ toolchain: stubToolchain(calls) });
  try {
    await c.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const [k, v] of Object.entries({ 'model.json': '{}', 'weights.bin': 'w', 'detector.json': '{}' })) {
      await c.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `dirs/wind-turbine/${k}`, Body: v }));
    }
    await c.sm.send(new CreateCompilationJobCommand(compilationInput('from-prefix', `s3://${BUCKET}/dirs/wind-turbine`, { OutputConfig: { S3OutputLocation: `s3://${BUCKET}/out`, TargetDevice: 'rasp4b', CompilerOptions: '{"weights":"int8"}' } })));
    await c.clock.advance(1000);
    const done = await waitFor(compilation(c, 'from-prefix'), (d) => d.CompilationJobStatus, ['COMPLETED', 'FAILED']);
    assert.equal(done.CompilationJobStatus, 'COMPLETED', done.FailureReason);
    assert.equal(done.ModelArtifacts?.S3ModelArtifacts, `s3://${BUCKET}/out/wind-turbine-rasp4b.tar.gz`);
    assert.deepEqual(await listTar(await s3Bytes(c, done.ModelArtifacts?.S3ModelArtifacts as string)), ['detector.json', 'model.onnx']);
    assert.deepEqual(calls, ['compile detector.json,model.json,weights.bin int8']);
    assert.equal(done.OutputConfig?.CompilerOptions, '{"weights":"int8"}');
  } finally {
    await c.cleanup();
  }
});

test('bad model inputs fail the job with a ClientError reason', async () => {
  const c = await startSageMakerCloud({ toolchain: stubToolchain() });
  try {
    await c.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await c.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain.txt', Body: 'not an archive' }));
    await c.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'nomodel.tar.gz', Body: await modelTarGz({ 'model.json': '' }).then(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'nomodel-'));
      await writeFile(join(dir, 'readme.txt'), 'x');
      await tar.c({ gzip: true, file: join(dir, 'a.tgz'), cwd: dir }, ['readme.txt']);
      const bytes = await readFile(join(dir, 'a.tgz'));
      await rm(dir, { recursive: true, force: true });
      return bytes;
    }) }));
    await c.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'unsupported.tar.gz', Body: await modelTarGz({ 'model.json': '{"unsupported":true}' }) }));
    await c.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ok.tar.gz', Body: await modelTarGz() }));
    await c.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'throws.tar.gz', Body: await modelTarGz({ 'model.json': '{"throws-string":1}' }) }));
    const cases: [string, Partial<CreateCompilationJobCommandInput>, RegExp][] = [
      ['not-gzip', { InputConfig: { S3Uri: `s3://${BUCKET}/plain.txt`, Framework: 'TENSORFLOW' } }, /ClientError: .*plain.txt is not a gzip-compressed tar/],
      ['missing', { InputConfig: { S3Uri: `s3://${BUCKET}/nothing.tar.gz`, Framework: 'TENSORFLOW' } }, /ClientError: no object .*nothing.tar.gz/],
      ['no-bucket', { InputConfig: { S3Uri: 's3://no-such-bucket/m.tar.gz', Framework: 'TENSORFLOW' } }, /ClientError: bucket no-such-bucket does not exist/],
      ['no-model-json', { InputConfig: { S3Uri: `s3://${BUCKET}/nomodel.tar.gz`, Framework: 'TENSORFLOW' } }, /ClientError: no model.json found/],
      ['pytorch', { InputConfig: { S3Uri: `s3://${BUCKET}/ok.tar.gz`, Framework: 'PYTORCH' } }, /ClientError: .*not PYTORCH/],
      ['unsupported', { InputConfig: { S3Uri: `s3://${BUCKET}/unsupported.tar.gz`, Framework: 'KERAS' } }, /ClientError: compiling .* failed: layer Lambda is not supported/],
      ['throws-string', { InputConfig: { S3Uri: `s3://${BUCKET}/throws.tar.gz`, Framework: 'KERAS' } }, /ClientError: compiling .* failed: exporter crashed/],
      ['no-out-bucket', { InputConfig: { S3Uri: `s3://${BUCKET}/ok.tar.gz`, Framework: 'KERAS' }, OutputConfig: { S3OutputLocation: 's3://gone/out', TargetDevice: 'ml_c5' } }, /ClientError: output bucket gone does not exist/],
    ];
    for (const [name, over] of cases) await c.sm.send(new CreateCompilationJobCommand(compilationInput(name, '', over)));
    await c.clock.advance(1000);
    for (const [name, , reason] of cases) {
      const d = await waitFor(compilation(c, name), (x) => x.CompilationJobStatus, ['COMPLETED', 'FAILED']);
      assert.equal(d.CompilationJobStatus, 'FAILED', name);
      assert.match(d.FailureReason as string, reason, name);
      assert.equal(d.ModelArtifacts?.S3ModelArtifacts, '');
    }
    // Failures do not stop the queue: a good job after them completes.
    await c.sm.send(new CreateCompilationJobCommand(compilationInput('good-after', `s3://${BUCKET}/ok.tar.gz`)));
    await c.clock.advance(1000);
    assert.equal((await waitFor(compilation(c, 'good-after'), (x) => x.CompilationJobStatus, ['COMPLETED', 'FAILED'])).CompilationJobStatus, 'COMPLETED');
    await rejectsWith(
      c.sm.send(new CreateEdgePackagingJobCommand({ EdgePackagingJobName: 'p', CompilationJobName: 'pytorch', ModelName: 'm', ModelVersion: '1', RoleArn: ROLE, OutputConfig: { S3OutputLocation: `s3://${BUCKET}/p` } })),
      'ValidationException',
      /pytorch is FAILED/,
    );
  } finally {
    await c.cleanup();
  }
});

test('links in an uploaded archive are not extracted, so nothing outside it reaches the artifact', async () => {
  const c = await startSageMakerCloud({ toolchain: stubToolchain() });
  // The link's target stays in place while the job runs.
  const outside = await mkdtemp(join(tmpdir(), 'model-link-'));
  try {
    await c.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await c.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'linked.tar.gz', Body: await symlinkModelTarGz(outside) }));
    await c.sm.send(new CreateCompilationJobCommand(compilationInput('linked', `s3://${BUCKET}/linked.tar.gz`)));
    await c.clock.advance(1000);
    const done = await waitFor(compilation(c, 'linked'), (d) => d.CompilationJobStatus, ['COMPLETED', 'FAILED']);
    assert.equal(done.CompilationJobStatus, 'COMPLETED', done.FailureReason);
    assert.deepEqual(await listTar(await s3Bytes(c, done.ModelArtifacts?.S3ModelArtifacts as string)), ['model.onnx']);
  } finally {
    await c.cleanup();
    await rm(outside, { recursive: true, force: true });
  }
});

test('stop a compilation job; a job running past MaxRuntimeInSeconds fails', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const base = stubToolchain();
  const c = await startSageMakerCloud({
    toolchain: {
      ...base,
      async compile(dir, out, options) {
        if ((await readFile(join(dir, 'model.json'), 'utf8')).includes('slow')) await gate;
        await base.compile(dir, out, options);
      },
    },
  });
  try {
    await c.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await c.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'slow.tar.gz', Body: await modelTarGz({ 'model.json': '{"slow":true}' }) }));
    await c.sm.send(new CreateCompilationJobCommand(compilationInput('to-stop', `s3://${BUCKET}/slow.tar.gz`)));
    await c.sm.send(new StopCompilationJobCommand({ CompilationJobName: 'to-stop' }));
    assert.equal((await compilation(c, 'to-stop')()).CompilationJobStatus, 'STOPPING');
    await c.clock.advance(1000);
    assert.equal((await compilation(c, 'to-stop')()).CompilationJobStatus, 'STOPPED');
    await rejectsWith(c.sm.send(new StopCompilationJobCommand({ CompilationJobName: 'to-stop' })), 'ValidationException', /STOPPED and cannot be stopped/);

    await c.sm.send(new CreateCompilationJobCommand(compilationInput('too-slow', `s3://${BUCKET}/slow.tar.gz`, { StoppingCondition: { MaxRuntimeInSeconds: 60 } })));
    await c.clock.advance(1000);
    await waitFor(compilation(c, 'too-slow'), (d) => d.CompilationJobStatus, ['INPROGRESS']);
    await c.clock.advance(60_000);
    const failed = await compilation(c, 'too-slow')();
    assert.equal(failed.CompilationJobStatus, 'FAILED');
    assert.match(failed.FailureReason as string, /MaxRuntimeInSeconds \(60 s\)/);
    release();
    // The late result is dropped: the job stays FAILED and no artifact appears.
    await c.sm.send(new CreateCompilationJobCommand(compilationInput('after', `s3://${BUCKET}/slow.tar.gz`)));
    await c.clock.advance(1000);
    await waitFor(compilation(c, 'after'), (d) => d.CompilationJobStatus, ['COMPLETED']);
    const still = await compilation(c, 'too-slow')();
    assert.equal(still.CompilationJobStatus, 'FAILED');
    assert.equal(still.ModelArtifacts?.S3ModelArtifacts, '');
  } finally {
    release();
    await c.cleanup();
  }
});

test('bad job requests are refused with the member named, and create nothing', async () => {
  const c = await startSageMakerCloud({ toolchain: stubToolchain(), limits: { activeJobs: 1 } });
  try {
    const uri = `s3://${BUCKET}/m.tar.gz`;
    await c.sm.send(new CreateCompilationJobCommand(compilationInput('first', uri)));
    const cases: [Promise<unknown>, string, RegExp][] = [
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('first', uri))), 'ResourceInUse', /first already exists/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('bad_name', uri))), 'ValidationException', /compilationJobName/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('x', uri, { RoleArn: 'not-a-role' }))), 'ValidationException', /roleArn/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('x', uri, { StoppingCondition: undefined }))), 'ValidationException', /Value null at 'stoppingCondition'/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('x', 'gs://b/k'))), 'ValidationException', /inputConfig.s3Uri/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('x', uri, { InputConfig: { S3Uri: uri, Framework: 'CAFFE' as never } }))), 'ValidationException', /inputConfig.framework.*enum/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('x', uri, { OutputConfig: { S3OutputLocation: uri } }))), 'ValidationException', /exactly one of TargetDevice and TargetPlatform/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('x', uri, { OutputConfig: { S3OutputLocation: uri, TargetDevice: 'toaster' as never } }))), 'ValidationException', /outputConfig.targetDevice/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('x', uri, { OutputConfig: { S3OutputLocation: uri, TargetPlatform: { Os: 'LINUX' } as never } }))), 'ValidationException', /outputConfig.targetPlatform.arch/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('x', uri, { InputConfig: { S3Uri: uri, Framework: 'KERAS', DataInputConfig: '{oops' } }))), 'ValidationException', /DataInputConfig must be JSON/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('x', uri, { OutputConfig: { S3OutputLocation: uri, TargetDevice: 'rasp4b', CompilerOptions: '{"weights":"int4"}' } }))), 'ValidationException', /CompilerOptions.weights must be "float32" or "int8"/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('x', uri, { OutputConfig: { S3OutputLocation: uri, TargetDevice: 'rasp4b', CompilerOptions: '{"mcpu":"a53"}' } }))), 'ValidationException', /unknown option\(s\) mcpu/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('x', uri, { OutputConfig: { S3OutputLocation: uri, TargetDevice: 'rasp4b', CompilerOptions: '[1, 2]' } }))), 'ValidationException', /must be a JSON object/],
      [c.sm.send(new CreateCompilationJobCommand(compilationInput('second', uri))), 'ResourceLimitExceeded', /limit 1/],
      [c.sm.send(new DescribeCompilationJobCommand({ CompilationJobName: 'nothere' })), 'ResourceNotFound', /nothere/],
      [c.sm.send(new StopCompilationJobCommand({ CompilationJobName: 'nothere' })), 'ResourceNotFound', /nothere/],
      [c.sm.send(new DescribeEdgePackagingJobCommand({ EdgePackagingJobName: 'nothere' })), 'ResourceNotFound', /nothere/],
      [c.sm.send(new CreateEdgePackagingJobCommand({ EdgePackagingJobName: 'p', CompilationJobName: 'nothere', ModelName: 'm', ModelVersion: '1.0', RoleArn: ROLE, OutputConfig: { S3OutputLocation: uri } })), 'ValidationException', /nothere does not exist/],
      [c.sm.send(new CreateEdgePackagingJobCommand({ EdgePackagingJobName: 'p', CompilationJobName: 'first', ModelName: 'm', ModelVersion: '1.0', RoleArn: ROLE, OutputConfig: { S3OutputLocation: uri } })), 'ValidationException', /first is STARTING/],
      [c.sm.send(new CreateEdgePackagingJobCommand({ EdgePackagingJobName: 'p', CompilationJobName: 'first', ModelName: 'm', ModelVersion: 'v/1', RoleArn: ROLE, OutputConfig: { S3OutputLocation: uri } })), 'ValidationException', /modelVersion/],
      [c.sm.send(new CreateEdgePackagingJobCommand({ EdgePackagingJobName: 'p', CompilationJobName: 'first', ModelName: 'm', ModelVersion: '1', RoleArn: ROLE } as never)), 'ValidationException', /outputConfig/],
      [c.sm.send(new ListCompilationJobsCommand({ StatusEquals: 'DONE' as never })), 'ValidationException', /statusEquals/],
    ];
    for (const [p, name, message] of cases) await rejectsWith(p, name, message);
    const jobs = await c.sm.send(new ListCompilationJobsCommand({}));
    assert.deepEqual(jobs.CompilationJobSummaries?.map((j) => j.CompilationJobName), ['first']);
    assert.deepEqual((await c.sm.send(new ListEdgePackagingJobsCommand({}))).EdgePackagingJobSummaries, []);
  } finally {
    await c.cleanup();
  }
});
