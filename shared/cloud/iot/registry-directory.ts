/**
 * The PrincipalDirectory the MQTT broker and IoT Jobs consult, answered from the registry. Effective
 * policies of a certificate are those attached to it plus, as AWS IoT applies thing-group policies, those
 * attached to the thing groups (and their ancestors) of each thing the certificate is attached to; the
 * latter carry the thing name, because AWS applies them only when the MQTT client id is that thing's name.
 */
import type { CertificateRecord, PrincipalDirectory } from '../contracts';
import type { IotRegistry, RegistryChange } from './registry';

/** One effective policy of a principal; thingName set means "only when clientId === thingName". */
export interface EffectivePolicy {
  name: string;
  document: string;
  /** Set when the policy comes from a thing group of this thing (AWS applies it only if clientId = thingName). */
  thingName?: string;
  /** The thing group it is attached to, when it comes from one. */
  thingGroupName?: string;
}

/** PrincipalDirectory over an IotRegistry, caching per-principal answers until the registry changes. */
export class RegistryDirectory implements PrincipalDirectory {
  private cacheGeneration = -1;
  private readonly policyCache = new Map<string, EffectivePolicy[]>();

  constructor(private readonly registry: IotRegistry) {}

  /** Calls listener on every change the data plane must react to (certificate status, detach, policy). */
  onChange(listener: (change: RegistryChange) => void): void {
    this.registry.onChange(listener);
  }

  /** Certificate by id (sha256 hex of its DER). */
  certificate(certificateId: string): CertificateRecord | undefined {
    const c = this.registry.certificate(certificateId);
    return c && { certificateId: c.certificateId, certificateArn: c.certificateArn, certificatePem: c.certificatePem, status: c.status };
  }

  /** Things attached to a certificate ARN. */
  thingsForPrincipal(principalArn: string): string[] {
    return this.registry.thingsOfPrincipal(principalArn);
  }

  /** The thing a certificate ARN is attached to with EXCLUSIVE_THING (AWS takes Connection.Thing from it whatever the client id). */
  exclusiveThingOf(principalArn: string): string | undefined {
    return this.registry.exclusiveThingOf(principalArn);
  }

  /** Effective policies of a certificate ARN: direct ones first, then thing-group ones (with thingName). */
  policiesForPrincipal(principalArn: string): EffectivePolicy[] {
    // The same array comes back until something that can change it happens (the broker memoises on it).
    if (this.cacheGeneration !== this.registry.policyGeneration) {
      this.policyCache.clear();
      this.cacheGeneration = this.registry.policyGeneration;
    }
    const cached = this.policyCache.get(principalArn);
    if (cached) return cached;
    const out: EffectivePolicy[] = [];
    for (const name of this.registry.policiesAttachedTo(principalArn)) {
      const document = this.registry.policyDocument(name);
      if (document !== undefined) out.push({ name, document });
    }
    for (const thingName of this.registry.thingsOfPrincipal(principalArn)) {
      for (const groupName of this.registry.groupsWithAncestors(thingName)) {
        for (const name of this.registry.policiesAttachedTo(this.registry.arns.thingGroup(groupName))) {
          const document = this.registry.policyDocument(name);
          if (document !== undefined) out.push({ name, document, thingName, thingGroupName: groupName });
        }
      }
    }
    this.policyCache.set(principalArn, out);
    return out;
  }

  /** Thing attributes and type. */
  thing(name: string): { thingName: string; thingTypeName?: string; attributes: Record<string, string> } | undefined {
    const t = this.registry.thing(name);
    return t && { thingName: t.thingName, thingTypeName: t.thingTypeName, attributes: { ...t.attributes } };
  }

  /** Things in a group, and in its descendants when recursive (sorted; empty for an unknown group). */
  thingsInGroup(groupName: string, recursive: boolean): string[] {
    if (!this.registry.thingGroup(groupName)) return [];
    return this.registry.thingNamesInGroup(groupName, recursive);
  }
}
