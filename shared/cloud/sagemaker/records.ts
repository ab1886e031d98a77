/**
 * Records of the SageMaker subset as the local cloud stores them (one state-store collection each), and
 * the helpers every list operation shares: ARNs, wire timestamps, name filters, sorting and paging.
 * Times are kept in epoch milliseconds of the cloud clock and sent as epoch seconds.
 */
import { validationError } from './errors';
import type { Fields } from './validate';

export type Tag = { Key: string; Value: string };

/** EdgeOutputConfig of fleets and packaging jobs. */
export interface EdgeOutputConfig {
  S3OutputLocation: string;
  KmsKeyId?: string;
  PresetDeploymentType?: string;
  PresetDeploymentConfig?: string;
}

export interface DeviceFleetRecord {
  DeviceFleetName: string;
  DeviceFleetArn: string;
  RoleArn?: string;
  Description?: string;
  OutputConfig: EdgeOutputConfig;
  IotRoleAlias?: string;
  Tags: Tag[];
  creationTime: number;
  lastModifiedTime: number;
}

export interface DeviceModel {
  ModelName: string;
  ModelVersion: string;
  latestSampleTime?: number;
  latestInference?: number;
  /** Inference count in the last heartbeat (to tell when the model last ran). */
  inferences?: number;
}

export interface DeviceRecord {
  DeviceName: string;
  DeviceArn: string;
  DeviceFleetName: string;
  Description?: string;
  IotThingName?: string;
  registrationTime: number;
  latestHeartbeat?: number;
  AgentVersion?: string;
  Models: DeviceModel[];
  /** Capture count in the last heartbeat (to tell when the device last sampled). */
  captured?: number;
}

export const COMPILATION_STATUSES = ['INPROGRESS', 'COMPLETED', 'FAILED', 'STARTING', 'STOPPING', 'STOPPED'] as const;
export type JobStatus = (typeof COMPILATION_STATUSES)[number];
/** Edge packaging jobs use the same six statuses. */
export const PACKAGING_STATUSES = ['STARTING', 'INPROGRESS', 'COMPLETED', 'FAILED', 'STOPPING', 'STOPPED'] as const;

export interface CompilationJobRecord {
  CompilationJobName: string;
  CompilationJobArn: string;
  RoleArn: string;
  InputConfig: Record<string, unknown> & { S3Uri: string; Framework: string };
  OutputConfig: Record<string, unknown> & {
    S3OutputLocation: string;
    TargetDevice?: string;
    TargetPlatform?: { Os: string; Arch: string; Accelerator?: string };
    CompilerOptions?: string;
  };
  StoppingCondition: { MaxRuntimeInSeconds?: number; MaxWaitTimeInSeconds?: number; MaxPendingTimeInSeconds?: number };
  VpcConfig?: unknown;
  Tags: Tag[];
  status: JobStatus;
  failureReason: string;
  creationTime: number;
  lastModifiedTime: number;
  startTime?: number;
  endTime?: number;
  /** S3 URI of the compiled artifact once COMPLETED. */
  artifact?: string;
  /** sha256 of the compiled artifact, hex. */
  artifactDigest?: string;
}

export interface EdgePackagingJobRecord {
  EdgePackagingJobName: string;
  EdgePackagingJobArn: string;
  CompilationJobName: string;
  ModelName: string;
  ModelVersion: string;
  RoleArn: string;
  OutputConfig: EdgeOutputConfig;
  ResourceKey?: string;
  Tags: Tag[];
  status: JobStatus;
  statusMessage?: string;
  creationTime: number;
  lastModifiedTime: number;
  artifact?: string;
  signature?: string;
}

export interface ModelPackageGroupRecord {
  ModelPackageGroupName: string;
  ModelPackageGroupArn: string;
  ModelPackageGroupDescription?: string;
  Tags: Tag[];
  creationTime: number;
  /** Highest version number issued so far (versions are never reused). */
  lastVersion: number;
}

