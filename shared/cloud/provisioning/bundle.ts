/**
 * A device bundle: the folder a provisioned device (edge agent) starts from.
 *
 *   <out>/<thing>/certificate.pem   the device certificate
 *   <out>/<thing>/private.key       its RSA private key (mode 0600)
 *   <out>/<thing>/ca.pem            the CA the device trusts for the MQTT server (local CA, or Amazon Root CA 1)
 *   <out>/<thing>/credentials.json  local mode only: the local cloud's access key for S3 uploads (mode 0600)
 *   <out>/<thing>/device.json       DeviceConfig below; file names in it are relative to the bundle folder
 *
 * device.json is written last, so a folder without it is an unfinished bundle.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the edge agent reads from device.json. */
export interface DeviceConfig {
  thingName: string;
  region: string;
  mode: 'local' | 'aws';
  /** MQTT over TLS with the device certificate (AWS: the iot:Data-ATS endpoint on 8883). */
  mqtt: { host: string; port: number };
  /** HTTP endpoint of the cloud's APIs (local mode; in aws mode absent: the SDK's defaults apply). */
  httpEndpoint?: string;
  /** Bucket for captured data and model packages, when known at provisioning time. */
  s3Bucket?: string;
  /** File (relative to the bundle) with { accessKeyId, secretAccessKey } for S3, local mode only. */
  credentialsFile?: string;
  certificateId: string;
  certificateArn: string;
  /** Bundle-relative names of the TLS files. */
  files: { certificate: string; privateKey: string; ca: string };
  /** Topics this device's policy lets it use. */
  topics: { telemetry: string; heartbeat: string; alarms: string; thingRoot: string };
  /** Agent defaults; the agent may override any of them. */
  agent: AgentDefaults;
}

/** Defaults for the edge agent, as the original Edge Manager agent configuration had them. */
export interface AgentDefaults {
  /** Folder (relative to the bundle) for model packages and the previous model kept for rollback. */
  modelsDir: string;
  /** Folder (relative to the bundle) for the capture buffer while the cloud is unreachable. */
  captureDir: string;
  heartbeatSeconds: number;
  capture: { sampleRate: number; batchSize: number; maxAgeSeconds: number; bufferMaxBytes: number; s3Prefix: string };
}

/** File names inside a bundle. */
export const BUNDLE_FILES = {
  certificate: 'certificate.pem',
  privateKey: 'private.key',
  ca: 'ca.pem',
  credentials: 'credentials.json',
  config: 'device.json',
} as const;

/** The agent defaults a new bundle gets. */
export function defaultAgentConfig(thingName: string): AgentDefaults {
  return {
    modelsDir: 'models',
    captureDir: 'capture',
    heartbeatSeconds: 30,
    capture: { sampleRate: 0.1, batchSize: 50, maxAgeSeconds: 60, bufferMaxBytes: 64 * 1024 * 1024, s3Prefix: `capture/${thingName}/` },
  };
}

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

/** Writes ca.pem, credentials.json (when given) and device.json. */
export function writeBundleConfig(dir: string, config: DeviceConfig, caPem: string, credentials?: { accessKeyId: string; secretAccessKey: string }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeAtomic(join(dir, BUNDLE_FILES.ca), caPem, 0o644);
  if (credentials) writeAtomic(join(dir, BUNDLE_FILES.credentials), JSON.stringify(credentials, null, 2) + '\n', 0o600);
  writeAtomic(join(dir, BUNDLE_FILES.config), JSON.stringify(config, null, 2) + '\n', 0o644);
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

/** Reads and checks a bundle's device.json; throws naming the file and the missing or wrong member. */
export function readDeviceBundle(dir: string): DeviceConfig & { dir: string } {
  const path = join(dir, BUNDLE_FILES.config);
  let config: DeviceConfig;
  try {
    config = JSON.parse(readFileSync(path, 'utf8')) as DeviceConfig;
  } catch (err) {
    throw new Error(`${path}: cannot read the device configuration (${(err as Error).message})`);
  }
  const need: [string, unknown, string][] = [
    ['thingName', config.thingName, 'string'],
    ['region', config.region, 'string'],
    ['mqtt.host', config.mqtt?.host, 'string'],
    ['mqtt.port', config.mqtt?.port, 'number'],
    ['files.certificate', config.files?.certificate, 'string'],
    ['files.privateKey', config.files?.privateKey, 'string'],
    ['files.ca', config.files?.ca, 'string'],
  ];
  for (const [name, value, type] of need) {
    if (typeof value !== type) throw new Error(`${path}: ${name} must be a ${type}, got ${JSON.stringify(value)}`);
  }
  return { ...config, dir };
}
