/**
 * The model registry: CreateModelPackageGroup, DescribeModelPackageGroup, ListModelPackageGroups,
 * CreateModelPackage, DescribeModelPackage, ListModelPackages, UpdateModelPackage. Packages created in a
 * group are versioned 1, 2, ... (ARN `model-package/<group>/<n>`); approval status moves between
 * PendingManualApproval, Approved and Rejected. Unknown groups and packages are ValidationException, as
 * SageMaker answers where no error is modeled.
 */
import type { Clock, Collection } from '../contracts';
import { conflict, resourceLimitExceeded, validationError } from './errors';
import {
  APPROVAL_STATUSES,
  applyListFilters,
  paginate,
  readPaging,
  sageMakerArn,
  sortBy,
  wireTime,
  type ModelPackageGroupRecord,
  type ModelPackageRecord,
} from './records';
import type { Operation } from './respond';
import { constraintError, Fields, isObject, NAME, S3_URI } from './validate';

export interface RegistryLimits {
  /** Most model package groups (default 1000). */
  modelPackageGroups: number;
  /** Most versions in one group (default 10000). */
  versionsPerGroup: number;
}

export const DEFAULT_REGISTRY_LIMITS: RegistryLimits = { modelPackageGroups: 1000, versionsPerGroup: 10000 };

export interface RegistryDeps {
  clock: Clock;
  region: string;
  accountId: string;
  groups: Collection<ModelPackageGroupRecord>;
  packages: Collection<ModelPackageRecord>;
  limits: RegistryLimits;
}

const GROUP_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:model-package-group\/(.+)$/;
const PACKAGE_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:model-package\/(.+)$/;
/** ModelPackageName/ModelPackageGroupName given as a name or an ARN (1–170). */
const NAME_OR_ARN = /^(arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:[a-z\-]*\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)(\/[0-9]{1,14})?$/;
const DESCRIPTION = /^[\p{L}\p{M}\p{Z}\p{S}\p{N}\p{P}]*$/u;
const METADATA_KEY = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;
const METADATA_VALUE = /^([\s\S]*)$/;

/** Record key of a package: `<group>/<version>` for versioned ones, the name for unversioned ones. */
function packageKey(r: Pick<ModelPackageRecord, 'ModelPackageName' | 'ModelPackageGroupName' | 'ModelPackageVersion'>): string {
  const key = r.ModelPackageVersion !== undefined ? `${r.ModelPackageGroupName}/${r.ModelPackageVersion}` : r.ModelPackageName;
  // Names are unique regardless of case, as their lowercased ARNs are.
  return key.toLowerCase();
}

/** Check ModelMetrics: every metrics file ({ContentType, S3Uri, ContentDigest}) names both members. */
function checkMetricsFiles(value: unknown, path: string): void {
  if (!isObject(value)) throw constraintError(path, value, 'Member must be a structure');
  if ('S3Uri' in value || 'ContentType' in value) {
    const f = new Fields(value, path);
    f.string('ContentType', { required: true, min: 1, max: 256 });
    f.string('S3Uri', { required: true, max: 1024, pattern: S3_URI });
    f.string('ContentDigest', { max: 72 });
    return;
  }
  for (const [k, v] of Object.entries(value)) checkMetricsFiles(v, `${path}.${k}`);
}

/** Check an InferenceSpecification: Containers 1–15, each with an Image. */
function readInferenceSpecification(f: Fields, required = false): unknown {
  const spec = f.object('InferenceSpecification', required);
  if (!spec) return undefined;
  spec.structures('Containers', { required: true, min: 1, max: 15 }, (c) => {
    c.string('Image', { required: true, max: 255, pattern: /^[\S]+$/ });
    c.string('ModelDataUrl', { max: 1024, pattern: /^(https|s3):\/\/([^/]+)\/?(.*)$/ });
    c.string('Framework');
    c.string('FrameworkVersion', { min: 3, max: 10 });
  });
  spec.strings('SupportedContentTypes', {}, { max: 256 });
  spec.strings('SupportedResponseMIMETypes', {}, { max: 1024 });
  return spec.body;
}

function readCustomerMetadata(f: Fields, name: string): Record<string, string> | undefined {
  return f.stringMap(name, 50, { min: 1, max: 128, pattern: METADATA_KEY }, { min: 1, max: 256, pattern: METADATA_VALUE });
}

