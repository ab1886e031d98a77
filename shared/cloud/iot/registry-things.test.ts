import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  CreateThingTypeCommand,
  DeleteThingCommand,
  DeleteThingGroupCommand,
  DeleteThingTypeCommand,
  DeprecateThingTypeCommand,
  DescribeThingCommand,
  DescribeThingGroupCommand,
  DescribeThingTypeCommand,
  ListThingGroupsCommand,
  ListThingGroupsForThingCommand,
  ListThingsCommand,
  ListThingsInThingGroupCommand,
  ListThingTypesCommand,
  RemoveThingFromThingGroupCommand,
  UpdateThingCommand,
  UpdateThingGroupCommand,
  paginateListThings,
} from '@aws-sdk/client-iot';
import { startRegistryCloud, errorName } from './registry-testing';

/** The error name the SDK raised, or 'no error'. */
test('things: create, describe, update with versions, list with filters and pages, delete', async () => {
  const { iot, cloud, cleanup } = await startRegistryCloud();
  try {
    const created = await iot.send(new CreateThingCommand({ thingName: 'turbine-1', attributePayload: { attributes: { site: 'north', rating: '2MW' } } }));
    assert.equal(created.thingArn, `arn:aws:iot:${cloud.region}:${cloud.accountId}:thing/turbine-1`);
    assert.match(created.thingId ?? '', /^[0-9a-f-]{36}$/);
    // Same configuration again: the existing thing, as AWS answers.
    const again = await iot.send(new CreateThingCommand({ thingName: 'turbine-1', attributePayload: { attributes: { rating: '2MW', site: 'north' } } }));
    assert.equal(again.thingId, created.thingId);
    // Different configuration: ResourceAlreadyExistsException (409).
    await assert.rejects(iot.send(new CreateThingCommand({ thingName: 'turbine-1' })), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(err.name, 'ResourceAlreadyExistsException');
      assert.equal(err.$metadata?.httpStatusCode, 409);
      return true;
    });

    const d = await iot.send(new DescribeThingCommand({ thingName: 'turbine-1' }));
    assert.deepEqual([d.thingName, d.defaultClientId, d.version, d.attributes], ['turbine-1', 'turbine-1', 1, { site: 'north', rating: '2MW' }]);

    await iot.send(new UpdateThingCommand({ thingName: 'turbine-1', expectedVersion: 1, attributePayload: { attributes: { site: '', phase: 'b' }, merge: true } }));
    const d2 = await iot.send(new DescribeThingCommand({ thingName: 'turbine-1' }));
    assert.equal(d2.version, 2);
    assert.deepEqual(d2.attributes, { rating: '2MW', phase: 'b' });
    assert.equal(await errorName(iot.send(new UpdateThingCommand({ thingName: 'turbine-1', expectedVersion: 1 }))), 'VersionConflictException');
    assert.equal(await errorName(iot.send(new DeleteThingCommand({ thingName: 'turbine-1', expectedVersion: 7 }))), 'VersionConflictException');
    assert.equal(await errorName(iot.send(new DescribeThingCommand({ thingName: 'nope' }))), 'ResourceNotFoundException');
    assert.equal(await errorName(iot.send(new UpdateThingCommand({ thingName: 'nope' }))), 'ResourceNotFoundException');
    // Four attributes without a thing type are more than AWS allows.
    assert.equal(
      await errorName(iot.send(new CreateThingCommand({ thingName: 'wide', attributePayload: { attributes: { a: '1', b: '2', c: '3', d: '4' } } }))),
      'InvalidRequestException',
    );

    for (let i = 0; i < 7; i++) {
      await iot.send(new CreateThingCommand({ thingName: `t-${i}`, attributePayload: { attributes: { batch: i % 2 ? 'odd' : 'even', serial: `sn-${i}0` } } }));
    }
    const odd = await iot.send(new ListThingsCommand({ attributeName: 'batch', attributeValue: 'odd' }));
    assert.deepEqual(odd.things?.map((t) => t.thingName), ['t-1', 't-3', 't-5']);
    assert.equal(odd.things?.[0].thingArn, `arn:aws:iot:${cloud.region}:${cloud.accountId}:thing/t-1`);
    const prefix = await iot.send(new ListThingsCommand({ attributeName: 'serial', attributeValue: 'sn-1', usePrefixAttributeValue: true }));
    assert.deepEqual(prefix.things?.map((t) => t.thingName), ['t-1']);
    const names: string[] = [];
    let pages = 0;
    for await (const p of paginateListThings({ client: iot, pageSize: 3 }, {})) {
      pages++;
      names.push(...(p.things ?? []).map((t) => t.thingName as string));
    }
    assert.equal(pages, 3);
    assert.deepEqual(names, ['t-0', 't-1', 't-2', 't-3', 't-4', 't-5', 't-6', 'turbine-1']);

    await iot.send(new DeleteThingCommand({ thingName: 'turbine-1', expectedVersion: 2 }));
    assert.equal(await errorName(iot.send(new DescribeThingCommand({ thingName: 'turbine-1' }))), 'ResourceNotFoundException');
    // Deleting a missing thing succeeds, as AWS.
    await iot.send(new DeleteThingCommand({ thingName: 'turbine-1' }));
  } finally {
    await cleanup();
  }
});

