/**
 * Compilation and edge packaging jobs: CreateCompilationJob, DescribeCompilationJob, ListCompilationJobs,
 * StopCompilationJob, CreateEdgePackagingJob, DescribeEdgePackagingJob, ListEdgePackagingJobs.
 *
 * A job is created STARTING; startDelayMs of cloud time later it turns INPROGRESS and its work runs (one
 * job at a time, in real time: the toolchain is real work); then COMPLETED, or FAILED with a reason.
 * A compilation job reads a tar.gz of a model directory (or a prefix holding one) from InputConfig.S3Uri,
 * compiles it with the toolchain and writes `<input name>-<target>.tar.gz` (model.onnx, any file the
 * compiler wrote beside it, and the detector's description files) under OutputConfig.S3OutputLocation. A packaging job takes a COMPLETED
 * compilation job's artifact, has the toolchain package and sign it, and writes
 * `<ModelName>-<ModelVersion>.tar.gz` under its OutputConfig.S3OutputLocation.
 *
 * After a restart, jobs that were STARTING or INPROGRESS are FAILED (STOPPING ones STOPPED) with a reason
 * saying so: their work died with the process and half-written outputs cannot be trusted.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock, Collection, StateStore } from '../contracts';
import { ArtifactStore, ClientError, findModelDir, tarGz, untarGz } from './artifact-store';
import { resourceInUse, resourceLimitExceeded, resourceNotFound, validationError } from './errors';
import { readEdgeOutputConfig } from './fleets';
import {
  applyListFilters,
  COMPILATION_STATUSES,
  paginate,
  PACKAGING_STATUSES,
  readListFilters,
  readPaging,
  sageMakerArn,
  sortBy,
  wireTime,
  type CompilationJobRecord,
  type EdgePackagingJobRecord,
  type JobStatus,
} from './records';
import type { Operation } from './respond';
import type { CompileOptions, EdgeToolchain } from './toolchain';
import { MODEL_VERSION, NAME, ROLE_ARN, S3_URI, type Fields } from './validate';

export const FRAMEWORKS = ['TENSORFLOW', 'KERAS', 'MXNET', 'ONNX', 'PYTORCH', 'XGBOOST', 'TFLITE', 'DARKNET', 'SKLEARN'] as const;
/** Frameworks our compiler takes: a tfjs layers-model directory (Keras/TensorFlow models converted to tfjs). */
const COMPILABLE = ['TENSORFLOW', 'KERAS'];
export const TARGET_DEVICES = [
  'lambda', 'ml_m4', 'ml_m5', 'ml_m6g', 'ml_c4', 'ml_c5', 'ml_c6g', 'ml_p2', 'ml_p3', 'ml_g4dn', 'ml_inf1', 'ml_inf2', 'ml_trn1', 'ml_eia2',
  'jetson_tx1', 'jetson_tx2', 'jetson_nano', 'jetson_xavier', 'rasp3b', 'rasp4b', 'imx8qm', 'deeplens', 'rk3399', 'rk3288', 'aisage',
  'sbe_c', 'qcs605', 'qcs603', 'sitara_am57x', 'amba_cv2', 'amba_cv22', 'amba_cv25', 'x86_win32', 'x86_win64', 'coreml', 'jacinto_tda4vm', 'imx8mplus',
] as const;
const ACTIVE: readonly JobStatus[] = ['STARTING', 'INPROGRESS', 'STOPPING'];
/** Files of a model directory that travel with model.onnx (the packager builds its manifest from them). */
const DESCRIPTION_FILES = ['detector.json', 'metrics.json'];

export interface EdgeJobLimits {
  /** Most compilation plus packaging jobs STARTING, INPROGRESS or STOPPING at once (default 10). */
  activeJobs: number;
}

export const DEFAULT_EDGE_JOB_LIMITS: EdgeJobLimits = { activeJobs: 10 };

export interface EdgeJobDeps {
  clock: Clock;
  region: string;
  accountId: string;
  store: StateStore;
  compilations: Collection<CompilationJobRecord>;
  packagings: Collection<EdgePackagingJobRecord>;
  artifacts: ArtifactStore;
  toolchain: EdgeToolchain;
  limits: EdgeJobLimits;
  /** Cloud time between STARTING and INPROGRESS (and STOPPING and STOPPED for a job not yet running). */
  startDelayMs: number;
  log: (line: string) => void;
}

