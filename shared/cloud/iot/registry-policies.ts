/**
 * IoT policies and their versions.
 */
import { seconds, page } from './registry-base';
import { RegistryCertificates } from './registry-certificates';
import { parsePolicyDocument } from './policy';
import { alreadyExists, invalidRequest, IotError, notFound } from './registry-errors';
import { checkPolicyName, checkTags, MAX_POLICY_VERSIONS, quote } from './registry-validation';
import type { PolicyRecord } from './registry-records';

/** IoT policies and their versions. */
export abstract class RegistryPolicies extends RegistryCertificates {
  protected policyOrThrow(name: string): PolicyRecord {
    const policy = this.policies.get(name);
    if (!policy) throw notFound(`Policy ${name} cannot be found.`);
    return policy;
  }

  protected checkDocument(value: unknown): string {
    if (typeof value !== 'string' || value.length === 0) throw invalidRequest('policyDocument is required and must be a string holding the JSON policy.');
    try {
      parsePolicyDocument(value);
    } catch (err) {
      throw new IotError('MalformedPolicyException', `Policy document is malformed: ${(err as Error).message}`);
    }
    return value;
  }

  protected defaultDocument(policy: PolicyRecord): string {
    return (policy.versions.find((v) => v.versionId === policy.defaultVersionId) ?? policy.versions[0]).document;
  }

  /** CreatePolicy: the document must parse as an AWS IoT policy (MalformedPolicyException otherwise). */
  createPolicy(policyName: unknown, body: Record<string, unknown>): Record<string, unknown> {
    const name = checkPolicyName(policyName);
    const document = this.checkDocument(body.policyDocument);
    checkTags(body.tags);
    const existing = this.policies.get(name);
    if (existing) throw alreadyExists(`Policy ${name} already exists.`, name, this.arns.policy(name));
    const now = this.clock.now();
    this.policies.put(name, {
      policyName: name,
      versions: [{ versionId: '1', document, createDate: now }],
      defaultVersionId: '1',
      nextVersionId: 2,
      creationDate: now,
      lastModifiedDate: now,
      generationId: this.generationId(),
    });
    this.changed();
    return { policyName: name, policyArn: this.arns.policy(name), policyDocument: document, policyVersionId: '1' };
  }

  /** GetPolicy: the default version. */
  getPolicy(policyName: unknown): Record<string, unknown> {
    const policy = this.policyOrThrow(checkPolicyName(policyName));
    return {
      policyName: policy.policyName,
      policyArn: this.arns.policy(policy.policyName),
      policyDocument: this.defaultDocument(policy),
      defaultVersionId: policy.defaultVersionId,
      creationDate: seconds(policy.creationDate),
      lastModifiedDate: seconds(policy.lastModifiedDate),
      generationId: policy.generationId,
    };
  }

  /** ListPolicies, by name (descending when ascendingOrder is false). */
  listPolicies(query: { marker?: string; pageSize?: number; ascendingOrder?: boolean }): { policies: { policyName: string; policyArn: string }[]; nextMarker?: string } {
    const names = this.policies.keys().sort();
    if (query.ascendingOrder === false) names.reverse();
    const pageKey = query.ascendingOrder === false ? (n: string): string => [...n].map((ch) => String.fromCharCode(0xffff - ch.charCodeAt(0))).join('') : (n: string): string => n;
    const { items, next } = page(names, pageKey, query.marker, 'marker', query.pageSize);
    return { policies: items.map((n) => ({ policyName: n, policyArn: this.arns.policy(n) })), nextMarker: next };
  }

  /** DeletePolicy: refused while attached or while it has versions other than the default. */
  deletePolicy(policyName: unknown): Record<string, never> {
    const name = checkPolicyName(policyName);
    const policy = this.policyOrThrow(name);
    const targets = this.targetsOf(name);
    if (targets.length > 0) throw new IotError('DeleteConflictException', `The policy cannot be deleted as the policy is attached to one or more principals (name=${name}).`);
    if (policy.versions.length > 1) throw new IotError('DeleteConflictException', `Cannot delete the policy because it has one or more policy versions attached to it (name=${name}).`);
    this.policies.delete(name);
    this.changed({ kind: 'policy', policyName: name });
    return {};
  }

