import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import forge from 'node-forge';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DetachThingPrincipalCommand,
  ListCertificatesCommand,
  ListPrincipalThingsCommand,
  ListThingPrincipalsCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCertificateCommand,
  paginateListCertificates,
} from '@aws-sdk/client-iot';
import { certificateIdOf, DEVICE_CERT_COMMON_NAME, issueDeviceCertificate, loadOrCreateCa } from './ca';
import { createPolicy, startRegistryCloud, errorName } from './registry-testing';

const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] };

test('CreateKeysAndCertificate issues an RSA key and a certificate from the local CA, with AWS ids and ARNs', async () => {
  const { iot, cloud, cleanup } = await startRegistryCloud();
  try {
    const tls = cloud.context.tls;
    assert.ok(tls, 'the registry sets ctx.tls');
    const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const pem = out.certificatePem as string;
    const cert = new X509Certificate(pem);
    assert.ok(cert.verify(new X509Certificate(tls.caCertPem).publicKey), 'signed by the CA in ctx.tls');
    assert.equal(cert.subject, `CN=${DEVICE_CERT_COMMON_NAME}`);
    assert.equal(out.certificateId, certificateIdOf(pem));
    assert.equal(out.certificateArn, `arn:aws:iot:${cloud.region}:${cloud.accountId}:cert/${out.certificateId}`);
    assert.match(out.keyPair?.PrivateKey ?? '', /BEGIN RSA PRIVATE KEY/);
    assert.match(out.keyPair?.PublicKey ?? '', /BEGIN PUBLIC KEY/);
    // The broker's server certificate is issued by the same CA for loopback.
    const server = new X509Certificate(tls.serverCertPem);
    assert.ok(server.checkIP('127.0.0.1') && server.checkHost('localhost'));
    assert.ok(server.verify(new X509Certificate(tls.caCertPem).publicKey));

    const d = (await iot.send(new DescribeCertificateCommand({ certificateId: out.certificateId }))).certificateDescription;
    assert.equal(d?.status, 'ACTIVE');
    assert.equal(d?.certificatePem, pem);
    assert.equal(d?.ownedBy, cloud.accountId);
    assert.equal(d?.validity?.notAfter?.toISOString(), '2049-12-31T23:59:59.000Z');
    assert.ok(d?.creationDate instanceof Date);
    const inactive = await iot.send(new CreateKeysAndCertificateCommand({}));
    assert.equal((await iot.send(new DescribeCertificateCommand({ certificateId: inactive.certificateId }))).certificateDescription?.status, 'INACTIVE');
    assert.equal(cloud.context.directory?.certificate(out.certificateId as string)?.status, 'ACTIVE');
    assert.equal(cloud.context.directory?.certificate('0'.repeat(64)), undefined);

    // ListCertificates: newest first by default, pages with markers.
    const third = await iot.send(new CreateKeysAndCertificateCommand({}));
    const listed = (await iot.send(new ListCertificatesCommand({}))).certificates?.map((c) => c.certificateId);
    assert.deepEqual(new Set(listed), new Set([out.certificateId, inactive.certificateId, third.certificateId]));
    const ids: string[] = [];
    for await (const p of paginateListCertificates({ client: iot, pageSize: 2 }, { ascendingOrder: true })) ids.push(...(p.certificates ?? []).map((c) => c.certificateId as string));
    assert.equal(ids.length, 3);
    assert.deepEqual([...ids].sort(), [...(listed as string[])].sort());
    assert.equal(await errorName(iot.send(new DescribeCertificateCommand({ certificateId: 'a'.repeat(64) }))), 'ResourceNotFoundException');
    assert.equal(await errorName(iot.send(new DescribeCertificateCommand({ certificateId: 'not-an-id' }))), 'InvalidRequestException');
  } finally {
    await cleanup();
  }
});