type Kind = 'compilation' | 'packaging';

/** Schedules and runs the jobs; its state lives in the two collections. */
export class EdgeJobRunner {
  private readonly timers = new Map<string, { cancel(): void }>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: EdgeJobDeps) {}

  /** Settle jobs a previous process left active (their work died with it). */
  recoverAfterRestart(): void {
    const reason = 'The local cloud stopped while this job was running; create a new job to run it again.';
    const now = this.deps.clock.now();
    for (const j of this.deps.compilations.values()) {
      if (!ACTIVE.includes(j.status)) continue;
      const stopped = j.status === 'STOPPING';
      this.deps.compilations.put(j.CompilationJobName, { ...j, status: stopped ? 'STOPPED' : 'FAILED', failureReason: stopped ? '' : reason, lastModifiedTime: now, endTime: now });
    }
    for (const j of this.deps.packagings.values()) {
      if (!ACTIVE.includes(j.status)) continue;
      const stopped = j.status === 'STOPPING';
      this.deps.packagings.put(j.EdgePackagingJobName, { ...j, status: stopped ? 'STOPPED' : 'FAILED', statusMessage: stopped ? undefined : reason, lastModifiedTime: now });
    }
  }

  /** How many jobs of both kinds are active. */
  activeCount(): number {
    return [...this.deps.compilations.values(), ...this.deps.packagings.values()].filter((j) => ACTIVE.includes(j.status)).length;
  }

  /** Start a job created STARTING after the start delay. */
  schedule(kind: Kind, name: string): void {
    this.setTimer(kind, name, this.deps.startDelayMs, () => this.begin(kind, name));
  }

  /** StopCompilationJob: STARTING jobs stop after the delay, INPROGRESS ones when their work returns. */
  stopCompilation(name: string): void {
    const job = this.deps.compilations.get(name) as CompilationJobRecord;
    const wasStarting = job.status === 'STARTING';
    this.update('compilation', name, { status: 'STOPPING' });
    if (wasStarting) this.setTimer('compilation', name, this.deps.startDelayMs, () => this.finish('compilation', name, { status: 'STOPPED' }));
  }

  /** Cancel timers and wait for the running job; nothing is written after this. */
  async stop(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    await this.queue;
  }

  private setTimer(kind: Kind, name: string, ms: number, fn: () => void): void {
    const key = `${kind}/${name}`;
    this.timers.get(key)?.cancel();
    this.timers.set(
      key,
      this.deps.clock.setTimeout(() => {
        this.timers.delete(key);
        if (!this.closed) fn();
      }, ms),
    );
  }

  private get(kind: Kind, name: string): CompilationJobRecord | EdgePackagingJobRecord | undefined {
    return kind === 'compilation' ? this.deps.compilations.get(name) : this.deps.packagings.get(name);
  }

  private update(kind: Kind, name: string, changes: Partial<CompilationJobRecord & EdgePackagingJobRecord>): void {
    if (this.closed) return;
    const now = this.deps.clock.now();
    if (kind === 'compilation') {
      const j = this.deps.compilations.get(name) as CompilationJobRecord;
      this.deps.compilations.put(name, { ...j, ...changes, lastModifiedTime: now } as CompilationJobRecord);
    } else {
      const j = this.deps.packagings.get(name) as EdgePackagingJobRecord;
      this.deps.packagings.put(name, { ...j, ...changes, lastModifiedTime: now } as EdgePackagingJobRecord);
    }
    this.deps.store.flush().catch((err) => this.deps.log(`sagemaker: saving ${kind} job ${name} failed: ${(err as Error).message}`));
  }

  private finish(kind: Kind, name: string, changes: Partial<CompilationJobRecord & EdgePackagingJobRecord>): void {
    this.timers.get(`${kind}/${name}`)?.cancel();
    this.timers.delete(`${kind}/${name}`);
    this.update(kind, name, kind === 'compilation' ? { ...changes, endTime: this.deps.clock.now() } : changes);
  }

  private begin(kind: Kind, name: string): void {
    if (this.get(kind, name)?.status !== 'STARTING') return;
    this.update(kind, name, kind === 'compilation' ? { status: 'INPROGRESS', startTime: this.deps.clock.now() } : { status: 'INPROGRESS' });
    const job = this.get(kind, name);
    if (kind === 'compilation') {
      const max = (job as CompilationJobRecord).StoppingCondition.MaxRuntimeInSeconds;
      if (max !== undefined) {
        this.setTimer(kind, name, max * 1000, () => {
          if (this.get(kind, name)?.status === 'INPROGRESS') this.finish(kind, name, { status: 'FAILED', failureReason: `ClientError: the job ran longer than StoppingCondition.MaxRuntimeInSeconds (${max} s).` });
        });
      }
    }
    // A failure outside the job's own error handling must neither stop the queue nor crash the cloud.
    this.queue = this.queue
      .then(() => this.run(kind, name))
      .catch((err) => {
        this.deps.log(`sagemaker: ${kind} job ${name} could not run: ${errorText(err)}`);
        if (this.get(kind, name)?.status === 'INPROGRESS') {
          const reason = `InternalError: ${errorText(err)}`;
          this.finish(kind, name, kind === 'compilation' ? { status: 'FAILED', failureReason: reason } : { status: 'FAILED', statusMessage: reason });
        }
      });
  }

  private async run(kind: Kind, name: string): Promise<void> {
    if (this.closed || this.get(kind, name)?.status !== 'INPROGRESS') {
      if (this.get(kind, name)?.status === 'STOPPING') this.finish(kind, name, { status: 'STOPPED' });
      return;
    }
    const work = await mkdtemp(join(tmpdir(), `sagemaker-${kind}-`));
    let outcome: Partial<CompilationJobRecord & EdgePackagingJobRecord>;
    try {
      outcome =
        kind === 'compilation'
          ? await this.compile(this.deps.compilations.get(name) as CompilationJobRecord, work)
          : await this.package(this.deps.packagings.get(name) as EdgePackagingJobRecord, work);
    } catch (err) {
      const reason = err instanceof ClientError ? `ClientError: ${err.message}` : `InternalError: ${errorText(err)}`;
      outcome = kind === 'compilation' ? { status: 'FAILED', failureReason: reason } : { status: 'FAILED', statusMessage: reason };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    const status = this.get(kind, name)?.status;
    if (status === 'STOPPING') this.finish(kind, name, { status: 'STOPPED' });
    else if (status === 'INPROGRESS') this.finish(kind, name, outcome);
  }

  private async compile(job: CompilationJobRecord, work: string): Promise<Partial<CompilationJobRecord & EdgePackagingJobRecord>> {
    const framework = job.InputConfig.Framework;
    if (!COMPILABLE.includes(framework)) throw new ClientError(`the local compiler takes Framework TENSORFLOW or KERAS (a tfjs layers-model directory), not ${framework}`);
    const input = join(work, 'input');
    await this.deps.artifacts.fetchModel(job.InputConfig.S3Uri, input);
    const modelDir = await findModelDir(input);
    if (!modelDir) throw new ClientError(`no model.json found in ${job.InputConfig.S3Uri} (expected a tar.gz of a model directory, or a prefix holding one)`);
    const out = join(work, 'compiled');
    await mkdir(out);
    try {
      await this.deps.toolchain.compile(modelDir, join(out, 'model.onnx'), compileOptions(job.OutputConfig.CompilerOptions));
    } catch (err) {
      throw new ClientError(`compiling ${job.InputConfig.S3Uri} failed: ${errorText(err)}`);
    }
    if (!(await exists(join(out, 'model.onnx')))) throw new Error('the compiler reported success but wrote no model.onnx');
    for (const f of DESCRIPTION_FILES) {
      if ((await exists(join(modelDir, f))) && !(await exists(join(out, f)))) await copyFile(join(modelDir, f), join(out, f));
    }
    // Everything the compiler wrote beside model.onnx (e.g. its I/O signature) travels with it.
    const files = (await readdir(out)).sort();
    const archive = join(work, 'compiled.tar.gz');
    await tarGz(out, files, archive);
    const artifact = await this.deps.artifacts.putFile(job.OutputConfig.S3OutputLocation, `${inputBaseName(job.InputConfig.S3Uri)}-${targetName(job)}.tar.gz`, archive);
    const digest = createHash('sha256').update(await readFile(archive)).digest('hex');
    return { status: 'COMPLETED', failureReason: '', artifact, artifactDigest: digest };
  }

  private async package(job: EdgePackagingJobRecord, work: string): Promise<Partial<CompilationJobRecord & EdgePackagingJobRecord>> {
    const compilation = this.deps.compilations.get(job.CompilationJobName);
    if (!compilation?.artifact || compilation.status !== 'COMPLETED') throw new ClientError(`compilation job ${job.CompilationJobName} has no completed artifact`);
    const { bucket, key } = parseArtifact(compilation.artifact);
    const bytes = await this.deps.artifacts.getObject(bucket, key);
    if (!bytes) throw new ClientError(`the compiled artifact ${compilation.artifact} is gone from S3`);
    const archive = join(work, 'compiled.tar.gz');
    await writeFile(archive, bytes);
    const compiledDir = join(work, 'compiled');
    await untarGz(archive, compiledDir);
    const outPath = join(work, 'package.tar.gz');
    let signature: string;
    try {
      ({ signature } = await this.deps.toolchain.package({ compiledDir, modelName: job.ModelName, modelVersion: job.ModelVersion, outPath, createdAt: new Date(this.deps.clock.now()) }));
    } catch (err) {
      throw new ClientError(`packaging ${compilation.artifact} failed: ${errorText(err)}`);
    }
    const artifact = await this.deps.artifacts.putFile(job.OutputConfig.S3OutputLocation, `${job.ModelName}-${job.ModelVersion}.tar.gz`, outPath);
    return { status: 'COMPLETED', statusMessage: undefined, artifact, signature };
  }
}

