/**
 * Thing groups of the IoT registry: the group tree and thing membership.
 */
import { seconds, sameAttributes, applyAttributes, page, byKey } from './registry-base';
import { RegistryThingTypes } from './registry-thing-types';
import { randomUUID } from 'node:crypto';
import { parseIotArn } from './arn';
import { alreadyExists, invalidRequest, IotError, notFound } from './registry-errors';
import { checkAttributePayload, checkResourceName, checkTags, MAX_GROUP_DEPTH, MAX_GROUPS_PER_THING, optionalBoolean, optionalInteger, optionalString, quote } from './registry-validation';
import type { ThingRecord, ThingGroupRecord } from './registry-records';

/** Thing groups of the IoT registry: the group tree and thing membership. */
export abstract class RegistryThingGroups extends RegistryThingTypes {
  protected groupOrThrow(name: string): ThingGroupRecord {
    const group = this.thingGroups.get(name);
    if (!group) throw notFound(`Thing group ${name} cannot be found.`);
    return group;
  }

  /** Ancestors of a group, from its parent up to the root. */
  protected ancestors(name: string): ThingGroupRecord[] {
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
  protected descendantsAndSelf(name: string): string[] {
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
  protected membershipTarget(body: Record<string, unknown>): { thing: ThingRecord; group: ThingGroupRecord } {
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
}
