/**
 * Runs compilation and edge packaging jobs. A job is created STARTING; startDelayMs of cloud time later it
 * turns INPROGRESS and its work runs (one job at a time, in real time: the toolchain is real work); then
 * COMPLETED, or FAILED with a reason. A compilation job reads a tar.gz of a model directory (or a prefix
 * holding one), compiles it with the toolchain and writes `<input name>-<target>.tar.gz` (model.onnx, any
 * file the compiler wrote beside it, and the detector's description files). A packaging job takes a
 * COMPLETED compilation job's artifact, has the toolchain package and sign it, and writes
 * `<ModelName>-<ModelVersion>.tar.gz`.
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
import { validationError } from './errors';
import type { CompilationJobRecord, EdgePackagingJobRecord, JobStatus } from './records';
import type { CompileOptions, EdgeToolchain } from './toolchain';

/** Frameworks our compiler takes: a tfjs layers-model directory (Keras/TensorFlow models converted to tfjs). */
const COMPILABLE = ['TENSORFLOW', 'KERAS'];
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

/** Which of the two job families. */
export type EdgeJobKind = 'compilation' | 'packaging';
type Kind = EdgeJobKind;

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
