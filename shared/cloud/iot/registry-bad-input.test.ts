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
  IoTClient,
  ListAttachedPoliciesCommand,
  ListCertificatesCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListThingGroupsCommand,
  ListThingsCommand,
  UpdateCertificateCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import { cloudClientConfig } from '../local-cloud';
import { startRegistryCloud } from './registry-testing';

/** The SDK error of a request that must fail: name, HTTP status, message. */
async function failure(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('request was expected to fail');
}

/** Everything a client can list, to prove a refused request changed nothing. */
async function snapshot(iot: IoTClient): Promise<string> {
  const [things, groups, policies, certs, versions] = await Promise.all([
    iot.send(new ListThingsCommand({})),
    iot.send(new ListThingGroupsCommand({})),
    iot.send(new ListPoliciesCommand({})),
    iot.send(new ListCertificatesCommand({})),
    iot.send(new ListPolicyVersionsCommand({ policyName: 'good' })),
  ]);
  return JSON.stringify([things.things, groups.thingGroups, policies.policies, certs.certificates, versions.policyVersions]);
}

test('bad input gets an AWS-shaped 4xx naming the problem and changes nothing', async () => {
  const { iot, cloud, cleanup } = await startRegistryCloud();
  // A client whose next request body is replaced after serialisation (then signed as usual).
  let rawBody: string | undefined;
  const raw = new IoTClient(cloudClientConfig(cloud));
  raw.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown; headers: Record<string, string> };
      if (rawBody !== undefined) {
        request.body = rawBody;
        request.headers['content-length'] = String(Buffer.byteLength(rawBody));
        request.headers['content-type'] = 'application/json';
      }
      return next(args);
    },
    { step: 'build', name: 'replaceBody' },
  );
  try {
    const arn = (type: string, name: string): string => `arn:aws:iot:${cloud.region}:${cloud.accountId}:${type}/${name}`;
    await iot.send(new CreateThingCommand({ thingName: 'dev-1' }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'farm' }));
    const good = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] });
    await iot.send(new CreatePolicyCommand({ policyName: 'good', policyDocument: good }));
    const cert = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const before = await snapshot(iot);

    // Malformed JSON bodies.
    rawBody = '{"thingTypeName": ';
    let f = await failure(raw.send(new CreateThingCommand({ thingName: 'from-bad-json' })));
    assert.deepEqual([f.name, f.status], ['InvalidRequestException', 400]);
    assert.match(f.message, /not valid JSON/);
    rawBody = '["a list"]';
    f = await failure(raw.send(new CreatePolicyCommand({ policyName: 'from-array', policyDocument: good })));
    assert.match(f.message, /must be a JSON object/);
    rawBody = undefined;

    // Invalid policy documents: MalformedPolicyException with the reason.
    const badDocs: [string, RegExp][] = [
      ['{"Version": "2012-10-17", "Statement": [', /JSON/],
      [JSON.stringify({ Version: '2012-10-17' }), /Statement/],
      [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: 'iot:Connect', Resource: '*' }] }), /Effect/],
      [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: 'x'.repeat(3000) }] }), /2048|characters/],
    ];
    for (const [policyDocument, reason] of badDocs) {
      f = await failure(iot.send(new CreatePolicyCommand({ policyName: 'bad', policyDocument })));
      assert.deepEqual([f.name, f.status], ['MalformedPolicyException', 400], policyDocument.slice(0, 60));
      assert.match(f.message, reason);
    }
    f = await failure(iot.send(new CreatePolicyVersionCommand({ policyName: 'good', policyDocument: '{}' })));
    assert.equal(f.name, 'MalformedPolicyException');
    f = await failure(iot.send(new CreatePolicyCommand({ policyName: 'bad name', policyDocument: good })));
    assert.deepEqual([f.name, f.status], ['InvalidRequestException', 400]);
    assert.match(f.message, /policyName/);

    // Bad ARNs: InvalidRequestException naming the member.
    for (const target of ['arn:aws:iot:bad', 'not-an-arn', arn('thing', 'dev-1'), 'arn:aws:s3:::bucket/key']) {
      f = await failure(iot.send(new AttachPolicyCommand({ policyName: 'good', target })));
      assert.deepEqual([f.name, f.status], ['InvalidRequestException', 400], target);
      assert.match(f.message, /target/);
    }
    f = await failure(iot.send(new ListAttachedPoliciesCommand({ target: 'arn:aws:iot:nowhere' })));
    assert.equal(f.name, 'InvalidRequestException');
    f = await failure(iot.send(new AddThingToThingGroupCommand({ thingGroupArn: 'arn:aws:iot:us-east-1:1:thinggroup/farm', thingName: 'dev-1' })));
    assert.equal(f.name, 'InvalidRequestException');
    assert.match(f.message, /thingGroupArn/);
    f = await failure(iot.send(new AddThingToThingGroupCommand({ thingGroupArn: arn('thing', 'farm'), thingName: 'dev-1' })));
    assert.equal(f.name, 'InvalidRequestException');
    f = await failure(iot.send(new AttachThingPrincipalCommand({ thingName: 'dev-1', principal: 'arn:aws:iot:us-east-1:000000000000:cert/xyz' })));
    assert.equal(f.name, 'InvalidRequestException');

    // Bad names and values.
    for (const thingName of ['bad name', 'x'.repeat(129), 'slash/inside', 'ünïcode']) {
      f = await failure(iot.send(new CreateThingCommand({ thingName })));
      assert.deepEqual([f.name, f.status], ['InvalidRequestException', 400], thingName);
      assert.match(f.message, /thingName/);
    }
    f = await failure(iot.send(new CreateThingCommand({ thingName: 'ok', attributePayload: { attributes: { 'bad key!': 'v' } } })));
    assert.match(f.message, /attribute name/);
    f = await failure(iot.send(new CreateThingCommand({ thingName: 'ok', attributePayload: { attributes: { k: 'space is bad' } } })));
    assert.match(f.message, /value of attribute "k"/);
    f = await failure(iot.send(new UpdateThingCommand({ thingName: 'dev-1', thingTypeName: 'T', removeThingType: true })));
    assert.equal(f.name, 'InvalidRequestException');
    f = await failure(iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'ENABLED' as 'ACTIVE' })));
    assert.match(f.message, /newStatus/);
    f = await failure(iot.send(new ListThingsCommand({ maxResults: 0 })));
    assert.match(f.message, /maxResults/);
    f = await failure(iot.send(new ListThingsCommand({ nextToken: 'made-up' })));
    assert.match(f.message, /nextToken/);
    f = await failure(iot.send(new CreateThingGroupCommand({ thingGroupName: 'child', parentGroupName: 'bad parent' })));
    assert.match(f.message, /parentGroupName/);

    assert.equal(await snapshot(iot), before);
    assert.equal(cloud.context.directory?.certificate(cert.certificateId as string)?.status, 'ACTIVE');
  } finally {
    raw.destroy();
    await cleanup();
  }
});
