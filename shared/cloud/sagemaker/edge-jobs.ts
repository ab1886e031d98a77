/**
 * Compilation and edge packaging jobs: CreateCompilationJob, DescribeCompilationJob, ListCompilationJobs,
 * StopCompilationJob, CreateEdgePackagingJob, DescribeEdgePackagingJob, ListEdgePackagingJobs.
 *
 * Here: reading and checking the requests, the Describe and List answers, the limits. The jobs' life
 * (STARTING, INPROGRESS, COMPLETED or FAILED, what they read and write, recovery after a restart) is in
 * edge-job-runner.ts.
 */
import type { Operation } from './respond';
import { type EdgeJobDeps, type EdgeJobRunner, compileOptions } from './edge-job-runner';
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
} from './records';
import { MODEL_VERSION, NAME, ROLE_ARN, S3_URI, type Fields } from './validate';

export { compileOptions, DEFAULT_EDGE_JOB_LIMITS, EdgeJobRunner, type EdgeJobDeps, type EdgeJobKind, type EdgeJobLimits } from './edge-job-runner';

export const FRAMEWORKS = ['TENSORFLOW', 'KERAS', 'MXNET', 'ONNX', 'PYTORCH', 'XGBOOST', 'TFLITE', 'DARKNET', 'SKLEARN'] as const;
export const TARGET_DEVICES = [
  'lambda', 'ml_m4', 'ml_m5', 'ml_m6g', 'ml_c4', 'ml_c5', 'ml_c6g', 'ml_p2', 'ml_p3', 'ml_g4dn', 'ml_inf1', 'ml_inf2', 'ml_trn1', 'ml_eia2',
  'jetson_tx1', 'jetson_tx2', 'jetson_nano', 'jetson_xavier', 'rasp3b', 'rasp4b', 'imx8qm', 'deeplens', 'rk3399', 'rk3288', 'aisage',
  'sbe_c', 'qcs605', 'qcs603', 'sitara_am57x', 'amba_cv2', 'amba_cv22', 'amba_cv25', 'x86_win32', 'x86_win64', 'coreml', 'jacinto_tda4vm', 'imx8mplus',
] as const;

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
