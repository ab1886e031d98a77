/**
 * The AWS IoT registry of the local cloud: things, thing types, thing groups, certificates, policies and
 * their attachments, with the rules, limits and error codes of AWS IoT. Every method takes the request's
 * members as they arrived (unknown values, checked here) and returns the response members; state lives
 * in StateStore collections, so it survives a restart. A method checks everything before it changes
 * anything, so a refused request leaves the registry as it was.
 */
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateRecord, Clock, Collection, StateStore } from '../contracts';
import { ArnFactory, parseIotArn } from './arn';
import { certificateIdOf, issueDeviceCertificate, isSignedBy, signDeviceCertificate, type LocalCa } from './ca';
import { parsePolicyDocument } from './policy';
import { alreadyExists, invalidRequest, IotError, notFound } from './registry-errors';
import {
  checkAttributePayload,
  checkAttributes,
  checkCertificateId,
  checkPolicyName,
  checkResourceName,
  checkTags,
  MAX_ATTRIBUTES_WITH_TYPE,
  MAX_ATTRIBUTES_WITHOUT_TYPE,
  MAX_GROUP_DEPTH,
  MAX_GROUPS_PER_THING,
  MAX_POLICIES_PER_TARGET,
  MAX_POLICY_VERSIONS,
  optionalBoolean,
  optionalInteger,
  optionalString,
  quote,
} from './registry-validation';

/** A thing as stored. */
export interface ThingRecord {
  thingName: string;
  thingId: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
  version: number;
  /** Thing groups it belongs to directly. */
  groups: string[];
  creationDate: number;
}

/** A thing type as stored. */
export interface ThingTypeRecord {
  thingTypeName: string;
  thingTypeId: string;
  thingTypeDescription?: string;
  searchableAttributes?: string[];
  deprecated: boolean;
  deprecationDate?: number;
  creationDate: number;
}

/** A (static) thing group as stored. */
export interface ThingGroupRecord {
  thingGroupName: string;
  thingGroupId: string;
  parentGroupName?: string;
  thingGroupDescription?: string;
  attributes: Record<string, string>;
  version: number;
  creationDate: number;
}

/** A certificate as stored: what the broker needs plus what DescribeCertificate returns. */
export interface StoredCertificate extends CertificateRecord {
  caCertificateId?: string;
  certificateMode: 'DEFAULT' | 'SNI_ONLY';
  creationDate: number;
  lastModifiedDate: number;
  notBefore: number;
  notAfter: number;
  customerVersion: number;
  generationId: string;
}

/** A policy with its versions. */
export interface PolicyRecord {
  policyName: string;
  versions: { versionId: string; document: string; createDate: number }[];
  defaultVersionId: string;
  nextVersionId: number;
  creationDate: number;
  lastModifiedDate: number;
  generationId: string;
}

/** A policy attached to a target (certificate ARN or thing group ARN). */
export interface PolicyAttachment {
  policyName: string;
  target: string;
}

/** A principal (certificate ARN) attached to a thing. */
export interface ThingPrincipalRecord {
  thingName: string;
  principal: string;
  thingPrincipalType: 'EXCLUSIVE_THING' | 'NON_EXCLUSIVE_THING';
}

/** Something the data plane must react to at once (a certificate leaving ACTIVE drops its sessions). */
export type RegistryChange =
  | { kind: 'certificate'; certificateId: string; status: CertificateRecord['status'] | 'DELETED' }
  | { kind: 'thing-principal'; thingName: string; principal: string; attached: boolean }
  | { kind: 'thing-group-membership'; thingName: string; thingGroupName: string; member: boolean }
  | { kind: 'thing-group-deleted'; thingGroupName: string }
  | { kind: 'thing'; thingName: string; deleted: boolean }
  | { kind: 'policy'; policyName: string };

/** Where the MQTT endpoint and HTTP endpoint are, for DescribeEndpoint. */
export interface RegistryEndpoints {
  mqttHost: string;
  mqttPort: number;
  http: string;
}

/** Endpoint types DescribeEndpoint accepts. */
const ENDPOINT_TYPES = ['iot:Data', 'iot:Data-ATS', 'iot:CredentialProvider', 'iot:Jobs'];
const CERTIFICATE_STATUSES: CertificateRecord['status'][] = [
  'ACTIVE',
  'INACTIVE',
  'REVOKED',
  'PENDING_TRANSFER',
  'REGISTER_INACTIVE',
  'PENDING_ACTIVATION',
];

/** Epoch seconds, as restJson1 carries timestamps. */
function seconds(ms: number): number {
  return ms / 1000;
}

function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