/** The message of anything thrown (a toolchain may throw a non-Error). */
function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function parseArtifact(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1], key: m[2] };
}

/** Name of the input without .tar.gz/.tgz (the last folder name for a prefix), as Neo names its output. */
function inputBaseName(uri: string): string {
  const parts = uri.replace(/\/+$/, '').split('/');
  const last = parts[parts.length - 1] ?? '';
  return last.replace(/\.(tar\.gz|tgz)$/i, '') || 'model';
}

/** The compilation target as a file-name part: the device, or os_arch[_accelerator]. */
function targetName(job: CompilationJobRecord): string {
  const p = job.OutputConfig.TargetPlatform;
  if (job.OutputConfig.TargetDevice) return job.OutputConfig.TargetDevice;
  return [p?.Os, p?.Arch, p?.Accelerator].filter(Boolean).join('_').toLowerCase();
}

function describeCompilation(j: CompilationJobRecord): Record<string, unknown> {
  return {
    CompilationJobName: j.CompilationJobName,
    CompilationJobArn: j.CompilationJobArn,
    CompilationJobStatus: j.status,
    CompilationStartTime: wireTime(j.startTime),
    CompilationEndTime: wireTime(j.endTime),
    StoppingCondition: j.StoppingCondition,
    CreationTime: wireTime(j.creationTime),
    LastModifiedTime: wireTime(j.lastModifiedTime),
    FailureReason: j.failureReason,
    ModelArtifacts: { S3ModelArtifacts: j.artifact ?? '' },
    ModelDigests: j.artifactDigest ? { ArtifactDigest: j.artifactDigest } : undefined,
    RoleArn: j.RoleArn,
    InputConfig: j.InputConfig,
    OutputConfig: j.OutputConfig,
    VpcConfig: j.VpcConfig,
  };
}

