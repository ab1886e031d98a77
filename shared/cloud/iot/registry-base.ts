/**
 * The base of the local IoT registry: paging and attribute helpers, the stored collections, change
 * notification; the resource families extend it (see IotRegistry).
 */
import { randomBytes } from 'node:crypto';
import type { CertificateRecord, Clock, Collection, StateStore } from '../contracts';
import { ArnFactory } from './arn';
import type { LocalCa } from './ca';
import { invalidRequest } from './registry-errors';
import { quote } from './registry-validation';
import type { ThingRecord, ThingTypeRecord, ThingGroupRecord, StoredCertificate, PolicyRecord, PolicyAttachment, ThingPrincipalRecord, RegistryChange, RegistryEndpoints } from './registry-records';

/** Endpoint types DescribeEndpoint accepts. */
export const ENDPOINT_TYPES = ['iot:Data', 'iot:Data-ATS', 'iot:CredentialProvider', 'iot:Jobs'];
/** Certificate statuses UpdateCertificate accepts. */
export const CERTIFICATE_STATUSES: CertificateRecord['status'][] = [
  'ACTIVE',
  'INACTIVE',
  'REVOKED',
  'PENDING_TRANSFER',
  'REGISTER_INACTIVE',
  'PENDING_ACTIVATION',
];

/** Epoch seconds, as restJson1 carries timestamps. */
export function seconds(ms: number): number {
  return ms / 1000;
}

/** Whether two attribute maps hold the same keys and values. */
export function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/** An attribute payload applied to current attributes (merge or replace, '' deletes). */
export function applyAttributes(current: Record<string, string>, payload: { attributes: Record<string, string>; merge: boolean }): Record<string, string> {
  if (!payload.merge) {
    // Without merge the given attributes replace the old ones; empty values are dropped, as AWS does.
    return Object.fromEntries(Object.entries(payload.attributes).filter(([, v]) => v !== ''));
  }
  const next = { ...current };
  for (const [k, v] of Object.entries(payload.attributes)) {
    if (v === '') delete next[k];
    else next[k] = v;
  }
  return next;
}

/** One page of a sorted list, resumed after the key encoded in token. */
export function page<T>(items: T[], key: (item: T) => string, token: unknown, tokenField: string, maxResults: number | undefined): { items: T[]; next?: string } {
  let start = 0;
  if (token !== undefined && token !== null && token !== '') {
    let after: unknown;
    try {
      after = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')).after;
    } catch {
      after = undefined;
    }
    if (typeof after !== 'string') throw invalidRequest(`${tokenField} ${quote(token)} is not a token this service returned`);
    const resumeAfter = after;
    start = items.findIndex((item) => key(item) > resumeAfter);
    if (start < 0) start = items.length;
  }
  const size = maxResults ?? 250;
  const slice = items.slice(start, start + size);
  const more = start + size < items.length;
  return { items: slice, next: more ? Buffer.from(JSON.stringify({ after: key(slice[slice.length - 1]) })).toString('base64url') : undefined };
}

/** A comparator ordering items by a string key. */
export function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/**
 * State, change notification and cross-family lookups every resource family of the registry builds on;
 * each family adds its operations in a subclass (registry-things.ts ... registry-thing-principals.ts), and
 * IotRegistry (registry.ts) is the last of the chain.
 */
export abstract class RegistryBase {
  readonly arns: ArnFactory;
  protected readonly things: Collection<ThingRecord>;
  protected readonly thingTypes: Collection<ThingTypeRecord>;
  protected readonly thingGroups: Collection<ThingGroupRecord>;
  protected readonly certificates: Collection<StoredCertificate>;
  protected readonly policies: Collection<PolicyRecord>;
  protected readonly policyAttachments: Collection<PolicyAttachment>;
  protected readonly thingPrincipals: Collection<ThingPrincipalRecord>;
  protected readonly listeners: ((change: RegistryChange) => void)[] = [];
  /** Bumped on every change; lets readers cache derived answers. */
  generation = 0;
  /** Bumped only on changes that can alter a principal's effective policies (PrincipalDirectory caches by it). */
  policyGeneration = 0;

  constructor(
    store: StateStore,
    protected readonly ca: LocalCa,
    protected readonly clock: Clock,
    region: string,
    accountId: string,
    protected readonly endpoints: () => RegistryEndpoints | undefined = () => undefined,
  ) {
    this.arns = new ArnFactory(region, accountId);
    this.things = store.collection('iot-things');
    this.thingTypes = store.collection('iot-thing-types');
    this.thingGroups = store.collection('iot-thing-groups');
    this.certificates = store.collection('iot-certificates');
    this.policies = store.collection('iot-policies');
    this.policyAttachments = store.collection('iot-policy-attachments');
    this.thingPrincipals = store.collection('iot-thing-principals');
  }

  /** Calls listener after every change the data plane must react to. */
  onChange(listener: (change: RegistryChange) => void): void {
    this.listeners.push(listener);
  }

  protected changed(change?: RegistryChange): void {
    this.generation++;
    const affectsPolicies =
      change !== undefined &&
      (change.kind === 'policy' ||
        change.kind === 'thing-principal' ||
        change.kind === 'thing-group-membership' ||
        change.kind === 'thing-group-deleted' ||
        (change.kind === 'thing' && change.deleted) ||
        (change.kind === 'certificate' && change.status === 'DELETED'));
    if (affectsPolicies) this.policyGeneration++;
    if (change) for (const listener of this.listeners) listener(change);
  }

  protected generationId(): string {
    return randomBytes(16).toString('hex');
  }

  // Implemented by later families of the chain; declared here so earlier families can call them.
  protected abstract principalsOf(thingName: string): ThingPrincipalRecord[];
  protected abstract attachmentKey(policyName: string, target: string): string;
  /** Names of the policies attached to a target, sorted. */
  abstract policiesAttachedTo(target: string): string[];
  /** Names of the things a principal (certificate ARN) is attached to, sorted. */
  abstract thingsOfPrincipal(principal: string): string[];
  protected abstract targetsOf(policyName: string): string[];
}
