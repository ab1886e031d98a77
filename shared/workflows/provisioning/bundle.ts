/**
 * Writes device bundles: the folder a provisioned device (edge agent) starts from. What a bundle holds
 * and what device.json says are defined in shared/edge/device-config.ts; this file only writes them.
 * device.json is written last, so a folder without it is an unfinished bundle.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_FILES, deviceConfigJson, type DeviceConfig } from '../../edge/device-config';

/**
 * Files that bundles written before the device-identity-only contract held: the local cloud's
 * administrator key. Rewriting a bundle removes them.
 */
const RETIRED_BUNDLE_FILES = ['credentials.json'];

function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

/** Writes the certificate and key of a bundle (before device.json, which marks the bundle complete). */
export function writeBundleKeys(dir: string, certificatePem: string, privateKeyPem: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeAtomic(join(dir, BUNDLE_FILES.privateKey), privateKeyPem, 0o600);
  writeAtomic(join(dir, BUNDLE_FILES.certificate), certificatePem, 0o644);
}

/** Writes ca.pem and device.json (checked against the device contract first), and removes retired files. */
export function writeBundleConfig(dir: string, config: DeviceConfig, caPem: string): void {
  const json = deviceConfigJson(config);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of RETIRED_BUNDLE_FILES) rmSync(join(dir, name), { force: true });
  writeAtomic(join(dir, BUNDLE_FILES.ca), caPem, 0o644);
  writeAtomic(join(dir, BUNDLE_FILES.config), json, 0o644);
}

/** The certificate PEM of an existing bundle's key pair, or undefined when the folder has no usable one. */
export function existingBundleCertificate(dir: string): string | undefined {
  const certPath = join(dir, BUNDLE_FILES.certificate);
  if (!existsSync(certPath) || !existsSync(join(dir, BUNDLE_FILES.privateKey))) return undefined;
  const pem = readFileSync(certPath, 'utf8');
  try {
    new X509Certificate(pem);
    return pem;
  } catch {
    return undefined;
  }
}
