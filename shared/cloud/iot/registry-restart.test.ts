import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  CreateThingGroupCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  GetPolicyCommand,
  ListAttachedPoliciesCommand,
  ListThingPrincipalsCommand,
  ListThingsInThingGroupCommand,
  UpdateCertificateCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import { createPolicy, issueThingCertificate, startRegistryCloud } from './registry-testing';

test('a restart on the same folder keeps things, groups, certificates, policies, attachments and the CA', async () => {
  const first = await startRegistryCloud();
  const dir = first.dir;
  let running = first;
  try {
    await createPolicy(first.iot, 'device', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] });
    await first.iot.send(new CreateThingGroupCommand({ thingGroupName: 'farm' }));
    const a = await issueThingCertificate(first.iot, 'dev-a', 'device');
    const b = await issueThingCertificate(first.iot, 'dev-b');
    await first.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'farm', thingName: 'dev-a' }));
    await first.iot.send(new UpdateThingCommand({ thingName: 'dev-a', attributePayload: { attributes: { site: 'north' } } }));
    await first.iot.send(new UpdateCertificateCommand({ certificateId: b.certificateId, newStatus: 'REVOKED' }));
    const tls = first.cloud.context.tls;
    await first.stop();

    const second = await startRegistryCloud({ dir });
    running = second;
    {
      const { iot, cloud } = second;
      assert.deepEqual(cloud.context.tls, tls, 'same CA and server certificate');
      const thing = await iot.send(new DescribeThingCommand({ thingName: 'dev-a' }));
      assert.deepEqual([thing.version, thing.attributes], [2, { site: 'north' }]);
      assert.deepEqual((await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'farm' }))).things, ['dev-a']);
      assert.equal((await iot.send(new DescribeCertificateCommand({ certificateId: a.certificateId }))).certificateDescription?.status, 'ACTIVE');
      assert.equal((await iot.send(new DescribeCertificateCommand({ certificateId: b.certificateId }))).certificateDescription?.status, 'REVOKED');
      // Still revoked for good after the restart.
      await assert.rejects(iot.send(new UpdateCertificateCommand({ certificateId: b.certificateId, newStatus: 'ACTIVE' })), { name: 'CertificateStateException' });
      assert.equal((await iot.send(new GetPolicyCommand({ policyName: 'device' }))).defaultVersionId, '1');
      assert.deepEqual((await iot.send(new ListAttachedPoliciesCommand({ target: a.certificateArn }))).policies?.map((p) => p.policyName), ['device']);
      assert.deepEqual((await iot.send(new ListThingPrincipalsCommand({ thingName: 'dev-b' }))).principals, [b.certificateArn]);
      const directory = cloud.context.directory;
      assert.deepEqual(directory?.thingsForPrincipal(a.certificateArn), ['dev-a']);
      assert.deepEqual(directory?.policiesForPrincipal(a.certificateArn).map((p) => p.name), ['device']);
      assert.equal(directory?.certificate(b.certificateId)?.status, 'REVOKED');
      // New writes after the restart work on top of the old state.
      await iot.send(new AttachPolicyCommand({ policyName: 'device', target: b.certificateArn }));
      assert.deepEqual(directory?.policiesForPrincipal(b.certificateArn).map((p) => p.name), ['device']);
    }
  } finally {
    await running.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