test('thing types: create, describe, list, things of a type, deprecate, delete only when deprecated and unused', async () => {
  const { iot, cleanup } = await startRegistryCloud();
  try {
    const type = await iot.send(
      new CreateThingTypeCommand({ thingTypeName: 'WindTurbine', thingTypeProperties: { thingTypeDescription: 'mini turbine', searchableAttributes: ['site'] } }),
    );
    assert.match(type.thingTypeArn ?? '', /:thingtype\/WindTurbine$/);
    const d = await iot.send(new DescribeThingTypeCommand({ thingTypeName: 'WindTurbine' }));
    assert.equal(d.thingTypeProperties?.thingTypeDescription, 'mini turbine');
    assert.equal(d.thingTypeMetadata?.deprecated, false);
    assert.ok(d.thingTypeMetadata?.creationDate instanceof Date);
    // With a type a thing may have more than three attributes.
    await iot.send(
      new CreateThingCommand({ thingName: 'typed', thingTypeName: 'WindTurbine', attributePayload: { attributes: { a: '1', b: '2', c: '3', d: '4' } } }),
    );
    await iot.send(new CreateThingCommand({ thingName: 'plain' }));
    assert.deepEqual((await iot.send(new ListThingsCommand({ thingTypeName: 'WindTurbine' }))).things?.map((t) => t.thingName), ['typed']);
    assert.equal(await errorName(iot.send(new CreateThingCommand({ thingName: 'x', thingTypeName: 'Missing' }))), 'ResourceNotFoundException');
    assert.deepEqual((await iot.send(new ListThingTypesCommand({}))).thingTypes?.map((t) => t.thingTypeName), ['WindTurbine']);

    assert.equal(await errorName(iot.send(new DeleteThingTypeCommand({ thingTypeName: 'WindTurbine' }))), 'InvalidRequestException');
    await iot.send(new DeprecateThingTypeCommand({ thingTypeName: 'WindTurbine' }));
    assert.equal((await iot.send(new DescribeThingTypeCommand({ thingTypeName: 'WindTurbine' }))).thingTypeMetadata?.deprecated, true);
    assert.equal(await errorName(iot.send(new CreateThingCommand({ thingName: 'late', thingTypeName: 'WindTurbine' }))), 'InvalidRequestException');
    // Still used by "typed".
    assert.equal(await errorName(iot.send(new DeleteThingTypeCommand({ thingTypeName: 'WindTurbine' }))), 'InvalidRequestException');
    await iot.send(new UpdateThingCommand({ thingName: 'typed', removeThingType: true, attributePayload: { attributes: { a: '1' } } }));
    await iot.send(new DeleteThingTypeCommand({ thingTypeName: 'WindTurbine' }));
    assert.equal(await errorName(iot.send(new DescribeThingTypeCommand({ thingTypeName: 'WindTurbine' }))), 'ResourceNotFoundException');
  } finally {
    await cleanup();
  }
});

