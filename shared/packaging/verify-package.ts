/**
 * Verifies a model package before anything is loaded from it. Synchronous, in memory: the tar.gz is read
 * once (or taken as a Buffer) and nothing outside it is touched. Order of checks: trusted key, archive
 * (gzip, tar headers, plain names only, regular files only, no duplicates), presence of manifest.json and
 * manifest.sig, Ed25519 signature of manifest.json, manifest structure and version, the exact set of
 * files against the manifest, each file's sha256 and size, then the caller's expectations.
 */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import * as fs from 'node:fs';
import { PackageVerificationError } from './errors';
import { MANIFEST_FILE, type PackageManifest, SIGNATURE_FILE, validateManifest } from './manifest';
import { publicKeyFingerprint } from './signing-key';
import { readTarGz } from './tar-archive';

/** Largest package file accepted (compressed). */
export const MAX_PACKAGE_BYTES = 128 * 1024 * 1024;

/** What the device requires of a package beyond a good signature (each check only when given). */
export interface PackageExpectations {
  name?: string;
  inputName?: string;
  /** e.g. [null, 6, 10, 10]; null matches only null (the symbolic batch dimension). */
  inputShape?: Array<number | null>;
}

/** A verified package: safe to load. */
export interface VerifiedPackage {
  manifest: PackageManifest;
  /** model.onnx bytes (pass to onnxruntime's InferenceSession.create). */
  model: Buffer;
  /** Every packaged file by name, manifest.json and manifest.sig included. */
  files: Record<string, Buffer>;
  /** sha256 (hex) of the package bytes. */
  sha256: string;
}

/** One trusted Ed25519 public key (PEM or KeyObject), or several (e.g. the old and new key while rotating). */
export type TrustedKeys = string | KeyObject | ReadonlyArray<string | KeyObject>;

/**
 * Verifies a package file (path) or its bytes against trusted Ed25519 public key(s) (PEM or KeyObject);
 * returns the manifest and model bytes, or throws PackageVerificationError with a reason code.
 */
export function verifyPackage(pkg: string | Buffer, publicKey: TrustedKeys, expect: PackageExpectations = {}): VerifiedPackage {
  const keys = (Array.isArray(publicKey) ? publicKey : [publicKey]) as Array<string | KeyObject>;
  if (keys.length === 0) throw new PackageVerificationError('bad-public-key', 'no trusted public key given');
  const trusted = keys.map(trustedKey);
  let bytes: Buffer;
  if (Buffer.isBuffer(pkg)) bytes = pkg;
  else {
    try {
      const size = fs.statSync(pkg).size;
      if (size > MAX_PACKAGE_BYTES) throw new PackageVerificationError('too-large', `package ${pkg} is ${size} bytes (limit ${MAX_PACKAGE_BYTES})`);
      bytes = fs.readFileSync(pkg);
    } catch (err) {
      if (err instanceof PackageVerificationError) throw err;
      throw new PackageVerificationError('unreadable', `cannot read package ${pkg}: ${(err as Error).message}`);
    }
  }
  if (bytes.length > MAX_PACKAGE_BYTES) throw new PackageVerificationError('too-large', `package is ${bytes.length} bytes (limit ${MAX_PACKAGE_BYTES})`);
  // No prototype: an entry named "__proto__" (or "constructor") is a file like any other, not an Object member.
  const files: Record<string, Buffer> = Object.create(null) as Record<string, Buffer>;
  for (const f of readTarGz(bytes)) files[f.name] = f.data;
  for (const required of [MANIFEST_FILE, SIGNATURE_FILE]) {
    if (!files[required]) throw new PackageVerificationError('missing-file', `package has no ${required}`);
  }
  const manifestBytes = files[MANIFEST_FILE];
  const sigText = files[SIGNATURE_FILE].toString('utf8').trim();
  const signature = /^[A-Za-z0-9+/]{86}==$/.test(sigText) ? Buffer.from(sigText, 'base64') : null;
  // The manifest names its signer's fingerprint (unverified yet): it only picks which trusted key to try first.
  const claimed = (() => {
    try {
      const f = (JSON.parse(manifestBytes.toString('utf8')) as PackageManifest).signature?.publicKeyFingerprint;
      return typeof f === 'string' ? f : undefined;
    } catch {
      return undefined;
    }
  })();
  const ordered = [...trusted].sort((a, b) => Number(b.fingerprint === claimed) - Number(a.fingerprint === claimed));
  if (!signature || !ordered.some((k) => verify(null, manifestBytes, k.key, signature))) {
    if (signature && claimed !== undefined && !trusted.some((k) => k.fingerprint === claimed)) {
      throw new PackageVerificationError('wrong-key', `package was signed by key ${claimed.slice(0, 16)}…, not a trusted key (${trusted.map((k) => k.fingerprint.slice(0, 16) + '…').join(', ')})`);
    }
    throw new PackageVerificationError('bad-signature', `${SIGNATURE_FILE} is not a valid signature of ${MANIFEST_FILE} by a trusted key (package altered)`);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8'));
  } catch (err) {
    throw new PackageVerificationError('bad-manifest', `${MANIFEST_FILE} is not valid JSON (${(err as Error).message})`);
  }
  validateManifest(manifest);
  for (const name of Object.keys(manifest.files)) {
    if (!files[name]) throw new PackageVerificationError('missing-file', `package lacks ${name}, which the manifest lists`);
  }
  for (const name of Object.keys(files)) {
    if (name !== MANIFEST_FILE && name !== SIGNATURE_FILE && !Object.hasOwn(manifest.files, name)) {
      throw new PackageVerificationError('extra-file', `package holds ${name}, which the manifest does not list`);
    }
  }
  for (const [name, digest] of Object.entries(manifest.files)) {
    const data = files[name];
    if (data.length !== digest.bytes || createHash('sha256').update(data).digest('hex') !== digest.sha256) {
      throw new PackageVerificationError('hash-mismatch', `${name} does not match its sha256 in the manifest (altered or corrupted)`);
    }
  }
  if (expect.name !== undefined && manifest.name !== expect.name) {
    throw new PackageVerificationError('wrong-name', `package is model "${manifest.name}", expected "${expect.name}"`);
  }
  if (expect.inputName !== undefined && manifest.model.inputName !== expect.inputName) {
    throw new PackageVerificationError('wrong-input-name', `model input is "${manifest.model.inputName}", expected "${expect.inputName}"`);
  }
  if (expect.inputShape !== undefined) {
    const got = manifest.model.inputShape;
    const want = expect.inputShape;
    if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
      throw new PackageVerificationError('wrong-input-shape', `model input shape is (${fmt(got)}), expected (${fmt(want)})`);
    }
  }
  return { manifest, model: files[manifest.model.file], files, sha256: createHash('sha256').update(bytes).digest('hex') };
}

const fmt = (shape: Array<number | null>) => shape.map((d) => (d === null ? 'N' : String(d))).join(', ');

function trustedKey(publicKey: string | KeyObject): { key: KeyObject; fingerprint: string } {
  let key: KeyObject;
  try {
    key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  } catch (err) {
    throw new PackageVerificationError('bad-public-key', `trusted public key is not a PEM public key (${(err as Error).message})`);
  }
  if (key.type !== 'public') throw new PackageVerificationError('bad-public-key', `trusted key must be a public key, got a ${key.type} key`);
  if (key.asymmetricKeyType !== 'ed25519') throw new PackageVerificationError('bad-public-key', `trusted public key is ${key.asymmetricKeyType}, not Ed25519`);
  return { key, fingerprint: publicKeyFingerprint(key) };
}