test('certificate life cycle: deactivate, revoke (final), delete only when inactive and detached', async () => {
  const { iot, cloud, cleanup } = await startRegistryCloud();
  try {
    const changes: string[] = [];
    (cloud.context.directory as unknown as { onChange(fn: (c: { kind: string; status?: string }) => void): void }).onChange((c) => {
      if (c.kind === 'certificate') changes.push(c.status as string);
    });
    await iot.send(new CreateThingCommand({ thingName: 'dev-1' }));
    await createPolicy(iot, 'all', ALLOW_ALL);
    const { certificateId, certificateArn } = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'dev-1', principal: certificateArn }));
    await iot.send(new AttachPolicyCommand({ policyName: 'all', target: certificateArn }));

    // ACTIVE: DeleteCertificate → CertificateStateException (406).
    await assert.rejects(iot.send(new DeleteCertificateCommand({ certificateId })), (err: Error & { $metadata: { httpStatusCode?: number } }) => {
      assert.equal(err.name, 'CertificateStateException');
      assert.equal(err.$metadata.httpStatusCode, 406);
      return true;
    });
    await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' }));
    await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' }));
    assert.equal(cloud.context.directory?.certificate(certificateId as string)?.status, 'REVOKED');
    // A revoked certificate cannot come back.
    assert.equal(await errorName(iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' }))), 'CertificateStateException');
    assert.equal(await errorName(iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'BOGUS' as 'ACTIVE' }))), 'InvalidRequestException');
    assert.equal(await errorName(iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'PENDING_TRANSFER' }))), 'InvalidRequestException');
    assert.deepEqual(changes, ['ACTIVE', 'INACTIVE', 'ACTIVE', 'REVOKED']);

    // Attached to a thing → DeleteConflictException; then a policy → DeleteConflict unless forceDelete.
    assert.equal(await errorName(iot.send(new DeleteCertificateCommand({ certificateId }))), 'DeleteConflictException');
    assert.deepEqual((await iot.send(new ListThingPrincipalsCommand({ thingName: 'dev-1' }))).principals, [certificateArn]);
    assert.deepEqual((await iot.send(new ListPrincipalThingsCommand({ principal: certificateArn }))).things, ['dev-1']);
    await iot.send(new DetachThingPrincipalCommand({ thingName: 'dev-1', principal: certificateArn }));
    assert.deepEqual((await iot.send(new ListThingPrincipalsCommand({ thingName: 'dev-1' }))).principals, []);
    assert.equal(await errorName(iot.send(new DeleteCertificateCommand({ certificateId }))), 'DeleteConflictException');
    await iot.send(new DeleteCertificateCommand({ certificateId, forceDelete: true }));
    assert.equal(await errorName(iot.send(new DescribeCertificateCommand({ certificateId }))), 'ResourceNotFoundException');
    assert.equal(cloud.context.directory?.certificate(certificateId as string), undefined);
    assert.deepEqual(changes, ['ACTIVE', 'INACTIVE', 'ACTIVE', 'REVOKED', 'DELETED']);
  } finally {
    await cleanup();
  }
});

test('thing principals: exclusive attachment, unknown principals, missing things', async () => {
  const { iot, cloud, cleanup } = await startRegistryCloud();
  try {
    for (const t of ['a', 'b']) await iot.send(new CreateThingCommand({ thingName: t }));
    const shared = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const own = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'a', principal: shared.certificateArn }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'b', principal: shared.certificateArn }));
    assert.deepEqual((await iot.send(new ListPrincipalThingsCommand({ principal: shared.certificateArn }))).things, ['a', 'b']);
    // A certificate attached exclusively to "b" cannot also go on "a"; one shared by a and b cannot become exclusive.
    assert.equal(
      await errorName(iot.send(new AttachThingPrincipalCommand({ thingName: 'b', principal: own.certificateArn, thingPrincipalType: 'EXCLUSIVE_THING' }))),
      'no error',
    );
    assert.equal(await errorName(iot.send(new AttachThingPrincipalCommand({ thingName: 'a', principal: own.certificateArn }))), 'InvalidRequestException');
    const directory = cloud.context.directory as unknown as { exclusiveThingOf(arn: string): string | undefined };
    assert.equal(directory.exclusiveThingOf(own.certificateArn as string), 'b');
    assert.equal(directory.exclusiveThingOf(shared.certificateArn as string), undefined);
    assert.equal(
      await errorName(iot.send(new AttachThingPrincipalCommand({ thingName: 'a', principal: shared.certificateArn, thingPrincipalType: 'EXCLUSIVE_THING' }))),
      'InvalidRequestException',
    );
    const ghost = shared.certificateArn?.replace(/cert\/.*/, `cert/${'b'.repeat(64)}`);
    assert.equal(await errorName(iot.send(new AttachThingPrincipalCommand({ thingName: 'a', principal: ghost }))), 'ResourceNotFoundException');
    assert.equal(await errorName(iot.send(new AttachThingPrincipalCommand({ thingName: 'nope', principal: shared.certificateArn }))), 'ResourceNotFoundException');
    assert.equal(await errorName(iot.send(new AttachThingPrincipalCommand({ thingName: 'a', principal: 'not-an-arn' }))), 'InvalidRequestException');
    assert.equal(await errorName(iot.send(new ListThingPrincipalsCommand({ thingName: 'nope' }))), 'ResourceNotFoundException');
    // A thing with a principal attached cannot be deleted.
    assert.equal(await errorName(iot.send(new DeleteThingCommand({ thingName: 'a' }))), 'InvalidRequestException');
  } finally {
    await cleanup();
  }
});

