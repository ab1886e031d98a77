import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DetachPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  ListAttachedPoliciesCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListTargetsForPolicyCommand,
  SetDefaultPolicyVersionCommand,
} from '@aws-sdk/client-iot';
import type { EffectivePolicy } from './registry-directory';
import { startRegistryCloud, errorName } from './registry-testing';

/** A valid policy document allowing one action on one resource. */
function doc(action: string, resource = '*'): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] });
}

test('policies: create, get, list, versions, default version, delete rules', async () => {
  const { iot, cloud, cleanup } = await startRegistryCloud();
  try {
    const created = await iot.send(new CreatePolicyCommand({ policyName: 'device', policyDocument: doc('iot:Connect') }));
    assert.equal(created.policyArn, `arn:aws:iot:${cloud.region}:${cloud.accountId}:policy/device`);
    assert.equal(created.policyVersionId, '1');
    assert.equal(await errorName(iot.send(new CreatePolicyCommand({ policyName: 'device', policyDocument: doc('iot:Connect') }))), 'ResourceAlreadyExistsException');
    const got = await iot.send(new GetPolicyCommand({ policyName: 'device' }));
    assert.equal(got.policyDocument, doc('iot:Connect'));
    assert.equal(got.defaultVersionId, '1');
    assert.ok(got.creationDate instanceof Date);

    const v2 = await iot.send(new CreatePolicyVersionCommand({ policyName: 'device', policyDocument: doc('iot:Publish'), setAsDefault: true }));
    assert.deepEqual([v2.policyVersionId, v2.isDefaultVersion], ['2', true]);
    assert.equal((await iot.send(new GetPolicyCommand({ policyName: 'device' }))).policyDocument, doc('iot:Publish'));
    await iot.send(new CreatePolicyVersionCommand({ policyName: 'device', policyDocument: doc('iot:Subscribe') }));
    const versions = (await iot.send(new ListPolicyVersionsCommand({ policyName: 'device' }))).policyVersions;
    assert.deepEqual(versions?.map((v) => [v.versionId, v.isDefaultVersion]), [['3', false], ['2', true], ['1', false]]);
    assert.equal((await iot.send(new GetPolicyVersionCommand({ policyName: 'device', policyVersionId: '3' }))).policyDocument, doc('iot:Subscribe'));
    await iot.send(new SetDefaultPolicyVersionCommand({ policyName: 'device', policyVersionId: '1' }));
    assert.equal((await iot.send(new GetPolicyCommand({ policyName: 'device' }))).defaultVersionId, '1');
    assert.equal(await errorName(iot.send(new DeletePolicyVersionCommand({ policyName: 'device', policyVersionId: '1' }))), 'DeleteConflictException');
    assert.equal(await errorName(iot.send(new GetPolicyVersionCommand({ policyName: 'device', policyVersionId: '9' }))), 'ResourceNotFoundException');
    // At most five versions.
    await iot.send(new CreatePolicyVersionCommand({ policyName: 'device', policyDocument: doc('iot:Receive') }));
    await iot.send(new CreatePolicyVersionCommand({ policyName: 'device', policyDocument: doc('iot:Receive') }));
    assert.equal(await errorName(iot.send(new CreatePolicyVersionCommand({ policyName: 'device', policyDocument: doc('iot:Receive') }))), 'VersionsLimitExceededException');

    // Non-default versions block DeletePolicy.
    assert.equal(await errorName(iot.send(new DeletePolicyCommand({ policyName: 'device' }))), 'DeleteConflictException');
    for (const v of ['2', '3', '4', '5']) await iot.send(new DeletePolicyVersionCommand({ policyName: 'device', policyVersionId: v }));
    await iot.send(new CreatePolicyCommand({ policyName: 'other', policyDocument: doc('iot:Connect') }));
    assert.deepEqual((await iot.send(new ListPoliciesCommand({}))).policies?.map((p) => p.policyName), ['device', 'other']);
    await iot.send(new DeletePolicyCommand({ policyName: 'device' }));
    assert.equal(await errorName(iot.send(new GetPolicyCommand({ policyName: 'device' }))), 'ResourceNotFoundException');
    assert.equal(await errorName(iot.send(new DeletePolicyCommand({ policyName: 'device' }))), 'ResourceNotFoundException');
  } finally {
    await cleanup();
  }
});

