import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  caCertPath,
  certificateIdOf,
  DEVICE_CERT_COMMON_NAME,
  issueDeviceCertificate,
  isSignedBy,
  loadOrCreateCa,
  loadOrCreateServerCertificate,
} from './ca';

test('CA is created once, key private, and reloaded unchanged', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ca-test-'));
  try {
    const ca = await loadOrCreateCa(join(dir, 'ca'));
    assert.equal((await stat(join(dir, 'ca', 'ca.key'))).mode & 0o777, 0o600);
    const again = await loadOrCreateCa(join(dir, 'ca'));
    assert.equal(again.caCertPem, ca.caCertPem);
    assert.equal(caCertPath(dir), join(dir, 'ca', 'ca.pem'));
    const x = new X509Certificate(ca.caCertPem);
    assert.equal(x.ca, true);
    assert.ok(x.verify(x.publicKey), 'self-signed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a half-written CA folder is refused rather than replaced', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ca-test-'));
  try {
    await loadOrCreateCa(dir);
    await unlink(join(dir, 'ca.key'));
    await assert.rejects(loadOrCreateCa(dir), /ca\.pem without ca\.key/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('device certificates are issued as AWS IoT issues them and verify against the CA', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ca-test-'));
  try {
    const ca = await loadOrCreateCa(dir);
    const issued = await issueDeviceCertificate(ca);
    const cert = new X509Certificate(issued.certificatePem);
    assert.ok(cert.verify(new X509Certificate(ca.caCertPem).publicKey));
    assert.ok(isSignedBy(issued.certificatePem, ca.caCertPem));
    assert.equal(cert.subject, `CN=${DEVICE_CERT_COMMON_NAME}`);
    assert.equal(new Date(cert.validTo).toISOString(), '2049-12-31T23:59:59.000Z');
    assert.match(issued.privateKeyPem, /^-----BEGIN RSA PRIVATE KEY-----/);
    assert.match(issued.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(createPrivateKey(issued.privateKeyPem).asymmetricKeyDetails?.modulusLength, 2048);
    // The key pair belongs together and to the certificate.
    assert.equal(
      createPublicKey(issued.privateKeyPem).export({ type: 'spki', format: 'pem' }),
      cert.publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const id = certificateIdOf(issued.certificatePem);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(id, cert.fingerprint256.replace(/:/g, '').toLowerCase());
    const other = await issueDeviceCertificate(ca);
    assert.notEqual(certificateIdOf(other.certificatePem), id);
    // A certificate from another CA does not verify.
    const foreign = await loadOrCreateCa(join(dir, 'other'));
    assert.equal(isSignedBy(issued.certificatePem, foreign.caCertPem), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('server certificate covers loopback names and is reused until its hosts change', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ca-test-'));
  try {
    const ca = await loadOrCreateCa(dir);
    const first = await loadOrCreateServerCertificate(ca);
    const cert = new X509Certificate(first.serverCertPem);
    assert.ok(cert.checkHost('localhost'));
    assert.ok(cert.checkIP('127.0.0.1'));
    assert.ok(cert.checkIP('::1'));
    assert.ok(isSignedBy(first.serverCertPem, ca.caCertPem));
    assert.equal((await stat(join(dir, 'server.key'))).mode & 0o777, 0o600);
    assert.equal((await loadOrCreateServerCertificate(ca)).serverCertPem, first.serverCertPem);
    const wider = await loadOrCreateServerCertificate(ca, ['iot.local']);
    assert.notEqual(wider.serverCertPem, first.serverCertPem);
    assert.ok(new X509Certificate(wider.serverCertPem).checkHost('iot.local'));
    // A server certificate not issued by this CA is replaced.
    await writeFile(join(dir, 'server.pem'), (await issueDeviceCertificate(await loadOrCreateCa(join(dir, 'x')))).certificatePem);
    const replaced = await loadOrCreateServerCertificate(ca, ['iot.local']);
    assert.ok(isSignedBy(replaced.serverCertPem, ca.caCertPem));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a mutual TLS handshake succeeds with the server and device certificates, and is refused with a foreign CA', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ca-test-'));
  const tls = await import('node:tls');
  const ca = await loadOrCreateCa(join(dir, 'ca'));
  const server = await loadOrCreateServerCertificate(ca);
  const device = await issueDeviceCertificate(ca);
  const foreign = await issueDeviceCertificate(await loadOrCreateCa(join(dir, 'foreign')));
  const srv = tls.createServer({ key: server.serverKeyPem, cert: server.serverCertPem, ca: ca.caCertPem, requestCert: true, rejectUnauthorized: true }, (socket) => {
    // Answer with the id AWS IoT would give the client's certificate.
    socket.end(createHash('sha256').update(socket.getPeerCertificate().raw).digest('hex'));
  });
  srv.on('tlsClientError', () => undefined);
  try {
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as { port: number }).port;
    /** What the server answered, or 'refused'; never hangs. */
    const connect = (key: string, cert: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port, key, cert, ca: ca.caCertPem });
        let data = '';
        const timer = setTimeout(() => socket.destroy(), 5000);
        socket.on('data', (d) => (data += d));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearTimeout(timer);
          resolve(data || 'refused');
        });
      });
    assert.equal(await connect(device.privateKeyPem, device.certificatePem), certificateIdOf(device.certificatePem));
    assert.equal(await connect(foreign.privateKeyPem, foreign.certificatePem), 'refused');
  } finally {
    srv.close();
    await rm(dir, { recursive: true, force: true });
  }
});
