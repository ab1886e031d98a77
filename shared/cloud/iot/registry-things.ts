/**
 * Things of the IoT registry: CreateThing, DescribeThing, UpdateThing, DeleteThing, ListThings.
 */
import { sameAttributes, applyAttributes, page, byKey, RegistryBase } from './registry-base';
import { randomUUID } from 'node:crypto';
import { alreadyExists, invalidRequest, IotError, notFound } from './registry-errors';
import { checkAttributePayload, checkResourceName, MAX_ATTRIBUTES_WITH_TYPE, MAX_ATTRIBUTES_WITHOUT_TYPE, optionalBoolean, optionalInteger, optionalString } from './registry-validation';
import type { ThingRecord } from './registry-records';

/** Things of the IoT registry: CreateThing, DescribeThing, UpdateThing, DeleteThing, ListThings. */
export abstract class RegistryThings extends RegistryBase {
  protected thingOrThrow(name: string): ThingRecord {
    const thing = this.things.get(name);
    if (!thing) throw notFound(`Thing ${name} cannot be found.`);
    return thing;
  }

  protected checkThingTypeUsable(name: string): void {
    const type = this.thingTypes.get(name);
    if (!type) throw notFound(`Thing type ${name} cannot be found.`);
    if (type.deprecated) throw invalidRequest(`Thing type ${name} is deprecated; new things cannot use it.`);
  }

  protected checkAttributeCount(attributes: Record<string, string>, thingTypeName: string | undefined): void {
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
}