test('CreateCertificateFromCsr, RegisterCertificate and RegisterCertificateWithoutCA', async () => {
  const { iot, cloud, dir, cleanup } = await startRegistryCloud();
  try {
    const pair = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const csr = forge.pki.createCertificationRequest();
    csr.publicKey = forge.pki.publicKeyFromPem(pair.publicKey);
    csr.setSubject([{ name: 'commonName', value: 'my-device' }]);
    csr.sign(forge.pki.privateKeyFromPem(pair.privateKey), forge.md.sha256.create());
    const fromCsr = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: forge.pki.certificationRequestToPem(csr), setAsActive: true }));
    assert.ok(new X509Certificate(fromCsr.certificatePem as string).verify(new X509Certificate(cloud.context.tls?.caCertPem as string).publicKey));
    assert.equal(await errorName(iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: 'garbage' }))), 'InvalidRequestException');

    // A certificate issued by the local CA outside the registry can be registered, once.
    const ca = await loadOrCreateCa(join(dir, 'ca'));
    const outside = await issueDeviceCertificate(ca);
    const reg = await iot.send(new RegisterCertificateCommand({ certificatePem: outside.certificatePem, status: 'ACTIVE' }));
    assert.equal(reg.certificateId, certificateIdOf(outside.certificatePem));
    assert.equal((await iot.send(new DescribeCertificateCommand({ certificateId: reg.certificateId }))).certificateDescription?.status, 'ACTIVE');
    assert.equal(await errorName(iot.send(new RegisterCertificateCommand({ certificatePem: outside.certificatePem }))), 'ResourceAlreadyExistsException');
    // One from a foreign CA only with that CA, or without CA checks.
    const foreignCa = await loadOrCreateCa(join(dir, 'foreign-ca'));
    const foreign = await issueDeviceCertificate(foreignCa);
    assert.equal(await errorName(iot.send(new RegisterCertificateCommand({ certificatePem: foreign.certificatePem }))), 'CertificateValidationException');
    const withCa = await iot.send(new RegisterCertificateCommand({ certificatePem: foreign.certificatePem, caCertificatePem: foreignCa.caCertPem }));
    assert.equal((await iot.send(new DescribeCertificateCommand({ certificateId: withCa.certificateId }))).certificateDescription?.status, 'INACTIVE');
    const other = await issueDeviceCertificate(foreignCa);
    const noCa = await iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: other.certificatePem }));
    assert.equal((await iot.send(new DescribeCertificateCommand({ certificateId: noCa.certificateId }))).certificateDescription?.certificateMode, 'SNI_ONLY');
    assert.equal(await errorName(iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: 'not a pem' }))), 'CertificateValidationException');
  } finally {
    await cleanup();
  }
});

test('DescribeEndpoint gives the MQTT host for data endpoints and the HTTP host:port for Jobs', async () => {
  const { iot, cloud, cleanup } = await startRegistryCloud();
  try {
    assert.equal((await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress, cloud.endpoints.mqttHost);
    assert.equal((await iot.send(new DescribeEndpointCommand({}))).endpointAddress, cloud.endpoints.mqttHost);
    assert.equal((await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Jobs' }))).endpointAddress, new URL(cloud.endpoints.http).host);
    assert.equal(await errorName(iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Nope' }))), 'InvalidRequestException');
  } finally {
    await cleanup();
  }
});