function describeGroup(g: ModelPackageGroupRecord, accountId: string): Record<string, unknown> {
  return {
    ModelPackageGroupName: g.ModelPackageGroupName,
    ModelPackageGroupArn: g.ModelPackageGroupArn,
    ModelPackageGroupDescription: g.ModelPackageGroupDescription,
    CreationTime: wireTime(g.creationTime),
    CreatedBy: { UserProfileArn: undefined, UserProfileName: undefined, DomainId: undefined, IamIdentity: { Arn: `arn:aws:iam::${accountId}:root` } },
    ModelPackageGroupStatus: 'Completed',
  };
}

/** What ListModelPackages says of a package (DescribeModelPackage says this and more). */
function packageSummary(p: ModelPackageRecord): Record<string, unknown> {
  return {
    ModelPackageName: p.ModelPackageName,
    ModelPackageGroupName: p.ModelPackageGroupName,
    ModelPackageVersion: p.ModelPackageVersion,
    ModelPackageArn: p.ModelPackageArn,
    ModelPackageDescription: p.ModelPackageDescription,
    CreationTime: wireTime(p.creationTime),
    ModelPackageStatus: 'Completed',
    ModelApprovalStatus: p.ModelApprovalStatus,
  };
}

/** The operations of the model registry. */
export function registryOperations(deps: RegistryDeps): Record<string, Operation> {
  const { clock, region, accountId, groups, packages, limits } = deps;

  /** A group by name or ARN; ValidationException when unknown. */
  const groupOf = (nameOrArn: string): ModelPackageGroupRecord => {
    const name = GROUP_ARN.exec(nameOrArn)?.[1] ?? nameOrArn;
    const g = groups.get(name.toLowerCase());
    if (!g) throw validationError(`Model Package Group ${name} does not exist.`);
    return g;
  };

  /** A package by ARN, `<group>/<version>` or unversioned name; ValidationException when unknown. */
  const packageOf = (ref: string): ModelPackageRecord => {
    const key = PACKAGE_ARN.exec(ref)?.[1] ?? ref;
    const p = packages.get(key.toLowerCase());
    if (!p) throw validationError(`Model Package ${ref} does not exist.`);
    return p;
  };

  return {
    CreateModelPackageGroup(f) {
      const name = f.string('ModelPackageGroupName', { required: true, min: 1, max: 63, pattern: NAME });
      const description = f.string('ModelPackageGroupDescription', { max: 1024, pattern: DESCRIPTION });
      const tags = f.tags() ?? [];
      if (groups.get(name.toLowerCase())) throw validationError(`Model Package Group ${name} already exists.`);
      if (groups.size() >= limits.modelPackageGroups) throw resourceLimitExceeded(`The account already has ${groups.size()} model package groups (limit ${limits.modelPackageGroups}).`);
      const arn = sageMakerArn(region, accountId, 'model-package-group', name.toLowerCase());
      groups.put(name.toLowerCase(), { ModelPackageGroupName: name, ModelPackageGroupArn: arn, ModelPackageGroupDescription: description, Tags: tags, creationTime: clock.now(), lastVersion: 0 });
      return { ModelPackageGroupArn: arn };
    },
    DescribeModelPackageGroup(f) {
      const ref = f.string('ModelPackageGroupName', { required: true, min: 1, max: 170, pattern: NAME_OR_ARN });
      return describeGroup(groupOf(ref), accountId);
    },
    ListModelPackageGroups(f) {
      const paging = readPaging(f);
      const filters = { nameContains: f.string('NameContains', { max: 63 }), creationAfter: f.time('CreationTimeAfter'), creationBefore: f.time('CreationTimeBefore') };
      const sortKey = f.enumOf('SortBy', ['Name', 'CreationTime']) ?? 'CreationTime';
      const descending = f.enumOf('SortOrder', ['Ascending', 'Descending']) === 'Descending';
      f.string('CrossAccountFilterOption');
      const matching = applyListFilters(groups.values(), filters, (g) => g.ModelPackageGroupName, (g) => g.creationTime, () => undefined);
      const sorted = sortBy(matching, (g) => (sortKey === 'Name' ? g.ModelPackageGroupName : g.creationTime), descending, (g) => g.ModelPackageGroupName);
      const { page, NextToken } = paginate(sorted, paging.nextToken, paging.max);
      return {
        ModelPackageGroupSummaryList: page.map((g) => {
          const { CreatedBy, ...summary } = describeGroup(g, accountId);
          void CreatedBy;
          return summary;
        }),
        NextToken,
      };
    },
    CreateModelPackage(f) {
      const name = f.string('ModelPackageName', { min: 1, max: 63, pattern: NAME });
      const groupRef = f.string('ModelPackageGroupName', { min: 1, max: 170, pattern: NAME_OR_ARN });
      const description = f.string('ModelPackageDescription', { max: 1024, pattern: DESCRIPTION });
      const approval = f.enumOf('ModelApprovalStatus', APPROVAL_STATUSES);
      const inference = readInferenceSpecification(f);
      const metricsField = f.object('ModelMetrics');
      if (metricsField) checkMetricsFiles(metricsField.body, 'ModelMetrics');
      const customer = readCustomerMetadata(f, 'CustomerMetadataProperties');
      const metadata = f.object('MetadataProperties')?.body;
      const clientToken = f.string('ClientToken', { min: 1, max: 36, pattern: /^[a-zA-Z0-9-]+$/ });
      const tags = f.tags() ?? [];
      if (name !== undefined && groupRef !== undefined) throw validationError('Specify either ModelPackageName (unversioned) or ModelPackageGroupName (versioned), not both.');
      if (name === undefined && groupRef === undefined) throw validationError('Specify ModelPackageGroupName to create a versioned model package, or ModelPackageName for an unversioned one.');
      if (clientToken !== undefined) {
        const earlier = packages.values().find((p) => p.ClientToken === clientToken);
        if (earlier) {
          const target = (groupRef !== undefined ? GROUP_ARN.exec(groupRef)?.[1] ?? groupRef : name) as string;
          const same = (groupRef !== undefined ? earlier.ModelPackageGroupName : earlier.ModelPackageVersion === undefined ? earlier.ModelPackageName : undefined)?.toLowerCase() === target.toLowerCase();
          if (!same) throw conflict(`ClientToken ${clientToken} was already used to create ${earlier.ModelPackageArn}.`);
          return { ModelPackageArn: earlier.ModelPackageArn };
        }
      }
      const now = clock.now();
      const common = {
        ModelPackageDescription: description,
        InferenceSpecification: inference,
        ModelMetrics: metricsField?.body,
        MetadataProperties: metadata,
        CustomerMetadataProperties: customer,
        ClientToken: clientToken,
        Tags: tags,
        creationTime: now,
        lastModifiedTime: now,
      };
      let record: ModelPackageRecord;
      if (groupRef !== undefined) {
        const group = groupOf(groupRef);
        if (group.lastVersion >= limits.versionsPerGroup) throw resourceLimitExceeded(`Model Package Group ${group.ModelPackageGroupName} already has ${group.lastVersion} versions (limit ${limits.versionsPerGroup}).`);
        const version = group.lastVersion + 1;
        record = {
          ...common,
          ModelPackageName: group.ModelPackageGroupName,
          ModelPackageGroupName: group.ModelPackageGroupName,
          ModelPackageVersion: version,
          ModelPackageArn: sageMakerArn(region, accountId, 'model-package', `${group.ModelPackageGroupName.toLowerCase()}/${version}`),
          // Versioned packages start pending approval unless told otherwise, as SageMaker does.
          ModelApprovalStatus: approval ?? 'PendingManualApproval',
        };
        groups.put(group.ModelPackageGroupName.toLowerCase(), { ...group, lastVersion: version });
      } else {
        const unversioned = name as string;
        if (packages.get(unversioned.toLowerCase())) throw validationError(`Model Package ${unversioned} already exists.`);
        record = { ...common, ModelPackageName: unversioned, ModelPackageArn: sageMakerArn(region, accountId, 'model-package', unversioned.toLowerCase()), ModelApprovalStatus: approval };
      }
      packages.put(packageKey(record), record);
      return { ModelPackageArn: record.ModelPackageArn };
    },
    DescribeModelPackage(f) {
      const ref = f.string('ModelPackageName', { required: true, min: 1, max: 170, pattern: NAME_OR_ARN });
      const p = packageOf(ref);
      return {
        ...packageSummary(p),
        InferenceSpecification: p.InferenceSpecification,
        ModelPackageStatusDetails: { ValidationStatuses: [] },
        CertifyForMarketplace: false,
        ApprovalDescription: p.ApprovalDescription,
        MetadataProperties: p.MetadataProperties,
        ModelMetrics: p.ModelMetrics,
        LastModifiedTime: wireTime(p.lastModifiedTime),
        CustomerMetadataProperties: p.CustomerMetadataProperties,
      };
    },
    ListModelPackages(f) {
      const paging = readPaging(f);
      const filters = { nameContains: f.string('NameContains', { max: 63 }), creationAfter: f.time('CreationTimeAfter'), creationBefore: f.time('CreationTimeBefore') };
      const approval = f.enumOf('ModelApprovalStatus', APPROVAL_STATUSES);
      const groupRef = f.string('ModelPackageGroupName', { min: 1, max: 170, pattern: NAME_OR_ARN });
      const type = f.enumOf('ModelPackageType', ['Versioned', 'Unversioned', 'Both']);
      const sortKey = f.enumOf('SortBy', ['Name', 'CreationTime']) ?? 'CreationTime';
      const descending = f.enumOf('SortOrder', ['Ascending', 'Descending']) === 'Descending';
      const group = groupRef !== undefined ? groupOf(groupRef).ModelPackageGroupName : undefined;
      // With a group the versions of that group are listed; without one SageMaker defaults to unversioned.
      const kind = type ?? (group !== undefined ? 'Versioned' : 'Unversioned');
      const matching = applyListFilters(packages.values(), filters, (p) => p.ModelPackageName, (p) => p.creationTime, () => undefined).filter(
        (p) =>
          (group === undefined || p.ModelPackageGroupName === group) &&
          (approval === undefined || p.ModelApprovalStatus === approval) &&
          (kind === 'Both' || (kind === 'Versioned') === (p.ModelPackageVersion !== undefined)),
      );
      // Versions created in the same instant still sort by version number.
      const sorted = sortBy(matching, (p) => (sortKey === 'Name' ? p.ModelPackageName : p.creationTime), descending, (p) => p.ModelPackageVersion ?? 0);
      const { page, NextToken } = paginate(sorted, paging.nextToken, paging.max);
      return { ModelPackageSummaryList: page.map(packageSummary), NextToken };
    },
    UpdateModelPackage(f) {
      const arn = f.string('ModelPackageArn', { required: true, min: 1, max: 2048, pattern: PACKAGE_ARN });
      const approval = f.enumOf('ModelApprovalStatus', APPROVAL_STATUSES);
      const approvalDescription = f.string('ApprovalDescription', { max: 1024, pattern: DESCRIPTION });
      const add = readCustomerMetadata(f, 'CustomerMetadataProperties');
      const remove = f.strings('CustomerMetadataPropertiesToRemove', {}, { min: 1, max: 128, pattern: METADATA_KEY });
      const inference = readInferenceSpecification(f);
      f.string('ClientToken', { min: 1, max: 36 });
      const p = packageOf(arn);
      if (approval === undefined && approvalDescription === undefined && add === undefined && remove === undefined && inference === undefined) {
        throw validationError('UpdateModelPackage: nothing to update (give ModelApprovalStatus, ApprovalDescription, CustomerMetadataProperties, CustomerMetadataPropertiesToRemove or InferenceSpecification).');
      }
      const metadata = { ...(p.CustomerMetadataProperties ?? {}), ...(add ?? {}) };
      for (const k of remove ?? []) delete metadata[k];
      const updated: ModelPackageRecord = {
        ...p,
        ModelApprovalStatus: approval ?? p.ModelApprovalStatus,
        ApprovalDescription: approvalDescription ?? p.ApprovalDescription,
        CustomerMetadataProperties: Object.keys(metadata).length > 0 ? metadata : undefined,
        InferenceSpecification: inference ?? p.InferenceSpecification,
        lastModifiedTime: clock.now(),
      };
      packages.put(packageKey(updated), updated);
      return { ModelPackageArn: updated.ModelPackageArn };
    },
  };
}
