/**
 * Policy attachments: policies on certificates and thing groups.
 */
import { page } from './registry-base';
import { RegistryPolicies } from './registry-policies';
import { parseIotArn } from './arn';
import { invalidRequest, IotError, notFound } from './registry-errors';
import { checkCertificateId, checkPolicyName, MAX_POLICIES_PER_TARGET, quote } from './registry-validation';

/** Policy attachments: policies on certificates and thing groups. */
export abstract class RegistryPolicyAttachments extends RegistryPolicies {
  protected override attachmentKey(policyName: string, target: string): string {
    return `${policyName}\n${target}`;
  }

  /** Checks a policy target (certificate ARN or thing group ARN) and that it exists. */
  protected checkTarget(field: string, target: unknown): string {
    if (typeof target !== 'string' || target.length === 0) throw invalidRequest(`${field} is required: a certificate ARN or a thing group ARN.`);
    const arn = parseIotArn(target);
    if (!arn || (arn.resourceType !== 'cert' && arn.resourceType !== 'thinggroup')) {
      throw invalidRequest(`${field} ${quote(target)} is not a certificate ARN (arn:aws:iot:<region>:<account>:cert/<id>) or thing group ARN.`);
    }
    if (arn.resourceType === 'cert') {
      const id = this.arns.resourceId(target, 'cert');
      if (id === undefined || !this.certificates.get(checkCertificateId(id))) throw notFound(`Certificate ${target} cannot be found.`);
    } else {
      const name = this.arns.resourceId(target, 'thinggroup');
      if (name === undefined || !this.thingGroups.get(name)) throw notFound(`Thing group ${target} cannot be found.`);
    }
    return target;
  }

  /** Policy names attached directly to a target, sorted. */
  override policiesAttachedTo(target: string): string[] {
    return this.policyAttachments
      .values()
      .filter((a) => a.target === target)
      .map((a) => a.policyName)
      .sort();
  }

  protected override targetsOf(policyName: string): string[] {
    return this.policyAttachments
      .values()
      .filter((a) => a.policyName === policyName)
      .map((a) => a.target)
      .sort();
  }

  /** AttachPolicy to a certificate or thing group; at most 10 per target (LimitExceededException). */
  attachPolicy(policyName: unknown, body: Record<string, unknown>): Record<string, never> {
    const name = checkPolicyName(policyName);
    const target = this.checkTarget('target', body.target);
    this.policyOrThrow(name);
    if (this.policyAttachments.get(this.attachmentKey(name, target))) return {};
    if (this.policiesAttachedTo(target).length >= MAX_POLICIES_PER_TARGET) {
      throw new IotError('LimitExceededException', `${target} already has ${MAX_POLICIES_PER_TARGET} policies attached, the most AWS IoT allows.`);
    }
    this.policyAttachments.put(this.attachmentKey(name, target), { policyName: name, target });
    this.changed({ kind: 'policy', policyName: name });
    return {};
  }

  /** DetachPolicy (not attached: success). */
  detachPolicy(policyName: unknown, body: Record<string, unknown>): Record<string, never> {
    const name = checkPolicyName(policyName);
    const target = body.target;
    if (typeof target !== 'string' || !parseIotArn(target)) throw invalidRequest(`target ${quote(target)} is not a certificate ARN or thing group ARN.`);
    if (this.policyAttachments.delete(this.attachmentKey(name, target))) this.changed({ kind: 'policy', policyName: name });
    return {};
  }

  /** ListAttachedPolicies of a target; recursive adds the policies of a thing group's ancestors. */
  listAttachedPolicies(target: unknown, query: { recursive?: boolean; marker?: string; pageSize?: number }): { policies: { policyName: string; policyArn: string }[]; nextMarker?: string } {
    const t = this.checkTarget('target', target);
    let names = this.policiesAttachedTo(t);
    const groupName = this.arns.resourceId(t, 'thinggroup');
    if (query.recursive && groupName !== undefined) {
      names = [...new Set([...names, ...this.ancestors(groupName).flatMap((g) => this.policiesAttachedTo(this.arns.thingGroup(g.thingGroupName)))])].sort();
    }
    const { items, next } = page(names, (n) => n, query.marker, 'marker', query.pageSize);
    return { policies: items.map((n) => ({ policyName: n, policyArn: this.arns.policy(n) })), nextMarker: next };
  }

  /** ListTargetsForPolicy. */
  listTargetsForPolicy(policyName: unknown, query: { marker?: string; pageSize?: number }): { targets: string[]; nextMarker?: string } {
    const name = checkPolicyName(policyName);
    this.policyOrThrow(name);
    const { items, next } = page(this.targetsOf(name), (t) => t, query.marker, 'marker', query.pageSize);
    return { targets: items, nextMarker: next };
  }
}
