/**
 * The local cloud's certificate authority: one CA key and certificate created once under <state dir>/ca/,
 * the TLS server certificate of the MQTT broker, and device certificates as AWS IoT issues them
 * (RSA-2048, subject CN "AWS IoT Certificate", valid until 2049-12-31T23:59:59Z).
 * Keys come from node:crypto (native, fast); certificates are built and signed with node-forge, because
 * node:crypto can read X.509 but not write it.
 */
import { createHash, createPrivateKey, generateKeyPair, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);

/** Expiry AWS IoT gives the certificates of CreateKeysAndCertificate. */
export const DEVICE_CERT_NOT_AFTER = new Date('2049-12-31T23:59:59Z');
/** Subject common name AWS IoT gives the certificates of CreateKeysAndCertificate. */
export const DEVICE_CERT_COMMON_NAME = 'AWS IoT Certificate';

/** The CA as loaded from (or created in) its folder. */
export interface LocalCa {
  /** Folder holding ca.pem, ca.key (mode 0600), server.pem, server.key. */
  dir: string;
  caCertPem: string;
  caKeyPem: string;
}

/** An RSA key pair with a certificate for it. */
export interface IssuedCertificate {
  certificatePem: string;
  /** PKCS#1 "RSA PRIVATE KEY" PEM, as AWS IoT returns it. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo "PUBLIC KEY" PEM. */
  publicKeyPem: string;
}

/** Path of the CA certificate under a state folder: what devices and clients trust. */
export function caCertPath(stateDir: string): string {
  return join(stateDir, 'ca', 'ca.pem');
}

/** Certificate id as AWS IoT computes it: lowercase hex SHA-256 of the certificate's DER. */
export function certificateIdOf(certificatePem: string): string {
  return createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
}

/** Writes a file atomically (temp file, then rename), so a crash never leaves half a key. */
function writeFileAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

