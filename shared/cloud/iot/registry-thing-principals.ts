/**
 * Thing principals: certificates attached to things.
 */
import { page, byKey } from './registry-base';
import { RegistryPolicyAttachments } from './registry-policy-attachments';
import { parseIotArn } from './arn';
import { invalidRequest, notFound } from './registry-errors';
import { checkCertificateId, checkResourceName, quote } from './registry-validation';
import type { ThingPrincipalRecord } from './registry-records';

/** Thing principals: certificates attached to things. */
export abstract class RegistryThingPrincipals extends RegistryPolicyAttachments {
  protected principalKey(thingName: string, principal: string): string {
    return `${thingName}\n${principal}`;
  }

  /** Checks a principal given as a certificate ARN and that the certificate exists. */
  protected checkPrincipal(principal: unknown): string {
    if (typeof principal !== 'string' || principal.length === 0) throw invalidRequest('principal (header x-amzn-principal) is required: a certificate ARN.');
    const arn = parseIotArn(principal);
    if (!arn || arn.resourceType !== 'cert') throw invalidRequest(`principal ${quote(principal)} is not a certificate ARN (arn:aws:iot:<region>:<account>:cert/<id>).`);
    const id = this.arns.resourceId(principal, 'cert');
    if (id === undefined || !this.certificates.get(checkCertificateId(id))) throw notFound(`Certificate ${principal} cannot be found.`);
    return principal;
  }

  protected override principalsOf(thingName: string): ThingPrincipalRecord[] {
    return this.thingPrincipals.values().filter((p) => p.thingName === thingName);
  }

  /** Names of the things a principal (certificate ARN) is attached to, sorted. */
  override thingsOfPrincipal(principal: string): string[] {
    return this.thingPrincipals
      .values()
      .filter((p) => p.principal === principal)
      .map((p) => p.thingName)
      .sort();
  }

  /** The thing a principal is attached to with EXCLUSIVE_THING, if any. */
  exclusiveThingOf(principal: string): string | undefined {
    return this.thingPrincipals.values().find((r) => r.principal === principal && r.thingPrincipalType === 'EXCLUSIVE_THING')?.thingName;
  }

  /** AttachThingPrincipal; an EXCLUSIVE_THING certificate belongs to that thing alone. */
  attachThingPrincipal(thingName: unknown, principal: unknown, thingPrincipalType: unknown): Record<string, never> {
    const name = checkResourceName('thingName', thingName);
    const p = this.checkPrincipal(principal);
    const type = thingPrincipalType ?? 'NON_EXCLUSIVE_THING';
    if (type !== 'EXCLUSIVE_THING' && type !== 'NON_EXCLUSIVE_THING') throw invalidRequest(`thingPrincipalType ${quote(type)} is not EXCLUSIVE_THING or NON_EXCLUSIVE_THING.`);
    this.thingOrThrow(name);
    const others = this.thingPrincipals.values().filter((r) => r.principal === p && r.thingName !== name);
    if (type === 'EXCLUSIVE_THING' && others.length > 0) {
      throw invalidRequest(`Principal ${p} is already attached to thing ${others[0].thingName}; it cannot be attached exclusively to ${name}.`);
    }
    const exclusive = others.find((r) => r.thingPrincipalType === 'EXCLUSIVE_THING');
    if (exclusive) throw invalidRequest(`Principal ${p} is attached exclusively to thing ${exclusive.thingName}.`);
    this.thingPrincipals.put(this.principalKey(name, p), { thingName: name, principal: p, thingPrincipalType: type });
    this.changed({ kind: 'thing-principal', thingName: name, principal: p, attached: true });
    return {};
  }

  /** DetachThingPrincipal (not attached: success). */
  detachThingPrincipal(thingName: unknown, principal: unknown): Record<string, never> {
    const name = checkResourceName('thingName', thingName);
    if (typeof principal !== 'string' || !parseIotArn(principal)) throw invalidRequest(`principal ${quote(principal)} is not a certificate ARN.`);
    this.thingOrThrow(name);
    if (this.thingPrincipals.delete(this.principalKey(name, principal))) {
      this.changed({ kind: 'thing-principal', thingName: name, principal, attached: false });
    }
    return {};
  }

  /** ListThingPrincipals (ARNs). */
  listThingPrincipals(thingName: unknown, query: { nextToken?: string; maxResults?: number; thingPrincipalType?: string }): { principals: string[]; principalObjects: ThingPrincipalRecord[]; nextToken?: string } {
    const thing = this.thingOrThrow(checkResourceName('thingName', thingName));
    const records = this.principalsOf(thing.thingName)
      .filter((r) => query.thingPrincipalType === undefined || r.thingPrincipalType === query.thingPrincipalType)
      .sort(byKey((r) => r.principal));
    const { items, next } = page(records, (r) => r.principal, query.nextToken, 'nextToken', query.maxResults);
    return { principals: items.map((r) => r.principal), principalObjects: items, nextToken: next };
  }

  /** ListPrincipalThings (names). */
  listPrincipalThings(principal: unknown, query: { nextToken?: string; maxResults?: number; thingPrincipalType?: string }): { things: string[]; records: ThingPrincipalRecord[]; nextToken?: string } {
    const p = this.checkPrincipal(principal);
    const records = this.thingPrincipals
      .values()
      .filter((r) => r.principal === p && (query.thingPrincipalType === undefined || r.thingPrincipalType === query.thingPrincipalType))
      .sort(byKey((r) => r.thingName));
    const { items, next } = page(records, (r) => r.thingName, query.nextToken, 'nextToken', query.maxResults);
    return { things: items.map((r) => r.thingName), records: items, nextToken: next };
  }
}