  /** CreatePolicyVersion: at most 5 versions (VersionsLimitExceededException). */
  createPolicyVersion(policyName: unknown, body: Record<string, unknown>, setAsDefault: boolean): Record<string, unknown> {
    const name = checkPolicyName(policyName);
    const document = this.checkDocument(body.policyDocument);
    const policy = this.policyOrThrow(name);
    if (policy.versions.length >= MAX_POLICY_VERSIONS) {
      throw new IotError('VersionsLimitExceededException', `The policy ${name} already has the maximum number of versions (${MAX_POLICY_VERSIONS}); delete one first.`);
    }
    const versionId = String(policy.nextVersionId);
    const now = this.clock.now();
    this.policies.put(name, {
      ...policy,
      versions: [...policy.versions, { versionId, document, createDate: now }],
      defaultVersionId: setAsDefault ? versionId : policy.defaultVersionId,
      nextVersionId: policy.nextVersionId + 1,
      lastModifiedDate: now,
      generationId: this.generationId(),
    });
    this.changed({ kind: 'policy', policyName: name });
    return { policyArn: this.arns.policy(name), policyDocument: document, policyVersionId: versionId, isDefaultVersion: setAsDefault };
  }

  protected versionOrThrow(policy: PolicyRecord, versionId: unknown): PolicyRecord['versions'][number] {
    if (typeof versionId !== 'string' || !/^[0-9]+$/.test(versionId)) throw invalidRequest(`policyVersionId ${quote(versionId)} is not a version number.`);
    const version = policy.versions.find((v) => v.versionId === versionId);
    if (!version) throw notFound(`Policy ${policy.policyName} has no version ${versionId}.`);
    return version;
  }

  /** ListPolicyVersions, newest first. */
  listPolicyVersions(policyName: unknown): { policyVersions: Record<string, unknown>[] } {
    const policy = this.policyOrThrow(checkPolicyName(policyName));
    return {
      policyVersions: [...policy.versions]
        .sort((a, b) => Number(b.versionId) - Number(a.versionId))
        .map((v) => ({ versionId: v.versionId, isDefaultVersion: v.versionId === policy.defaultVersionId, createDate: seconds(v.createDate) })),
    };
  }

  /** GetPolicyVersion. */
  getPolicyVersion(policyName: unknown, versionId: unknown): Record<string, unknown> {
    const policy = this.policyOrThrow(checkPolicyName(policyName));
    const v = this.versionOrThrow(policy, versionId);
    return {
      policyArn: this.arns.policy(policy.policyName),
      policyName: policy.policyName,
      policyDocument: v.document,
      policyVersionId: v.versionId,
      isDefaultVersion: v.versionId === policy.defaultVersionId,
      creationDate: seconds(v.createDate),
      lastModifiedDate: seconds(v.createDate),
      generationId: policy.generationId,
    };
  }

  /** SetDefaultPolicyVersion. */
  setDefaultPolicyVersion(policyName: unknown, versionId: unknown): Record<string, never> {
    const policy = this.policyOrThrow(checkPolicyName(policyName));
    const v = this.versionOrThrow(policy, versionId);
    this.policies.put(policy.policyName, { ...policy, defaultVersionId: v.versionId, lastModifiedDate: this.clock.now(), generationId: this.generationId() });
    this.changed({ kind: 'policy', policyName: policy.policyName });
    return {};
  }

  /** DeletePolicyVersion: never the default version. */
  deletePolicyVersion(policyName: unknown, versionId: unknown): Record<string, never> {
    const policy = this.policyOrThrow(checkPolicyName(policyName));
    const v = this.versionOrThrow(policy, versionId);
    if (v.versionId === policy.defaultVersionId) {
      throw new IotError('DeleteConflictException', `Cannot delete the default version ${v.versionId} of policy ${policy.policyName}; set another default first.`);
    }
    this.policies.put(policy.policyName, { ...policy, versions: policy.versions.filter((x) => x !== v) });
    this.changed({ kind: 'policy', policyName: policy.policyName });
    return {};
  }
}