test('attach/detach policies to certificates and thing groups; effective policies include group ancestors', async () => {
  const { iot, cloud, cleanup } = await startRegistryCloud();
  try {
    const directory = cloud.context.directory;
    assert.ok(directory);
    await iot.send(new CreatePolicyCommand({ policyName: 'direct', policyDocument: doc('iot:Connect') }));
    await iot.send(new CreatePolicyCommand({ policyName: 'farm-wide', policyDocument: doc('iot:Publish') }));
    await iot.send(new CreatePolicyCommand({ policyName: 'row', policyDocument: doc('iot:Subscribe') }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'farm' }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'row-1', parentGroupName: 'farm' }));
    await iot.send(new CreateThingCommand({ thingName: 'dev-1' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'row-1', thingName: 'dev-1' }));
    const cert = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const certArn = cert.certificateArn as string;
    const farmArn = `arn:aws:iot:${cloud.region}:${cloud.accountId}:thinggroup/farm`;
    const rowArn = `arn:aws:iot:${cloud.region}:${cloud.accountId}:thinggroup/row-1`;

    await iot.send(new AttachPolicyCommand({ policyName: 'direct', target: certArn }));
    await iot.send(new AttachPolicyCommand({ policyName: 'direct', target: certArn })); // idempotent
    await iot.send(new AttachPolicyCommand({ policyName: 'farm-wide', target: farmArn }));
    await iot.send(new AttachPolicyCommand({ policyName: 'row', target: rowArn }));
    assert.deepEqual((await iot.send(new ListAttachedPoliciesCommand({ target: certArn }))).policies?.map((p) => p.policyName), ['direct']);
    assert.deepEqual((await iot.send(new ListAttachedPoliciesCommand({ target: rowArn }))).policies?.map((p) => p.policyName), ['row']);
    assert.deepEqual((await iot.send(new ListAttachedPoliciesCommand({ target: rowArn, recursive: true }))).policies?.map((p) => p.policyName), ['farm-wide', 'row']);
    assert.deepEqual((await iot.send(new ListTargetsForPolicyCommand({ policyName: 'direct' }))).targets, [certArn]);

    // Before the certificate is attached to the thing, only the direct policy applies.
    assert.deepEqual(directory.policiesForPrincipal(certArn).map((p) => p.name), ['direct']);
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'dev-1', principal: certArn }));
    const effective = directory.policiesForPrincipal(certArn) as EffectivePolicy[];
    assert.deepEqual(
      effective.map((p) => [p.name, p.thingName, p.thingGroupName]),
      [
        ['direct', undefined, undefined],
        ['row', 'dev-1', 'row-1'],
        ['farm-wide', 'dev-1', 'farm'],
      ],
    );
    assert.equal(effective[0].document, doc('iot:Connect'));
    assert.deepEqual(directory.thingsForPrincipal(certArn), ['dev-1']);
    assert.deepEqual(directory.thing('dev-1'), { thingName: 'dev-1', thingTypeName: undefined, attributes: {} });

    // The same list comes back until something that can change it happens (the broker memoises on it).
    await iot.send(new CreateThingCommand({ thingName: 'unrelated' }));
    assert.equal(directory.policiesForPrincipal(certArn), effective);
    // A new default version is what the directory hands out next.
    await iot.send(new CreatePolicyVersionCommand({ policyName: 'direct', policyDocument: doc('iot:*'), setAsDefault: true }));
    assert.equal(directory.policiesForPrincipal(certArn)[0].document, doc('iot:*'));

    // Attached policies block DeletePolicy; detach (also of something not attached) succeeds.
    assert.equal(await errorName(iot.send(new DeletePolicyCommand({ policyName: 'row' }))), 'DeleteConflictException');
    await iot.send(new DetachPolicyCommand({ policyName: 'row', target: rowArn }));
    await iot.send(new DetachPolicyCommand({ policyName: 'row', target: rowArn }));
    assert.deepEqual(directory.policiesForPrincipal(certArn).map((p) => p.name), ['direct', 'farm-wide']);
    await iot.send(new DeletePolicyCommand({ policyName: 'row' }));

    // Targets must exist and be certificate or thing group ARNs.
    assert.equal(await errorName(iot.send(new AttachPolicyCommand({ policyName: 'direct', target: farmArn.replace('farm', 'nope') }))), 'ResourceNotFoundException');
    assert.equal(await errorName(iot.send(new AttachPolicyCommand({ policyName: 'missing', target: certArn }))), 'ResourceNotFoundException');
    assert.equal(await errorName(iot.send(new AttachPolicyCommand({ policyName: 'direct', target: `arn:aws:iot:${cloud.region}:${cloud.accountId}:thing/dev-1` }))), 'InvalidRequestException');
    assert.equal(await errorName(iot.send(new ListAttachedPoliciesCommand({ target: certArn.replace(/cert\/.*/, `cert/${'c'.repeat(64)}`) }))), 'ResourceNotFoundException');
    assert.equal(await errorName(iot.send(new ListTargetsForPolicyCommand({ policyName: 'missing' }))), 'ResourceNotFoundException');
  } finally {
    await cleanup();
  }
});

test('an eleventh policy on one certificate is LimitExceededException (410)', async () => {
  const { iot, cleanup } = await startRegistryCloud();
  try {
    const cert = await iot.send(new CreateKeysAndCertificateCommand({}));
    for (let i = 0; i < 11; i++) await iot.send(new CreatePolicyCommand({ policyName: `p${i}`, policyDocument: doc('iot:Connect') }));
    for (let i = 0; i < 10; i++) await iot.send(new AttachPolicyCommand({ policyName: `p${i}`, target: cert.certificateArn }));
    await assert.rejects(iot.send(new AttachPolicyCommand({ policyName: 'p10', target: cert.certificateArn })), (err: Error & { $metadata: { httpStatusCode?: number } }) => {
      assert.equal(err.name, 'LimitExceededException');
      assert.equal(err.$metadata.httpStatusCode, 410);
      return true;
    });
    assert.equal((await iot.send(new ListAttachedPoliciesCommand({ target: cert.certificateArn }))).policies?.length, 10);
  } finally {
    await cleanup();
  }
});