export const APPROVAL_STATUSES = ['Approved', 'Rejected', 'PendingManualApproval'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export interface ModelPackageRecord {
  ModelPackageArn: string;
  ModelPackageName: string;
  ModelPackageGroupName?: string;
  ModelPackageVersion?: number;
  ModelPackageDescription?: string;
  ModelApprovalStatus?: ApprovalStatus;
  ApprovalDescription?: string;
  InferenceSpecification?: unknown;
  ModelMetrics?: unknown;
  MetadataProperties?: unknown;
  CustomerMetadataProperties?: Record<string, string>;
  ClientToken?: string;
  Tags: Tag[];
  creationTime: number;
  lastModifiedTime?: number;
}

/** Collection names in the cloud's state store. */
export const COLLECTIONS = {
  fleets: 'sagemaker-device-fleets',
  devices: 'sagemaker-devices',
  compilationJobs: 'sagemaker-compilation-jobs',
  packagingJobs: 'sagemaker-edge-packaging-jobs',
  groups: 'sagemaker-model-package-groups',
  packages: 'sagemaker-model-packages',
} as const;

/** A SageMaker ARN: arn:aws:sagemaker:<region>:<account>:<type>/<name>. */
export function sageMakerArn(region: string, accountId: string, type: string, name: string): string {
  return `arn:aws:sagemaker:${region}:${accountId}:${type}/${name}`;
}

/** Epoch milliseconds → the wire's epoch seconds. */
export function wireTime(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

/** The common list filters: NameContains, Creation/LastModifiedTime After/Before. */
export interface ListFilters {
  nameContains?: string;
  creationAfter?: number;
  creationBefore?: number;
  modifiedAfter?: number;
  modifiedBefore?: number;
}

/** Read the common filters from a List* request. */
export function readListFilters(f: Fields): ListFilters {
  return {
    nameContains: f.string('NameContains', { max: 63 }),
    creationAfter: f.time('CreationTimeAfter'),
    creationBefore: f.time('CreationTimeBefore'),
    modifiedAfter: f.time('LastModifiedTimeAfter'),
    modifiedBefore: f.time('LastModifiedTimeBefore'),
  };
}

/** Apply the common filters (names compare case-insensitively, as SageMaker does). */
export function applyListFilters<T>(items: T[], filters: ListFilters, name: (t: T) => string, created: (t: T) => number, modified: (t: T) => number | undefined): T[] {
  const needle = filters.nameContains?.toLowerCase();
  return items.filter((t) => {
    if (needle !== undefined && !name(t).toLowerCase().includes(needle)) return false;
    if (filters.creationAfter !== undefined && !(created(t) > filters.creationAfter)) return false;
    if (filters.creationBefore !== undefined && !(created(t) < filters.creationBefore)) return false;
    const m = modified(t) ?? created(t);
    if (filters.modifiedAfter !== undefined && !(m > filters.modifiedAfter)) return false;
    if (filters.modifiedBefore !== undefined && !(m < filters.modifiedBefore)) return false;
    return true;
  });
}

/** Sort by a key (ties broken by tie, then insertion order); descending reverses both. */
export function sortBy<T>(items: T[], key: (t: T) => string | number, descending: boolean, tie: (t: T) => string | number = () => 0): T[] {
  const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...items].sort((a, b) => cmp(key(a), key(b)) || cmp(tie(a), tie(b)));
  return descending ? sorted.reverse() : sorted;
}

/** One page after NextToken (an opaque offset this API issued), at most max long. */
export function paginate<T>(items: T[], nextToken: string | undefined, max: number): { page: T[]; NextToken?: string } {
  let start = 0;
  if (nextToken !== undefined) {
    const decoded = /^offset:(\d+)$/.exec(Buffer.from(nextToken, 'base64').toString('utf8'));
    if (!decoded) throw validationError(`NextToken "${nextToken}" is not a token this API returned`);
    start = Number(decoded[1]);
  }
  const page = items.slice(start, start + max);
  const end = start + page.length;
  return end < items.length ? { page, NextToken: Buffer.from(`offset:${end}`).toString('base64') } : { page };
}

/** NextToken and MaxResults (1..100, default 10) of a List* request. */
export function readPaging(f: Fields, defaultMax = 10): { nextToken?: string; max: number } {
  const nextToken = f.string('NextToken', { max: 8192 });
  const max = f.integer('MaxResults', 1, 100) ?? defaultMax;
  return { nextToken, max };
}
