/**
 * Thing types of the IoT registry: create, describe, list, deprecate, delete.
 */
import { seconds, page, byKey } from './registry-base';
import { RegistryThings } from './registry-things';
import { randomUUID } from 'node:crypto';
import { alreadyExists, invalidRequest, notFound } from './registry-errors';
import { checkAttributes, checkResourceName, checkTags, optionalBoolean, optionalString, quote } from './registry-validation';
import type { ThingTypeRecord } from './registry-records';

/** Thing types of the IoT registry: create, describe, list, deprecate, delete. */
export abstract class RegistryThingTypes extends RegistryThings {
  protected thingTypeOrThrow(name: string): ThingTypeRecord {
    const type = this.thingTypes.get(name);
    if (!type) throw notFound(`Thing type ${name} cannot be found.`);
    return type;
  }

  protected describeType(type: ThingTypeRecord): Record<string, unknown> {
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
}
