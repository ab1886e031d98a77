/**
 * The project's Ed25519 signing key pair, made once and kept under a state folder (default
 * `.state/signing/`, gitignored): `signing-key.pem` (PKCS#8, mode 0600) and `signing-key.pub.pem` (SPKI).
 * The public key PEM is what devices trust.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Default key folder, relative to the working directory. */
export const DEFAULT_SIGNING_KEY_DIR = join('.state', 'signing');
export const PRIVATE_KEY_FILE = 'signing-key.pem';
export const PUBLIC_KEY_FILE = 'signing-key.pub.pem';

/** A loaded signing key pair. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM of the public key: give this to devices. */
  publicKeyPem: string;
  /** sha256 (hex) of the public key's DER SPKI bytes; recorded in every manifest. */
  fingerprint: string;
  /** Where the key lives (absolute). */
  dir: string;
  /** True when this call made the key. */
  created: boolean;
}

/** sha256 hex of a public key's DER SPKI encoding. */
export function publicKeyFingerprint(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Loads the key pair from dir, or creates it there (private key 0600) when the folder has none. */
export function loadOrCreateSigningKey(dir: string = DEFAULT_SIGNING_KEY_DIR): SigningKey {
  const abs = resolve(dir);
  const privatePath = join(abs, PRIVATE_KEY_FILE);
  const publicPath = join(abs, PUBLIC_KEY_FILE);
  let created = false;
  if (!existsSync(privatePath)) {
    mkdirSync(abs, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const tmp = `${privatePath}.${process.pid}.tmp`;
    writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    try {
      linkSync(tmp, privatePath); // atomic and never replaces: a key another process made meanwhile wins
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create signing key ${privatePath}: ${(err as Error).message}`);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(privatePath));
  } catch (err) {
    throw new Error(`signing key ${privatePath} cannot be read as a private key (${(err as Error).message}); remove it to make a new one`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`signing key ${privatePath} is ${privateKey.asymmetricKeyType}, not Ed25519`);
  if (process.platform !== 'win32' && (statSync(privatePath).mode & 0o077) !== 0) chmodSync(privatePath, 0o600); // keep it private
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if (!existsSync(publicPath) || readFileSync(publicPath, 'utf8') !== publicKeyPem) writeFileSync(publicPath, publicKeyPem, { mode: 0o644 });
  return { privateKey, publicKey, publicKeyPem, fingerprint: publicKeyFingerprint(publicKey), dir: abs, created };
}