test('thing groups: hierarchy, membership by name or ARN, recursive listing, delete', async () => {
  const { iot, cloud, cleanup } = await startRegistryCloud();
  try {
    const farm = await iot.send(new CreateThingGroupCommand({ thingGroupName: 'farm', thingGroupProperties: { thingGroupDescription: 'all turbines' } }));
    assert.match(farm.thingGroupArn ?? '', /:thinggroup\/farm$/);
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'north', parentGroupName: 'farm' }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'north-a', parentGroupName: 'north' }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'spares' }));
    assert.equal(await errorName(iot.send(new CreateThingGroupCommand({ thingGroupName: 'x', parentGroupName: 'missing' }))), 'ResourceNotFoundException');
    assert.equal(await errorName(iot.send(new CreateThingGroupCommand({ thingGroupName: 'north', parentGroupName: 'spares' }))), 'ResourceAlreadyExistsException');

    const d = await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'north-a' }));
    assert.equal(d.thingGroupMetadata?.parentGroupName, 'north');
    assert.deepEqual(d.thingGroupMetadata?.rootToParentThingGroups?.map((g) => g.groupName), ['farm', 'north']);
    assert.equal(d.version, 1);
    const updated = await iot.send(new UpdateThingGroupCommand({ thingGroupName: 'north-a', expectedVersion: 1, thingGroupProperties: { thingGroupDescription: 'row a' } }));
    assert.equal(updated.version, 2);

    for (const t of ['a', 'b', 'c']) await iot.send(new CreateThingCommand({ thingName: t }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'farm', thingName: 'a' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupArn: `arn:aws:iot:${cloud.region}:${cloud.accountId}:thinggroup/north-a`, thingArn: `arn:aws:iot:${cloud.region}:${cloud.accountId}:thing/b` }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'spares', thingName: 'c' }));
    // Adding twice is fine; a second group of the same hierarchy is not (AWS rule).
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'farm', thingName: 'a' }));
    assert.equal(await errorName(iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'north', thingName: 'a' }))), 'InvalidRequestException');
    assert.equal(await errorName(iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'farm', thingName: 'ghost' }))), 'ResourceNotFoundException');

    assert.deepEqual((await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'farm' }))).things, ['a']);
    assert.deepEqual((await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'farm', recursive: true }))).things, ['a', 'b']);
    assert.deepEqual((await iot.send(new ListThingGroupsForThingCommand({ thingName: 'b' }))).thingGroups?.map((g) => g.groupName), ['north-a']);
    assert.deepEqual((await iot.send(new ListThingGroupsCommand({}))).thingGroups?.map((g) => g.groupName), ['farm', 'north', 'north-a', 'spares']);
    assert.deepEqual((await iot.send(new ListThingGroupsCommand({ parentGroup: 'farm' }))).thingGroups?.map((g) => g.groupName), ['north']);
    assert.deepEqual((await iot.send(new ListThingGroupsCommand({ parentGroup: 'farm', recursive: true }))).thingGroups?.map((g) => g.groupName), ['north', 'north-a']);
    assert.deepEqual((await iot.send(new ListThingGroupsCommand({ namePrefixFilter: 'nor' }))).thingGroups?.map((g) => g.groupName), ['north', 'north-a']);

    // The directory the broker and Jobs use sees the same membership, and reports changes to it.
    const changes: unknown[] = [];
    (cloud.context.directory as unknown as { onChange(fn: (c: unknown) => void): void }).onChange((c) => changes.push(c));
    assert.deepEqual(cloud.context.directory?.thingsInGroup('farm', true), ['a', 'b']);
    assert.deepEqual(cloud.context.directory?.thingsInGroup('farm', false), ['a']);
    assert.deepEqual(cloud.context.directory?.thingsInGroup('missing', true), []);

    await iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'spares', thingName: 'c' }));
    assert.deepEqual(changes, [{ kind: 'thing-group-membership', thingName: 'c', thingGroupName: 'spares', member: false }]);
    assert.deepEqual((await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'spares' }))).things, []);
    // A group with children cannot be deleted; leaves can, and memberships go with them.
    assert.equal(await errorName(iot.send(new DeleteThingGroupCommand({ thingGroupName: 'north' }))), 'InvalidRequestException');
    assert.equal(await errorName(iot.send(new DeleteThingGroupCommand({ thingGroupName: 'north-a', expectedVersion: 1 }))), 'VersionConflictException');
    await iot.send(new DeleteThingGroupCommand({ thingGroupName: 'north-a' }));
    assert.deepEqual(changes.at(-1), { kind: 'thing-group-deleted', thingGroupName: 'north-a' });
    assert.deepEqual((await iot.send(new ListThingGroupsForThingCommand({ thingName: 'b' }))).thingGroups, []);
    await iot.send(new DeleteThingGroupCommand({ thingGroupName: 'north-a' })); // missing: success
  } finally {
    await cleanup();
  }
});