function describePackaging(j: EdgePackagingJobRecord): Record<string, unknown> {
  return {
    EdgePackagingJobArn: j.EdgePackagingJobArn,
    EdgePackagingJobName: j.EdgePackagingJobName,
    CompilationJobName: j.CompilationJobName,
    ModelName: j.ModelName,
    ModelVersion: j.ModelVersion,
    RoleArn: j.RoleArn,
    OutputConfig: j.OutputConfig,
    ResourceKey: j.ResourceKey,
    EdgePackagingJobStatus: j.status,
    EdgePackagingJobStatusMessage: j.statusMessage,
    CreationTime: wireTime(j.creationTime),
    LastModifiedTime: wireTime(j.lastModifiedTime),
    ModelArtifact: j.artifact,
    ModelSignature: j.signature,
  };
}

/**
 * OutputConfig.CompilerOptions of our compiler: a JSON object whose only key is `weights`
 * ("float32" or "int8"); anything else is a ValidationException naming it.
 */
export function compileOptions(text: string | undefined): CompileOptions {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw validationError(`OutputConfig.CompilerOptions must be JSON, got "${text}"`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw validationError(`OutputConfig.CompilerOptions must be a JSON object, got ${text}`);
  const o = parsed as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'weights');
  if (unknown.length > 0) throw validationError(`OutputConfig.CompilerOptions: unknown option(s) ${unknown.join(', ')}; the local compiler takes {"weights": "float32" | "int8"}`);
  if (o.weights !== undefined && o.weights !== 'float32' && o.weights !== 'int8') throw validationError(`OutputConfig.CompilerOptions.weights must be "float32" or "int8", got ${JSON.stringify(o.weights)}`);
  return o.weights === undefined ? {} : { weights: o.weights };
}