/** A positive random serial number in the hex form forge expects. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

/** A fresh RSA-2048 key pair as PEMs (private key PKCS#1, public key SPKI). */
async function newRsaKeyPair(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * Loads the CA from dir, or creates it there (key mode 0600) when dir holds none. A half-written CA (a
 * certificate without its key or the reverse) is an error, not silently replaced: devices may trust it.
 */
export async function loadOrCreateCa(dir: string): Promise<LocalCa> {
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca.key');
  const haveCert = existsSync(certPath);
  const haveKey = existsSync(keyPath);
  if (haveCert && haveKey) {
    return { dir, caCertPem: readFileSync(certPath, 'utf8'), caKeyPem: readFileSync(keyPath, 'utf8') };
  }
  if (haveCert !== haveKey) {
    throw new Error(`${dir} holds ${haveCert ? 'ca.pem without ca.key' : 'ca.key without ca.pem'}; remove both to create a new CA`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKeyPem, publicKeyPem } = await newRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = DEVICE_CERT_NOT_AFTER;
  const subject = [
    { name: 'commonName', value: 'Local IoT Cloud Root CA' },
    { name: 'organizationName', value: 'wind-turbine-edge-ml-labs' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(nativeSigner(cert, createPrivateKey(privateKeyPem)), forge.md.sha256.create());
  const caCertPem = forge.pki.certificateToPem(cert);
  // Key first: a crash between the two writes leaves a key without a certificate, which the check above reports.
  writeFileAtomic(keyPath, privateKeyPem, 0o600);
  writeFileAtomic(certPath, caCertPem, 0o644);
  return { dir, caCertPem, caKeyPem: privateKeyPem };
}

/**
 * A forge "private key" whose sign() uses node:crypto: forge builds the certificate, node signs it
 * (native RSA is about 30 times faster than forge's JavaScript big integers).
 */
function nativeSigner(cert: forge.pki.Certificate, key: KeyObject): forge.pki.rsa.PrivateKey {
  return {
    sign: () => {
      // forge has just set cert.tbsCertificate to the structure being signed.
      const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
      return sign('sha256', tbs, key).toString('binary');
    },
  } as unknown as forge.pki.rsa.PrivateKey;
}

const caKeys = new Map<string, KeyObject>();

/** The CA's private key as a node KeyObject, parsed once per CA. */
function caKeyObject(ca: LocalCa): KeyObject {
  let key = caKeys.get(ca.caKeyPem);
  if (!key) {
    key = createPrivateKey(ca.caKeyPem);
    caKeys.set(ca.caKeyPem, key);
  }
  return key;
}

/** Signs a certificate for publicKeyPem with the CA; extensions say what it is for. */
function signWithCa(
  ca: LocalCa,
  publicKeyPem: string,
  subject: forge.pki.CertificateField[],
  notAfter: Date,
  extensions: object[],
): string {
  const caCert = forge.pki.certificateFromPem(ca.caCertPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = notAfter;
  cert.setSubject(subject);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    ...extensions,
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(nativeSigner(cert, caKeyObject(ca)), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** A device (TLS client) certificate for an existing public key, as CreateCertificateFromCsr issues it. */
export function signDeviceCertificate(ca: LocalCa, publicKeyPem: string, commonName = DEVICE_CERT_COMMON_NAME): string {
  return signWithCa(ca, publicKeyPem, [{ name: 'commonName', value: commonName }], DEVICE_CERT_NOT_AFTER, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
}

/** A new key pair and device certificate, as CreateKeysAndCertificate returns them. */
export async function issueDeviceCertificate(ca: LocalCa): Promise<IssuedCertificate> {
  const keys = await newRsaKeyPair();
  return { certificatePem: signDeviceCertificate(ca, keys.publicKeyPem), ...keys };
}

/** True when certificatePem was signed by the certificate in issuerPem. */
export function isSignedBy(certificatePem: string, issuerPem: string): boolean {
  try {
    const cert = new X509Certificate(certificatePem);
    const issuer = new X509Certificate(issuerPem);
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Host names and IP addresses the broker's server certificate must cover. */
function serverHosts(extraHosts: string[]): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', ...extraHosts])].sort();
}

/**
 * The MQTT broker's TLS server certificate (SAN localhost, 127.0.0.1, ::1 and extraHosts), reused from
 * the CA folder while it covers the same hosts and was issued by this CA, created otherwise.
 */
export async function loadOrCreateServerCertificate(
  ca: LocalCa,
  extraHosts: string[] = [],
): Promise<{ serverCertPem: string; serverKeyPem: string }> {
  const certPath = join(ca.dir, 'server.pem');
  const keyPath = join(ca.dir, 'server.key');
  const hostsPath = join(ca.dir, 'server-hosts.json');
  const hosts = serverHosts(extraHosts);
  if (existsSync(certPath) && existsSync(keyPath) && existsSync(hostsPath)) {
    const serverCertPem = readFileSync(certPath, 'utf8');
    const sameHosts = readFileSync(hostsPath, 'utf8') === JSON.stringify(hosts);
    const notExpiring = new Date(new X509Certificate(serverCertPem).validTo).getTime() > Date.now() + 86_400_000;
    if (sameHosts && notExpiring && isSignedBy(serverCertPem, ca.caCertPem)) {
      return { serverCertPem, serverKeyPem: readFileSync(keyPath, 'utf8') };
    }
  }
  const keys = await newRsaKeyPair();
  const altNames = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 7, ip: h } : { type: 2, value: h }));
  const notAfter = new Date(Date.now() + 825 * 86_400_000); // the longest TLS server lifetime clients accept
  const serverCertPem = signWithCa(ca, keys.publicKeyPem, [{ name: 'commonName', value: 'localhost' }], notAfter, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  writeFileAtomic(keyPath, keys.privateKeyPem, 0o600);
  writeFileAtomic(certPath, serverCertPem, 0o644);
  writeFileAtomic(hostsPath, JSON.stringify(hosts), 0o644);
  return { serverCertPem, serverKeyPem: keys.privateKeyPem };
}