function applyAttributes(current: Record<string, string>, payload: { attributes: Record<string, string>; merge: boolean }): Record<string, string> {
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
function page<T>(items: T[], key: (item: T) => string, token: unknown, tokenField: string, maxResults: number | undefined): { items: T[]; next?: string } {
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

function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/** The registry; one per local cloud, shared by the REST routes and the PrincipalDirectory. */
export class IotRegistry {
  readonly arns: ArnFactory;
  private readonly things: Collection<ThingRecord>;
  private readonly thingTypes: Collection<ThingTypeRecord>;
  private readonly thingGroups: Collection<ThingGroupRecord>;
  private readonly certificates: Collection<StoredCertificate>;
  private readonly policies: Collection<PolicyRecord>;
  private readonly policyAttachments: Collection<PolicyAttachment>;
  private readonly thingPrincipals: Collection<ThingPrincipalRecord>;
  private readonly listeners: ((change: RegistryChange) => void)[] = [];
  /** Bumped on every change; lets readers cache derived answers. */
  generation = 0;
  /** Bumped only on changes that can alter a principal's effective policies (PrincipalDirectory caches by it). */
  policyGeneration = 0;

  constructor(
    store: StateStore,
    private readonly ca: LocalCa,
    private readonly clock: Clock,
    region: string,
    accountId: string,
    private readonly endpoints: () => RegistryEndpoints | undefined = () => undefined,
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

  private changed(change?: RegistryChange): void {
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

  private generationId(): string {
    return randomBytes(16).toString('hex');
  }

  // ---------------------------------------------------------------- things

  private thingOrThrow(name: string): ThingRecord {
    const thing = this.things.get(name);
    if (!thing) throw notFound(`Thing ${name} cannot be found.`);
    return thing;
  }

  private checkThingTypeUsable(name: string): void {
    const type = this.thingTypes.get(name);
    if (!type) throw notFound(`Thing type ${name} cannot be found.`);
    if (type.deprecated) throw invalidRequest(`Thing type ${name} is deprecated; new things cannot use it.`);
  }

  private checkAttributeCount(attributes: Record<string, string>, thingTypeName: string | undefined): void {
    const max = thingTypeName ? MAX_ATTRIBUTES_WITH_TYPE : MAX_ATTRIBUTES_WITHOUT_TYPE;
    const count = Object.keys(attributes).length;
    if (count > max) {
      throw invalidRequest(`A thing ${thingTypeName ? 'with a thing type' : 'without a thing type'} may have at most ${max} attributes; got ${count}.`);
    }
  }

  /** CreateThing; an identical repeat returns the existing thing, as AWS does. */
  createThing(thingName: unknown, body: Record<string, unknown>): { thingName: string; thingArn: string; thingId: string } {
    const name = checkResourceName('thingName', thingName);
    const thingTypeName = body.thingTypeName === undefined ? undefined : checkResourceName('thingTypeName', body.thingTypeName);
    const payload = checkAttributePayload('attributePayload', body.attributePayload);
    const billingGroupName = optionalString('billingGroupName', body.billingGroupName, 128);
    const attributes = applyAttributes({}, payload ?? { attributes: {}, merge: false });
    const existing = this.things.get(name);
    if (existing) {
      if (existing.thingTypeName === thingTypeName && sameAttributes(existing.attributes, attributes) && !billingGroupName) {
        return { thingName: name, thingArn: this.arns.thing(name), thingId: existing.thingId };
      }
      throw alreadyExists(`Thing ${name} already exists in account with different attributes`, existing.thingId, this.arns.thing(name));
    }
    if (thingTypeName) this.checkThingTypeUsable(thingTypeName);
    // Billing groups are not emulated, so none exists.
    if (billingGroupName) throw notFound(`Billing group ${billingGroupName} cannot be found.`);
    this.checkAttributeCount(attributes, thingTypeName);
    const thing: ThingRecord = {
      thingName: name,
      thingId: randomUUID(),
      thingTypeName,
      attributes,
      version: 1,
      groups: [],
      creationDate: this.clock.now(),
    };
    this.things.put(name, thing);
    this.changed();
    return { thingName: name, thingArn: this.arns.thing(name), thingId: thing.thingId };
  }

  /** DescribeThing. */
  describeThing(thingName: unknown): Record<string, unknown> {
    const thing = this.thingOrThrow(checkResourceName('thingName', thingName));
    return {
      defaultClientId: thing.thingName,
      thingName: thing.thingName,
      thingId: thing.thingId,
      thingArn: this.arns.thing(thing.thingName),
      thingTypeName: thing.thingTypeName,
      attributes: thing.attributes,
      version: thing.version,
    };
  }

  /** UpdateThing: thing type, attributes (merge or replace), optimistic locking by expectedVersion. */
  updateThing(thingName: unknown, body: Record<string, unknown>): Record<string, never> {
    const name = checkResourceName('thingName', thingName);
    const thingTypeName = body.thingTypeName === undefined ? undefined : checkResourceName('thingTypeName', body.thingTypeName);
    const payload = checkAttributePayload('attributePayload', body.attributePayload);
    const expectedVersion = optionalInteger('expectedVersion', body.expectedVersion, 0, Number.MAX_SAFE_INTEGER);
    const removeThingType = optionalBoolean('removeThingType', body.removeThingType) ?? false;
    if (removeThingType && thingTypeName) throw invalidRequest('removeThingType and thingTypeName cannot be given together.');
    const thing = this.thingOrThrow(name);
    if (expectedVersion !== undefined && expectedVersion !== thing.version) {
      throw new IotError('VersionConflictException', `The version for thing ${name} does not match the expected version (${expectedVersion} given, ${thing.version} current).`);
    }
    if (thingTypeName && thingTypeName !== thing.thingTypeName) this.checkThingTypeUsable(thingTypeName);
    const nextType = removeThingType ? undefined : thingTypeName ?? thing.thingTypeName;
    const attributes = payload ? applyAttributes(thing.attributes, payload) : thing.attributes;
    this.checkAttributeCount(attributes, nextType);
    this.things.put(name, { ...thing, thingTypeName: nextType, attributes, version: thing.version + 1 });
    this.changed({ kind: 'thing', thingName: name, deleted: false });
    return {};
  }

  /** DeleteThing: a missing thing is success (as AWS); a thing with principals attached is refused. */
  deleteThing(thingName: unknown, expectedVersion: number | undefined): Record<string, never> {
    const name = checkResourceName('thingName', thingName);
    const thing = this.things.get(name);
    if (!thing) return {};
    if (expectedVersion !== undefined && expectedVersion !== thing.version) {
      throw new IotError('VersionConflictException', `The version for thing ${name} does not match the expected version (${expectedVersion} given, ${thing.version} current).`);
    }
    const principals = this.principalsOf(name);
    if (principals.length > 0) {
      throw invalidRequest(`Cannot delete thing ${name}: it has ${principals.length} principal(s) attached; detach them with DetachThingPrincipal first.`);
    }
    this.things.delete(name);
    this.changed({ kind: 'thing', thingName: name, deleted: true });
    return {};
  }

  /** ListThings with attribute and thing type filters. */
  listThings(query: {
    nextToken?: string;
    maxResults?: number;
    attributeName?: string;
    attributeValue?: string;
    thingTypeName?: string;
    usePrefixAttributeValue?: boolean;
  }): { things: Record<string, unknown>[]; nextToken?: string } {
    if (query.attributeValue !== undefined && query.attributeName === undefined) {
      throw invalidRequest('attributeValue needs attributeName.');
    }
    if (query.usePrefixAttributeValue && query.attributeValue === undefined) {
      throw invalidRequest('usePrefixAttributeValue needs attributeName and attributeValue.');
    }
    const matches = this.things
      .values()
      .filter((t) => query.thingTypeName === undefined || t.thingTypeName === query.thingTypeName)
      .filter((t) => {
        if (query.attributeName === undefined) return true;
        const value = t.attributes[query.attributeName];
        if (value === undefined) return false;
        if (query.attributeValue === undefined) return true;
        return query.usePrefixAttributeValue ? value.startsWith(query.attributeValue) : value === query.attributeValue;
      })
      .sort(byKey((t) => t.thingName));
    const { items, next } = page(matches, (t) => t.thingName, query.nextToken, 'nextToken', query.maxResults);
    return {
      things: items.map((t) => ({
        thingName: t.thingName,
        thingTypeName: t.thingTypeName,
        thingArn: this.arns.thing(t.thingName),
        attributes: t.attributes,
        version: t.version,
      })),
      nextToken: next,
    };
  }

  // ----------------------------------------------------------- thing types

  private thingTypeOrThrow(name: string): ThingTypeRecord {
    const type = this.thingTypes.get(name);
    if (!type) throw notFound(`Thing type ${name} cannot be found.`);
    return type;
  }

  private describeType(type: ThingTypeRecord): Record<string, unknown> {
    return {
      thingTypeName: type.thingTypeName,
      thingTypeId: type.thingTypeId,
      thingTypeArn: this.arns.thingType(type.thingTypeName),
      thingTypeProperties: { thingTypeDescription: type.thingTypeDescription, searchableAttributes: type.searchableAttributes },
      thingTypeMetadata: {
        deprecated: type.deprecated,
        deprecationDate: type.deprecationDate === undefined ? undefined : seconds(type.deprecationDate),
        creationDate: seconds(type.creationDate),
      },
    };
  }

  /** CreateThingType; an identical repeat returns the existing type. */
  createThingType(thingTypeName: unknown, body: Record<string, unknown>): { thingTypeName: string; thingTypeArn: string; thingTypeId: string } {
    const name = checkResourceName('thingTypeName', thingTypeName);
    const props = (body.thingTypeProperties ?? {}) as Record<string, unknown>;
    if (typeof props !== 'object' || Array.isArray(props)) throw invalidRequest(`thingTypeProperties must be an object, got ${quote(props)}`);
    const description = optionalString('thingTypeProperties.thingTypeDescription', props.thingTypeDescription, 2028);
    let searchable: string[] | undefined;
    if (props.searchableAttributes !== undefined) {
      if (!Array.isArray(props.searchableAttributes) || props.searchableAttributes.length > 3) {
        throw invalidRequest('thingTypeProperties.searchableAttributes must be a list of at most 3 attribute names');
      }
      searchable = Object.keys(checkAttributes('thingTypeProperties.searchableAttributes', Object.fromEntries(props.searchableAttributes.map((n) => [n, '']))));
    }
    checkTags(body.tags);
    const existing = this.thingTypes.get(name);
    if (existing) {
      if (existing.thingTypeDescription === description && JSON.stringify(existing.searchableAttributes) === JSON.stringify(searchable)) {
        return { thingTypeName: name, thingTypeArn: this.arns.thingType(name), thingTypeId: existing.thingTypeId };
      }
      throw alreadyExists(`Thing type ${name} already exists with different properties`, existing.thingTypeId, this.arns.thingType(name));
    }
    const type: ThingTypeRecord = {
      thingTypeName: name,
      thingTypeId: randomUUID(),
      thingTypeDescription: description,
      searchableAttributes: searchable,
      deprecated: false,
      creationDate: this.clock.now(),
    };
    this.thingTypes.put(name, type);
    this.changed();
    return { thingTypeName: name, thingTypeArn: this.arns.thingType(name), thingTypeId: type.thingTypeId };
  }

  /** DescribeThingType. */
  describeThingType(thingTypeName: unknown): Record<string, unknown> {
    return this.describeType(this.thingTypeOrThrow(checkResourceName('thingTypeName', thingTypeName)));
  }

  /** ListThingTypes, optionally the one named. */
  listThingTypes(query: { nextToken?: string; maxResults?: number; thingTypeName?: string }): { thingTypes: Record<string, unknown>[]; nextToken?: string } {
    const types = this.thingTypes
      .values()
      .filter((t) => query.thingTypeName === undefined || t.thingTypeName === query.thingTypeName)
      .sort(byKey((t) => t.thingTypeName));
    const { items, next } = page(types, (t) => t.thingTypeName, query.nextToken, 'nextToken', query.maxResults);
    return { thingTypes: items.map((t) => this.describeType(t)), nextToken: next };
  }

  /** DeprecateThingType (or undo it). */
  deprecateThingType(thingTypeName: unknown, body: Record<string, unknown>): Record<string, never> {
    const name = checkResourceName('thingTypeName', thingTypeName);
    const undo = optionalBoolean('undoDeprecate', body.undoDeprecate) ?? false;
    const type = this.thingTypeOrThrow(name);
    this.thingTypes.put(name, { ...type, deprecated: !undo, deprecationDate: undo ? undefined : this.clock.now() });
    this.changed();
    return {};
  }

  /** DeleteThingType: only once deprecated and no thing uses it, as AWS requires. */
  deleteThingType(thingTypeName: unknown): Record<string, never> {
    const name = checkResourceName('thingTypeName', thingTypeName);
    const type = this.thingTypeOrThrow(name);
    if (!type.deprecated) throw invalidRequest(`Thing type ${name} must be deprecated (DeprecateThingType) before it can be deleted.`);
    const users = this.things.values().filter((t) => t.thingTypeName === name);
    if (users.length > 0) {
      throw invalidRequest(`Thing type ${name} is still used by ${users.length} thing(s), e.g. ${users[0].thingName}; change their type first.`);
    }
    this.thingTypes.delete(name);
    this.changed();
    return {};
  }

  // ---------------------------------------------------------- thing groups

  private groupOrThrow(name: string): ThingGroupRecord {
    const group = this.thingGroups.get(name);
    if (!group) throw notFound(`Thing group ${name} cannot be found.`);
    return group;
  }

  /** Ancestors of a group, from its parent up to the root. */
  private ancestors(name: string): ThingGroupRecord[] {
    const chain: ThingGroupRecord[] = [];
    let parent = this.thingGroups.get(name)?.parentGroupName;
    while (parent) {
      const group = this.thingGroups.get(parent);
      if (!group || chain.includes(group)) break;
      chain.push(group);
      parent = group.parentGroupName;
    }
    return chain;
  }

  /** A group and every group below it. */
  private descendantsAndSelf(name: string): string[] {
    const children = new Map<string, string[]>();
    for (const g of this.thingGroups.values()) {
      if (!g.parentGroupName) continue;
      const list = children.get(g.parentGroupName) ?? [];
      list.push(g.thingGroupName);
      children.set(g.parentGroupName, list);
    }
    const out: string[] = [];
    const todo = [name];
    while (todo.length > 0) {
      const next = todo.pop() as string;
      if (out.includes(next)) continue;
      out.push(next);
      todo.push(...(children.get(next) ?? []));
    }
    return out;
  }

  /** CreateThingGroup; an identical repeat returns the existing group. */
  createThingGroup(thingGroupName: unknown, body: Record<string, unknown>): { thingGroupName: string; thingGroupArn: string; thingGroupId: string } {
    const name = checkResourceName('thingGroupName', thingGroupName);
    const parentGroupName = body.parentGroupName === undefined ? undefined : checkResourceName('parentGroupName', body.parentGroupName);
    const props = (body.thingGroupProperties ?? {}) as Record<string, unknown>;
    if (typeof props !== 'object' || Array.isArray(props)) throw invalidRequest(`thingGroupProperties must be an object, got ${quote(props)}`);
    const description = optionalString('thingGroupProperties.thingGroupDescription', props.thingGroupDescription, 2028);
    const payload = checkAttributePayload('thingGroupProperties.attributePayload', props.attributePayload);
    checkTags(body.tags);
    const attributes = applyAttributes({}, payload ?? { attributes: {}, merge: false });
    const existing = this.thingGroups.get(name);
    if (existing) {
      if (existing.parentGroupName === parentGroupName && existing.thingGroupDescription === description && sameAttributes(existing.attributes, attributes)) {
        return { thingGroupName: name, thingGroupArn: this.arns.thingGroup(name), thingGroupId: existing.thingGroupId };
      }
      throw alreadyExists(`Thing group ${name} already exists with different properties`, existing.thingGroupId, this.arns.thingGroup(name));
    }
    if (parentGroupName) {
      this.groupOrThrow(parentGroupName);
      if (this.ancestors(parentGroupName).length + 2 > MAX_GROUP_DEPTH) {
        throw invalidRequest(`Thing group ${name} would be deeper than ${MAX_GROUP_DEPTH} levels under ${parentGroupName}.`);
      }
    }
    const group: ThingGroupRecord = {
      thingGroupName: name,
      thingGroupId: randomUUID(),
      parentGroupName,
      thingGroupDescription: description,
      attributes,
      version: 1,
      creationDate: this.clock.now(),
    };
    this.thingGroups.put(name, group);
    this.changed();
    return { thingGroupName: name, thingGroupArn: this.arns.thingGroup(name), thingGroupId: group.thingGroupId };
  }

  /** DescribeThingGroup. */
  describeThingGroup(thingGroupName: unknown): Record<string, unknown> {
    const group = this.groupOrThrow(checkResourceName('thingGroupName', thingGroupName));
    const rootToParent = this.ancestors(group.thingGroupName)
      .reverse()
      .map((g) => ({ groupName: g.thingGroupName, groupArn: this.arns.thingGroup(g.thingGroupName) }));
    return {
      thingGroupName: group.thingGroupName,
      thingGroupId: group.thingGroupId,
      thingGroupArn: this.arns.thingGroup(group.thingGroupName),
      version: group.version,
      thingGroupProperties: { thingGroupDescription: group.thingGroupDescription, attributePayload: { attributes: group.attributes } },
      thingGroupMetadata: {
        parentGroupName: group.parentGroupName,
        rootToParentThingGroups: rootToParent,
        creationDate: seconds(group.creationDate),
      },
    };
  }

  /** UpdateThingGroup: description and attributes, with expectedVersion. */
  updateThingGroup(thingGroupName: unknown, body: Record<string, unknown>): { version: number } {
    const name = checkResourceName('thingGroupName', thingGroupName);
    const props = body.thingGroupProperties as Record<string, unknown> | undefined;
    if (!props || typeof props !== 'object' || Array.isArray(props)) throw invalidRequest('thingGroupProperties is required and must be an object.');
    const description = optionalString('thingGroupProperties.thingGroupDescription', props.thingGroupDescription, 2028);
    const payload = checkAttributePayload('thingGroupProperties.attributePayload', props.attributePayload);
    const expectedVersion = optionalInteger('expectedVersion', body.expectedVersion, 0, Number.MAX_SAFE_INTEGER);
    const group = this.groupOrThrow(name);
    if (expectedVersion !== undefined && expectedVersion !== group.version) {
      throw new IotError('VersionConflictException', `The version for thing group ${name} does not match the expected version (${expectedVersion} given, ${group.version} current).`);
    }
    const version = group.version + 1;
    this.thingGroups.put(name, {
      ...group,
      thingGroupDescription: description ?? group.thingGroupDescription,
      attributes: payload ? applyAttributes(group.attributes, payload) : group.attributes,
      version,
    });
    this.changed();
    return { version };
  }

  /** DeleteThingGroup: a missing group is success; a group with child groups is refused. */
  deleteThingGroup(thingGroupName: unknown, expectedVersion: number | undefined): Record<string, never> {
    const name = checkResourceName('thingGroupName', thingGroupName);
    const group = this.thingGroups.get(name);
    if (!group) return {};
    if (expectedVersion !== undefined && expectedVersion !== group.version) {
      throw new IotError('VersionConflictException', `The version for thing group ${name} does not match the expected version (${expectedVersion} given, ${group.version} current).`);
    }
    const child = this.thingGroups.values().find((g) => g.parentGroupName === name);
    if (child) throw invalidRequest(`Cannot delete thing group ${name}: it has child group ${child.thingGroupName}; delete the children first.`);
    for (const thing of this.things.values()) {
      if (thing.groups.includes(name)) this.things.put(thing.thingName, { ...thing, groups: thing.groups.filter((g) => g !== name) });
    }
    const arn = this.arns.thingGroup(name);
    for (const a of this.policyAttachments.values()) if (a.target === arn) this.policyAttachments.delete(this.attachmentKey(a.policyName, arn));
    this.thingGroups.delete(name);
    this.changed({ kind: 'thing-group-deleted', thingGroupName: name });
    return {};
  }

  /** ListThingGroups: all, the children of parentGroup (all descendants if recursive), by name prefix. */
  listThingGroups(query: {
    nextToken?: string;
    maxResults?: number;
    parentGroup?: string;
    namePrefixFilter?: string;
    recursive?: boolean;
  }): { thingGroups: { groupName: string; groupArn: string }[]; nextToken?: string } {
    let groups = this.thingGroups.values();
    if (query.parentGroup !== undefined) {
      this.groupOrThrow(checkResourceName('parentGroup', query.parentGroup));
      const below = query.recursive
        ? this.descendantsAndSelf(query.parentGroup).filter((n) => n !== query.parentGroup)
        : groups.filter((g) => g.parentGroupName === query.parentGroup).map((g) => g.thingGroupName);
      groups = groups.filter((g) => below.includes(g.thingGroupName));
    }
    if (query.namePrefixFilter !== undefined) groups = groups.filter((g) => g.thingGroupName.startsWith(query.namePrefixFilter as string));
    groups.sort(byKey((g) => g.thingGroupName));
    const { items, next } = page(groups, (g) => g.thingGroupName, query.nextToken, 'nextToken', query.maxResults);
    return { thingGroups: items.map((g) => ({ groupName: g.thingGroupName, groupArn: this.arns.thingGroup(g.thingGroupName) })), nextToken: next };
  }

  /** Resolves a thing and a group given by name or ARN (AddThingToThingGroup, RemoveThingFromThingGroup). */
  private membershipTarget(body: Record<string, unknown>): { thing: ThingRecord; group: ThingGroupRecord } {
    const byArn = (field: string, value: unknown, type: 'thing' | 'thinggroup'): string => {
      const text = optionalString(field, value) as string;
      const arn = parseIotArn(text);
      if (!arn || arn.resourceType !== type) throw invalidRequest(`${field} ${quote(text)} is not a ${type} ARN (arn:aws:iot:<region>:<account>:${type}/<name>).`);
      const name = this.arns.resourceId(text, type);
      if (name === undefined) throw notFound(`${field} ${text} names another region or account.`);
      return name;
    };
    const groupName =
      body.thingGroupName !== undefined
        ? checkResourceName('thingGroupName', body.thingGroupName)
        : body.thingGroupArn !== undefined
          ? byArn('thingGroupArn', body.thingGroupArn, 'thinggroup')
          : undefined;
    const thingName =
      body.thingName !== undefined ? checkResourceName('thingName', body.thingName) : body.thingArn !== undefined ? byArn('thingArn', body.thingArn, 'thing') : undefined;
    if (groupName === undefined) throw invalidRequest('thingGroupName or thingGroupArn is required.');
    if (thingName === undefined) throw invalidRequest('thingName or thingArn is required.');
    return { thing: this.thingOrThrow(thingName), group: this.groupOrThrow(groupName) };
  }

  /** AddThingToThingGroup: at most 10 groups per thing, and one group per hierarchy, as AWS allows. */
  addThingToThingGroup(body: Record<string, unknown>): Record<string, never> {
    optionalBoolean('overrideDynamicGroups', body.overrideDynamicGroups);
    const { thing, group } = this.membershipTarget(body);
    const name = group.thingGroupName;
    if (thing.groups.includes(name)) return {};
    if (thing.groups.length >= MAX_GROUPS_PER_THING) {
      throw invalidRequest(`Thing ${thing.thingName} already belongs to ${MAX_GROUPS_PER_THING} thing groups, the most AWS IoT allows.`);
    }
    const rootOf = (g: string): string => this.ancestors(g).pop()?.thingGroupName ?? g;
    const sameHierarchy = thing.groups.find((g) => rootOf(g) === rootOf(name));
    if (sameHierarchy) {
      throw invalidRequest(`Thing ${thing.thingName} is already in thing group ${sameHierarchy} of the same hierarchy as ${name}; a thing can be in only one group of a hierarchy.`);
    }
    this.things.put(thing.thingName, { ...thing, groups: [...thing.groups, name] });
    this.changed({ kind: 'thing-group-membership', thingName: thing.thingName, thingGroupName: name, member: true });
    return {};
  }

  /** RemoveThingFromThingGroup (not a member: success). */
  removeThingFromThingGroup(body: Record<string, unknown>): Record<string, never> {
    const { thing, group } = this.membershipTarget(body);
    if (!thing.groups.includes(group.thingGroupName)) return {};
    this.things.put(thing.thingName, { ...thing, groups: thing.groups.filter((g) => g !== group.thingGroupName) });
    this.changed({ kind: 'thing-group-membership', thingName: thing.thingName, thingGroupName: group.thingGroupName, member: false });
    return {};
  }

  /** Names of the things in a group (and in its descendants when recursive), sorted. */
  thingNamesInGroup(groupName: string, recursive: boolean): string[] {
    const groups = recursive ? new Set(this.descendantsAndSelf(groupName)) : new Set([groupName]);
    return this.things
      .values()
      .filter((t) => t.groups.some((g) => groups.has(g)))
      .map((t) => t.thingName)
      .sort();
  }

  /** ListThingsInThingGroup. */
  listThingsInThingGroup(thingGroupName: unknown, query: { recursive?: boolean; nextToken?: string; maxResults?: number }): { things: string[]; nextToken?: string } {
    const group = this.groupOrThrow(checkResourceName('thingGroupName', thingGroupName));
    const names = this.thingNamesInGroup(group.thingGroupName, query.recursive ?? false);
    const { items, next } = page(names, (n) => n, query.nextToken, 'nextToken', query.maxResults);
    return { things: items, nextToken: next };
  }

  /** ListThingGroupsForThing (direct memberships). */
  listThingGroupsForThing(thingName: unknown, query: { nextToken?: string; maxResults?: number }): { thingGroups: { groupName: string; groupArn: string }[]; nextToken?: string } {
    const thing = this.thingOrThrow(checkResourceName('thingName', thingName));
    const { items, next } = page([...thing.groups].sort(), (n) => n, query.nextToken, 'nextToken', query.maxResults);
    return { thingGroups: items.map((g) => ({ groupName: g, groupArn: this.arns.thingGroup(g) })), nextToken: next };
  }

  // ---------------------------------------------------------- certificates

  private certificateOrThrow(id: string): StoredCertificate {
    const cert = this.certificates.get(id);
    if (!cert) throw notFound(`Certificate ${id} cannot be found.`);
    return cert;
  }

  private storeCertificate(pem: string, status: CertificateRecord['status'], mode: 'DEFAULT' | 'SNI_ONLY', caCertificateId?: string): StoredCertificate {
    const x509 = new X509Certificate(pem);
    const certificateId = certificateIdOf(pem);
    const now = this.clock.now();
    const record: StoredCertificate = {
      certificateId,
      certificateArn: this.arns.certificate(certificateId),
      certificatePem: pem,
      status,
      caCertificateId,
      certificateMode: mode,
      creationDate: now,
      lastModifiedDate: now,
      notBefore: new Date(x509.validFrom).getTime(),
      notAfter: new Date(x509.validTo).getTime(),
      customerVersion: 1,
      generationId: this.generationId(),
    };
    this.certificates.put(certificateId, record);
    this.changed({ kind: 'certificate', certificateId, status });
    return record;
  }

  private caCertificateId(): string {
    return certificateIdOf(this.ca.caCertPem);
  }

  /** CreateKeysAndCertificate: an RSA-2048 key pair and a certificate from the local CA. */
  async createKeysAndCertificate(setAsActive: boolean): Promise<Record<string, unknown>> {
    const issued = await issueDeviceCertificate(this.ca);
    const cert = this.storeCertificate(issued.certificatePem, setAsActive ? 'ACTIVE' : 'INACTIVE', 'DEFAULT', this.caCertificateId());
    return {
      certificateArn: cert.certificateArn,
      certificateId: cert.certificateId,
      certificatePem: cert.certificatePem,
      keyPair: { PublicKey: issued.publicKeyPem, PrivateKey: issued.privateKeyPem },
    };
  }

  /** CreateCertificateFromCsr: signs an RSA (>= 2048 bit) CSR with the local CA. */
  createCertificateFromCsr(body: Record<string, unknown>, setAsActive: boolean): Record<string, unknown> {
    const csrPem = optionalString('certificateSigningRequest', body.certificateSigningRequest, 4096);
    if (!csrPem) throw invalidRequest('certificateSigningRequest is required.');
    let publicKeyPem: string;
    try {
      const csr = forge.pki.certificationRequestFromPem(csrPem);
      if (!csr.verify()) throw new Error('its signature does not verify');
      const key = csr.publicKey as forge.pki.rsa.PublicKey | null;
      if (!key || key.n.bitLength() < 2048) throw new Error('the key must be RSA of at least 2048 bits');
      publicKeyPem = forge.pki.publicKeyToPem(key);
    } catch (err) {
      throw invalidRequest(`certificateSigningRequest is not a valid CSR: ${(err as Error).message}`);
    }
    const pem = signDeviceCertificate(this.ca, publicKeyPem);
    const cert = this.storeCertificate(pem, setAsActive ? 'ACTIVE' : 'INACTIVE', 'DEFAULT', this.caCertificateId());
    return { certificateArn: cert.certificateArn, certificateId: cert.certificateId, certificatePem: cert.certificatePem };
  }

  private parseRegistered(body: Record<string, unknown>, setAsActive: boolean | undefined): { pem: string; status: CertificateRecord['status'] } {
    const pem = optionalString('certificatePem', body.certificatePem, 65536);
    if (!pem) throw invalidRequest('certificatePem is required.');
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(pem);
    } catch (err) {
      throw new IotError('CertificateValidationException', `certificatePem is not a PEM X.509 certificate: ${(err as Error).message}`);
    }
    if (new Date(x509.validTo).getTime() < this.clock.now()) throw new IotError('CertificateValidationException', `The certificate expired on ${x509.validTo}.`);
    const status = optionalString('status', body.status, 32) as CertificateRecord['status'] | undefined;
    if (status !== undefined && !['ACTIVE', 'INACTIVE'].includes(status)) throw invalidRequest(`status ${quote(status)} is not ACTIVE or INACTIVE.`);
    const id = certificateIdOf(pem);
    const existing = this.certificates.get(id);
    if (existing) throw alreadyExists(`Certificate ${id} is already registered.`, id, existing.certificateArn);
    return { pem, status: status ?? (setAsActive ? 'ACTIVE' : 'INACTIVE') };
  }

  /** RegisterCertificate: a certificate signed by the given CA, or by the local CA when none is given. */
  registerCertificate(body: Record<string, unknown>, setAsActive: boolean | undefined): { certificateArn: string; certificateId: string } {
    const caPem = optionalString('caCertificatePem', body.caCertificatePem, 65536);
    const { pem, status } = this.parseRegistered(body, setAsActive);
    const issuer = caPem ?? this.ca.caCertPem;
    if (!isSignedBy(pem, issuer)) {
      throw new IotError('CertificateValidationException', caPem ? 'The certificate is not signed by caCertificatePem.' : 'The certificate is not signed by a registered CA (the local CA).');
    }
    const cert = this.storeCertificate(pem, status, 'DEFAULT', caPem ? certificateIdOf(caPem) : this.caCertificateId());
    return { certificateArn: cert.certificateArn, certificateId: cert.certificateId };
  }

  /** RegisterCertificateWithoutCA: any valid certificate, SNI_ONLY as AWS marks them. */
  registerCertificateWithoutCA(body: Record<string, unknown>): { certificateArn: string; certificateId: string } {
    const { pem, status } = this.parseRegistered(body, undefined);
    const cert = this.storeCertificate(pem, status, 'SNI_ONLY');
    return { certificateArn: cert.certificateArn, certificateId: cert.certificateId };
  }

  /** DescribeCertificate. */
  describeCertificate(certificateId: unknown): Record<string, unknown> {
    const c = this.certificateOrThrow(checkCertificateId(certificateId));
    return {
      certificateDescription: {
        certificateArn: c.certificateArn,
        certificateId: c.certificateId,
        caCertificateId: c.caCertificateId,
        status: c.status,
        certificatePem: c.certificatePem,
        ownedBy: this.arns.accountId,
        creationDate: seconds(c.creationDate),
        lastModifiedDate: seconds(c.lastModifiedDate),
        customerVersion: c.customerVersion,
        generationId: c.generationId,
        validity: { notBefore: seconds(c.notBefore), notAfter: seconds(c.notAfter) },
        certificateMode: c.certificateMode,
      },
    };
  }

  /** UpdateCertificate: ACTIVE/INACTIVE/REVOKED...; a revoked certificate stays revoked, as AWS. */
  updateCertificate(certificateId: unknown, newStatus: unknown): Record<string, never> {
    const id = checkCertificateId(certificateId);
    if (typeof newStatus !== 'string' || !CERTIFICATE_STATUSES.includes(newStatus as CertificateRecord['status'])) {
      throw invalidRequest(`newStatus ${quote(newStatus)} is invalid: use ACTIVE, INACTIVE or REVOKED.`);
    }
    const status = newStatus as CertificateRecord['status'];
    if (status === 'PENDING_TRANSFER' || status === 'PENDING_ACTIVATION') {
      throw invalidRequest(`newStatus ${status} cannot be set with UpdateCertificate.`);
    }
    const cert = this.certificateOrThrow(id);
    if (cert.status === status) return {};
    if (cert.status === 'REVOKED') throw new IotError('CertificateStateException', `Certificate ${id} is REVOKED; a revoked certificate cannot change status.`);
    if (cert.status === 'PENDING_TRANSFER') throw new IotError('CertificateStateException', `Certificate ${id} is PENDING_TRANSFER.`);
    this.certificates.put(id, {
      ...cert,
      status,
      lastModifiedDate: this.clock.now(),
      customerVersion: cert.customerVersion + 1,
      generationId: this.generationId(),
    });
    this.changed({ kind: 'certificate', certificateId: id, status });
    return {};
  }

  /** DeleteCertificate: not while ACTIVE (406), attached to a thing, or (without forceDelete) to a policy (409). */
  deleteCertificate(certificateId: unknown, forceDelete: boolean): Record<string, never> {
    const id = checkCertificateId(certificateId);
    const cert = this.certificateOrThrow(id);
    if (cert.status === 'ACTIVE') throw new IotError('CertificateStateException', 'Certificate must be deactivated (not ACTIVE) before deletion.');
    const things = this.thingsOfPrincipal(cert.certificateArn);
    if (things.length > 0) {
      throw new IotError('DeleteConflictException', `Things must be detached before deletion (arn: ${cert.certificateArn}, attached to ${things.join(', ')}).`);
    }
    const policies = this.policiesAttachedTo(cert.certificateArn);
    if (policies.length > 0 && !forceDelete) {
      throw new IotError('DeleteConflictException', `Certificate policies must be detached before deletion (arn: ${cert.certificateArn}, policies ${policies.join(', ')}).`);
    }
    for (const p of policies) this.policyAttachments.delete(this.attachmentKey(p, cert.certificateArn));
    this.certificates.delete(id);
    this.changed({ kind: 'certificate', certificateId: id, status: 'DELETED' });
    return {};
  }

  /** ListCertificates, by creation date (newest first unless ascendingOrder). */
  listCertificates(query: { pageSize?: number; marker?: string; ascendingOrder?: boolean }): { certificates: Record<string, unknown>[]; nextMarker?: string } {
    const key = (c: StoredCertificate): string => `${String(c.creationDate).padStart(15, '0')}:${c.certificateId}`;
    const certs = this.certificates.values().sort(byKey(key));
    if (!query.ascendingOrder) certs.reverse();
    // Descending order pages by the inverted key, so "after" still means "later in this listing".
    const pageKey = query.ascendingOrder ? key : (c: StoredCertificate): string => [...key(c)].map((ch) => String.fromCharCode(0xffff - ch.charCodeAt(0))).join('');
    const { items, next } = page(certs, pageKey, query.marker, 'marker', query.pageSize);
    return {
      certificates: items.map((c) => ({
        certificateArn: c.certificateArn,
        certificateId: c.certificateId,
        status: c.status,
        certificateMode: c.certificateMode,
        creationDate: seconds(c.creationDate),
      })),
      nextMarker: next,
    };
  }

  // --------------------------------------------------------------- policies

  private policyOrThrow(name: string): PolicyRecord {
    const policy = this.policies.get(name);
    if (!policy) throw notFound(`Policy ${name} cannot be found.`);
    return policy;
  }

  private checkDocument(value: unknown): string {
    if (typeof value !== 'string' || value.length === 0) throw invalidRequest('policyDocument is required and must be a string holding the JSON policy.');
    try {
      parsePolicyDocument(value);
    } catch (err) {
      throw new IotError('MalformedPolicyException', `Policy document is malformed: ${(err as Error).message}`);
    }
    return value;
  }

  private defaultDocument(policy: PolicyRecord): string {
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

  private versionOrThrow(policy: PolicyRecord, versionId: unknown): PolicyRecord['versions'][number] {
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

  // ---------------------------------------------------- policy attachments

  private attachmentKey(policyName: string, target: string): string {
    return `${policyName}\n${target}`;
  }

  /** Checks a policy target (certificate ARN or thing group ARN) and that it exists. */
  private checkTarget(field: string, target: unknown): string {
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
  policiesAttachedTo(target: string): string[] {
    return this.policyAttachments
      .values()
      .filter((a) => a.target === target)
      .map((a) => a.policyName)
      .sort();
  }

  private targetsOf(policyName: string): string[] {
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

  // ------------------------------------------------------- thing principals

  private principalKey(thingName: string, principal: string): string {
    return `${thingName}\n${principal}`;
  }

  /** Checks a principal given as a certificate ARN and that the certificate exists. */
  private checkPrincipal(principal: unknown): string {
    if (typeof principal !== 'string' || principal.length === 0) throw invalidRequest('principal (header x-amzn-principal) is required: a certificate ARN.');
    const arn = parseIotArn(principal);
    if (!arn || arn.resourceType !== 'cert') throw invalidRequest(`principal ${quote(principal)} is not a certificate ARN (arn:aws:iot:<region>:<account>:cert/<id>).`);
    const id = this.arns.resourceId(principal, 'cert');
    if (id === undefined || !this.certificates.get(checkCertificateId(id))) throw notFound(`Certificate ${principal} cannot be found.`);
    return principal;
  }

  private principalsOf(thingName: string): ThingPrincipalRecord[] {
    return this.thingPrincipals.values().filter((p) => p.thingName === thingName);
  }

  /** Names of the things a principal (certificate ARN) is attached to, sorted. */
  thingsOfPrincipal(principal: string): string[] {
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

  // ------------------------------------------------------------- endpoint

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

  // ------------------------------------------------- directory queries

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