/** Read CreateCompilationJob's InputConfig. */
function readInputConfig(f: Fields): CompilationJobRecord['InputConfig'] {
  const i = f.object('InputConfig', true);
  const out: CompilationJobRecord['InputConfig'] = {
    S3Uri: i.string('S3Uri', { required: true, max: 1024, pattern: S3_URI }),
    Framework: i.enumOf('Framework', FRAMEWORKS, true) as string,
  };
  const shapes = i.string('DataInputConfig', { min: 1, max: 16384 });
  if (shapes !== undefined) {
    try {
      JSON.parse(shapes);
    } catch {
      throw validationError(`InputConfig.DataInputConfig must be JSON (input name → shape), got "${shapes}"`);
    }
    out.DataInputConfig = shapes;
  }
  const version = i.string('FrameworkVersion', { min: 3, max: 10, pattern: /^[0-9]\.[A-Za-z0-9.]+$/ });
  if (version !== undefined) out.FrameworkVersion = version;
  return out;
}

/** Read CreateCompilationJob's OutputConfig: exactly one of TargetDevice and TargetPlatform. */
function readOutputConfig(f: Fields): CompilationJobRecord['OutputConfig'] {
  const o = f.object('OutputConfig', true);
  const out: CompilationJobRecord['OutputConfig'] = { S3OutputLocation: o.string('S3OutputLocation', { required: true, max: 1024, pattern: S3_URI }) };
  const device = o.enumOf('TargetDevice', TARGET_DEVICES);
  const platform = o.object('TargetPlatform');
  if ((device === undefined) === (platform === undefined)) throw validationError('OutputConfig must specify exactly one of TargetDevice and TargetPlatform.');
  if (device !== undefined) out.TargetDevice = device;
  if (platform) {
    const p = { Os: platform.enumOf('Os', ['ANDROID', 'LINUX'], true) as string, Arch: platform.enumOf('Arch', ['X86_64', 'X86', 'ARM64', 'ARM_EABI', 'ARM_EABIHF'], true) as string } as { Os: string; Arch: string; Accelerator?: string };
    const acc = platform.enumOf('Accelerator', ['INTEL_GRAPHICS', 'MALI', 'NVIDIA', 'NNA']);
    if (acc !== undefined) p.Accelerator = acc;
    out.TargetPlatform = p;
  }
  const options = o.string('CompilerOptions', { min: 3, max: 1024 });
  if (options !== undefined) {
    compileOptions(options);
    out.CompilerOptions = options;
  }
  const kms = o.string('KmsKeyId', { max: 2048 });
  if (kms !== undefined) out.KmsKeyId = kms;
  return out;
}

