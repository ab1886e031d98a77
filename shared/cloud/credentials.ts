/**
 * The local cloud's access key: generated on first start into <state dir>/credentials.json (mode 0600) and
 * reused afterwards, so clients configured once keep working across restarts. Never committed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** An AWS-style access key pair. */
export interface CloudCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Path of the credentials file inside a state folder. */
export function credentialsPath(dir: string): string {
  return join(dir, 'credentials.json');
}

/** A new random key pair shaped like AWS's (AKIA + 16 base32 characters, 40-character secret). */
export function generateCredentials(): CloudCredentials {
  const idBytes = randomBytes(16);
  let id = 'AKIA';
  for (const b of idBytes) id += KEY_ID_ALPHABET[b % KEY_ID_ALPHABET.length];
  const secretAccessKey = randomBytes(30).toString('base64').replace(/\+/g, 'x').replace(/\//g, 'y');
  return { accessKeyId: id, secretAccessKey };
}

/** Read the state folder's credentials, creating them (mode 0600) when absent. */
export function loadOrCreateCredentials(dir: string): CloudCredentials {
  const path = credentialsPath(dir);
  if (existsSync(path)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`${path}: not valid JSON (${(err as Error).message}); delete it to generate new credentials`);
    }
    const c = parsed as Partial<CloudCredentials>;
    if (typeof c.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string' || !c.accessKeyId || !c.secretAccessKey) {
      throw new Error(`${path}: expected {"accessKeyId": string, "secretAccessKey": string}; delete it to generate new credentials`);
    }
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  }
  mkdirSync(dir, { recursive: true });
  const creds = generateCredentials();
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return creds;
}
