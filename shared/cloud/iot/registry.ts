/**
 * The AWS IoT registry of the local cloud: things, thing types, thing groups, certificates, policies and
 * their attachments, with the rules, limits and error codes of AWS IoT. Every method takes the request's
 * members as they arrived (unknown values, checked here) and returns the response members; state lives
 * in StateStore collections, so it survives a restart. A method checks everything before it changes
 * anything, so a refused request leaves the registry as it was. Each resource family lives in its own
 * file (registry-things.ts, registry-thing-types.ts, ...), chained by inheritance; this file ends the chain.
 */
import { invalidRequest } from './registry-errors';
import { quote } from './registry-validation';
import { ENDPOINT_TYPES } from './registry-base';
import type { ThingRecord, ThingGroupRecord, StoredCertificate } from './registry-records';
import { RegistryThingPrincipals } from './registry-thing-principals';

export type { PolicyAttachment, PolicyRecord, RegistryChange, RegistryEndpoints, StoredCertificate, ThingGroupRecord, ThingPrincipalRecord, ThingRecord, ThingTypeRecord } from './registry-records';

/** The registry; one per local cloud, shared by the REST routes and the PrincipalDirectory. */
export class IotRegistry extends RegistryThingPrincipals {
  /**
   * DescribeEndpoint. Data and Data-ATS give the MQTT broker's host (its port is in cloud.json / the
   * device bundle: AWS's port 8883 is not ours); Jobs and CredentialProvider give the HTTP endpoint's
   * host:port, since a bare host would not reach it.
   */
  describeEndpoint(endpointType: unknown): { endpointAddress: string } {
    const type = endpointType ?? 'iot:Data';
    if (typeof type !== 'string' || !ENDPOINT_TYPES.includes(type)) {
      throw invalidRequest(`endpointType ${quote(type)} is invalid: use one of ${ENDPOINT_TYPES.join(', ')}.`);
    }
    const endpoints = this.endpoints();
    if (!endpoints) return { endpointAddress: '127.0.0.1' };
    if (type === 'iot:Data' || type === 'iot:Data-ATS') return { endpointAddress: endpoints.mqttHost };
    return { endpointAddress: new URL(endpoints.http).host };
  }


  /** A certificate by id (for the broker). */
  certificate(certificateId: string): StoredCertificate | undefined {
    return this.certificates.get(certificateId.toLowerCase());
  }

  /** A thing by name (for the broker and Jobs). */
  thing(name: string): ThingRecord | undefined {
    return this.things.get(name);
  }

  /** A thing group by name. */
  thingGroup(name: string): ThingGroupRecord | undefined {
    return this.thingGroups.get(name);
  }

  /** The default version's document of a policy. */
  policyDocument(name: string): string | undefined {
    const policy = this.policies.get(name);
    return policy ? this.defaultDocument(policy) : undefined;
  }

  /** Names of a thing's direct groups and all their ancestors. */
  groupsWithAncestors(thingName: string): string[] {
    const thing = this.things.get(thingName);
    if (!thing) return [];
    const out = new Set<string>();
    for (const g of thing.groups) {
      out.add(g);
      for (const a of this.ancestors(g)) out.add(a.thingGroupName);
    }
    return [...out];
  }
}