/** The operations on compilation and edge packaging jobs. */
export function edgeJobOperations(deps: EdgeJobDeps, runner: EdgeJobRunner): Record<string, Operation> {
  const { clock, region, accountId, compilations, packagings, limits } = deps;
  const jobName = (f: Fields, member: string) => f.string(member, { required: true, min: 1, max: 63, pattern: NAME });
  const compilationOf = (name: string) => {
    const j = compilations.get(name);
    if (!j) throw resourceNotFound(`Compilation job ${name} does not exist.`);
    return j;
  };
  const checkCapacity = () => {
    const active = runner.activeCount();
    if (active >= limits.activeJobs) throw resourceLimitExceeded(`${active} compilation and packaging jobs are already running (limit ${limits.activeJobs}); wait for one to finish.`);
  };

  return {
    CreateCompilationJob(f) {
      const name = jobName(f, 'CompilationJobName');
      const roleArn = f.string('RoleArn', { required: true, min: 20, max: 2048, pattern: ROLE_ARN });
      const modelPackage = f.string('ModelPackageVersionArn');
      if (modelPackage !== undefined) throw validationError('ModelPackageVersionArn is not supported by the local cloud; give InputConfig.S3Uri.');
      const inputConfig = readInputConfig(f);
      const outputConfig = readOutputConfig(f);
      const sc = f.object('StoppingCondition', true);
      const stopping = {
        MaxRuntimeInSeconds: sc.integer('MaxRuntimeInSeconds', 1, 2419200),
        MaxWaitTimeInSeconds: sc.integer('MaxWaitTimeInSeconds', 1, 2419200),
        MaxPendingTimeInSeconds: sc.integer('MaxPendingTimeInSeconds', 7200, 2419200),
      };
      const vpc = f.object('VpcConfig')?.body;
      const tags = f.tags() ?? [];
      if (compilations.get(name)) throw resourceInUse(`Compilation job ${name} already exists.`);
      checkCapacity();
      const now = clock.now();
      const arn = sageMakerArn(region, accountId, 'compilation-job', name.toLowerCase());
      compilations.put(name, {
        CompilationJobName: name,
        CompilationJobArn: arn,
        RoleArn: roleArn,
        InputConfig: inputConfig,
        OutputConfig: outputConfig,
        StoppingCondition: Object.fromEntries(Object.entries(stopping).filter(([, v]) => v !== undefined)),
        VpcConfig: vpc,
        Tags: tags,
        status: 'STARTING',
        failureReason: '',
        creationTime: now,
        lastModifiedTime: now,
      });
      runner.schedule('compilation', name);
      return { CompilationJobArn: arn };
    },
    DescribeCompilationJob(f) {
      return describeCompilation(compilationOf(jobName(f, 'CompilationJobName')));
    },
    ListCompilationJobs(f) {
      const paging = readPaging(f);
      const filters = readListFilters(f);
      const status = f.enumOf('StatusEquals', COMPILATION_STATUSES);
      const sortKey = f.enumOf('SortBy', ['Name', 'CreationTime', 'Status']) ?? 'CreationTime';
      const descending = f.enumOf('SortOrder', ['Ascending', 'Descending']) === 'Descending';
      const matching = applyListFilters(compilations.values(), filters, (j) => j.CompilationJobName, (j) => j.creationTime, (j) => j.lastModifiedTime).filter(
        (j) => status === undefined || j.status === status,
      );
      const key = (j: CompilationJobRecord) => (sortKey === 'Name' ? j.CompilationJobName : sortKey === 'Status' ? j.status : j.creationTime);
      const { page, NextToken } = paginate(sortBy(matching, key, descending, (j) => j.CompilationJobName), paging.nextToken, paging.max);
      return {
        CompilationJobSummaries: page.map((j) => ({
          CompilationJobName: j.CompilationJobName,
          CompilationJobArn: j.CompilationJobArn,
          CreationTime: wireTime(j.creationTime),
          CompilationStartTime: wireTime(j.startTime),
          CompilationEndTime: wireTime(j.endTime),
          CompilationTargetDevice: j.OutputConfig.TargetDevice,
          CompilationTargetPlatformOs: j.OutputConfig.TargetPlatform?.Os,
          CompilationTargetPlatformArch: j.OutputConfig.TargetPlatform?.Arch,
          CompilationTargetPlatformAccelerator: j.OutputConfig.TargetPlatform?.Accelerator,
          LastModifiedTime: wireTime(j.lastModifiedTime),
          CompilationJobStatus: j.status,
        })),
        NextToken,
      };
    },
    StopCompilationJob(f) {
      const name = jobName(f, 'CompilationJobName');
      const job = compilationOf(name);
      if (job.status !== 'STARTING' && job.status !== 'INPROGRESS') throw validationError(`Compilation job ${name} is ${job.status} and cannot be stopped.`);
      runner.stopCompilation(name);
    },
    CreateEdgePackagingJob(f) {
      const name = jobName(f, 'EdgePackagingJobName');
      const compilationName = jobName(f, 'CompilationJobName');
      const modelName = f.string('ModelName', { required: true, min: 1, max: 63, pattern: NAME });
      const modelVersion = f.string('ModelVersion', { required: true, min: 1, max: 30, pattern: MODEL_VERSION });
      const roleArn = f.string('RoleArn', { required: true, min: 20, max: 2048, pattern: ROLE_ARN });
      const output = readEdgeOutputConfig(f, 'OutputConfig', true) as EdgePackagingJobRecord['OutputConfig'];
      const resourceKey = f.string('ResourceKey', { max: 2048 });
      const tags = f.tags() ?? [];
      if (packagings.get(name)) throw validationError(`Edge packaging job ${name} already exists.`);
      const compilation = compilations.get(compilationName);
      if (!compilation) throw validationError(`Compilation job ${compilationName} does not exist.`);
      if (compilation.status !== 'COMPLETED') throw validationError(`Compilation job ${compilationName} is ${compilation.status}; an edge packaging job needs a COMPLETED one.`);
      checkCapacity();
      const now = clock.now();
      const arn = sageMakerArn(region, accountId, 'edge-packaging-job', name.toLowerCase());
      packagings.put(name, {
        EdgePackagingJobName: name,
        EdgePackagingJobArn: arn,
        CompilationJobName: compilationName,
        ModelName: modelName,
        ModelVersion: modelVersion,
        RoleArn: roleArn,
        OutputConfig: output,
        ResourceKey: resourceKey,
        Tags: tags,
        status: 'STARTING',
        creationTime: now,
        lastModifiedTime: now,
      });
      runner.schedule('packaging', name);
    },
    DescribeEdgePackagingJob(f) {
      const name = jobName(f, 'EdgePackagingJobName');
      const j = packagings.get(name);
      if (!j) throw resourceNotFound(`Edge packaging job ${name} does not exist.`);
      return describePackaging(j);
    },
    ListEdgePackagingJobs(f) {
      const nextToken = f.string('NextToken', { max: 8192 });
      const max = f.integer('MaxResults', 0, 100) || 10;
      const filters = readListFilters(f);
      const modelContains = f.string('ModelNameContains', { max: 63 })?.toLowerCase();
      const status = f.enumOf('StatusEquals', PACKAGING_STATUSES);
      const sortKey = f.enumOf('SortBy', ['NAME', 'MODEL_NAME', 'CREATION_TIME', 'LAST_MODIFIED_TIME', 'STATUS']) ?? 'CREATION_TIME';
      const descending = f.enumOf('SortOrder', ['Ascending', 'Descending']) === 'Descending';
      const matching = applyListFilters(packagings.values(), filters, (j) => j.EdgePackagingJobName, (j) => j.creationTime, (j) => j.lastModifiedTime).filter(
        (j) => (status === undefined || j.status === status) && (modelContains === undefined || j.ModelName.toLowerCase().includes(modelContains)),
      );
      const key = (j: EdgePackagingJobRecord): string | number =>
        sortKey === 'NAME' ? j.EdgePackagingJobName : sortKey === 'MODEL_NAME' ? j.ModelName : sortKey === 'STATUS' ? j.status : sortKey === 'LAST_MODIFIED_TIME' ? j.lastModifiedTime : j.creationTime;
      const { page, NextToken } = paginate(sortBy(matching, key, descending, (j) => j.EdgePackagingJobName), nextToken, max);
      return {
        EdgePackagingJobSummaries: page.map((j) => ({
          EdgePackagingJobArn: j.EdgePackagingJobArn,
          EdgePackagingJobName: j.EdgePackagingJobName,
          EdgePackagingJobStatus: j.status,
          CompilationJobName: j.CompilationJobName,
          ModelName: j.ModelName,
          ModelVersion: j.ModelVersion,
          CreationTime: wireTime(j.creationTime),
          LastModifiedTime: wireTime(j.lastModifiedTime),
        })),
        NextToken,
      };
    },
  };
}
