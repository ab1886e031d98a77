/**
 * The device bundle contract: what a device's folder holds and what its device.json says. Provisioning
 * (shared/workflows/provisioning) writes bundles through this module and the edge agent reads them through
 * it, so the two cannot drift apart.
 *
 *   certificate.pem   the device certificate
 *   private.key       its private key (mode 0600)
 *   ca.pem            the CA the device trusts for the MQTT server (local CA, or Amazon Root CA 1)
 *   device.json       DeviceConfig below; file names in it are relative to the bundle folder
 *
 * A bundle holds the device's own identity and nothing else: no cloud credentials (a device that holds
 * the cloud's keys can act for every device).
 */
import { parseContingencyConfig } from './contingency';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** File names inside a bundle. */
export const BUNDLE_FILES = {
  certificate: 'certificate.pem',
  privateKey: 'private.key',
  ca: 'ca.pem',
  config: 'device.json',
} as const;

/** Default first topic level of device telemetry (`wind-turbine/<thing>/...`). */
export const DEFAULT_TELEMETRY_PREFIX = 'wind-turbine';

/** The topics of one device (its IoT policy allows exactly these families). */
export interface DeviceTopics {
  telemetry: string;
  heartbeat: string;
  alarms: string;
  thingRoot: string;
}

/** Capture defaults of a device (the agent may override each). */
export interface DeviceCaptureDefaults {
  sampleRate: number;
  batchSize: number;
  maxAgeSeconds: number;
  bufferMaxBytes: number;
  s3Prefix: string;
}

/** Defaults for the edge agent, as the original Edge Manager agent configuration had them. */
export interface AgentDefaults {
  /** Folder (relative to the bundle) for model packages and the previous model kept for rollback. */
  modelsDir: string;
  /** Folder (relative to the bundle) for the capture buffer while the cloud is unreachable. */
  captureDir: string;
  heartbeatSeconds: number;
  capture: DeviceCaptureDefaults;
  /** Contingency rules by feature and severity (checked here, used by shared/edge/contingency.ts); absent: the defaults. */
  contingency?: unknown;
}

/** device.json, as read (topics and agent defaults filled in when the file leaves them out). */
export interface DeviceConfig {
  thingName: string;
  /** Region of the cloud the device belongs to (informational on the device). */
  region?: string;
  mode?: 'local' | 'aws';
  /** MQTT over TLS with the device certificate (AWS: the iot:Data-ATS endpoint on 8883). */
  mqtt: { host: string; port: number };
  /** HTTP endpoint of the cloud's APIs (local mode; in aws mode absent: the SDK's defaults apply). */
  httpEndpoint?: string;
  /** Bucket for captured data and model packages, when known at provisioning time. */
  s3Bucket?: string;
  certificateId?: string;
  certificateArn?: string;
  /** Bundle-relative names of the TLS files. */
  files: { certificate: string; privateKey: string; ca: string };
  /** Topics this device's policy lets it use. */
  topics: DeviceTopics;
  /** Agent defaults; the agent may override any of them. */
  agent: AgentDefaults;
}

/** A device config read from disk: the config, its file, and the bundle folder its file names are relative to. */
export interface DeviceBundle {
  config: DeviceConfig;
  file: string;
  dir: string;
}

/** Topic names of a device, for its configuration. */
export function deviceTopics(thingName: string, telemetryPrefix = DEFAULT_TELEMETRY_PREFIX): DeviceTopics {
  return {
    telemetry: `${telemetryPrefix}/${thingName}/telemetry`,
    heartbeat: `${telemetryPrefix}/${thingName}/heartbeat`,
    alarms: `${telemetryPrefix}/${thingName}/alarms`,
    thingRoot: `$aws/things/${thingName}`,
  };
}

/** The agent defaults a new bundle gets. */
export function defaultAgentConfig(thingName: string): AgentDefaults {
  return {
    modelsDir: 'models',
    captureDir: 'capture',
    heartbeatSeconds: 30,
    capture: { sampleRate: 0.1, batchSize: 50, maxAgeSeconds: 60, bufferMaxBytes: 64 * 1024 * 1024, s3Prefix: `capture/${thingName}/` },
  };
}

type Json = Record<string, unknown>;
type Check = (value: unknown) => string | undefined;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));
const text: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : `must be a string, got ${shown(v)}`);
const numberIn = (min: number, max: number, integer = false): Check => (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v))
    ? undefined
    : `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${shown(v)}`;
const oneOf = (...values: string[]): Check => (v) => (values.includes(v as string) ? undefined : `must be one of ${values.join(', ')}, got ${shown(v)}`);
const thingName: Check = (v) => text(v) ?? (/^[a-zA-Z0-9:_-]{1,128}$/.test(v as string) ? undefined : `must be 1 to 128 characters of a-z, A-Z, 0-9, ':', '_' and '-', got ${shown(v)}`);
const url: Check = (v) => {
  if (text(v)) return text(v);
  try {
    new URL(v as string);
    return undefined;
  } catch {
    return `must be a URL, got ${shown(v)}`;
  }
};

const contingencyRules: Check = (v) => {
  try {
    parseContingencyConfig(v, 'agent.contingency');
    return undefined;
  } catch (err) {
    return `is not valid: ${(err as Error).message}`;
  }
};

/** Members of device.json: [path, check, required]. Order is the order problems are reported in. */
const MEMBERS: [string, Check, boolean][] = [
  ['thingName', thingName, true],
  ['mqtt.host', text, true],
  ['mqtt.port', numberIn(1, 65535, true), true],
  ['files.certificate', text, true],
  ['files.privateKey', text, true],
  ['files.ca', text, true],
  ['region', text, false],
  ['mode', oneOf('local', 'aws'), false],
  ['httpEndpoint', url, false],
  ['s3Bucket', text, false],
  ['certificateId', text, false],
  ['certificateArn', text, false],
  ['topics.telemetry', text, false],
  ['topics.heartbeat', text, false],
  ['topics.alarms', text, false],
  ['topics.thingRoot', text, false],
  ['agent.modelsDir', text, false],
  ['agent.captureDir', text, false],
  ['agent.heartbeatSeconds', numberIn(0.1, 86400), false],
  ['agent.capture.sampleRate', numberIn(0, 1), false],
  ['agent.capture.batchSize', numberIn(1, 10000, true), false],
  ['agent.capture.maxAgeSeconds', numberIn(0.1, 86400), false],
  ['agent.capture.bufferMaxBytes', numberIn(1024, 2 ** 40, true), false],
  ['agent.capture.s3Prefix', text, false],
  ['agent.contingency', contingencyRules, false],
];

/** Objects of device.json (each may hold only the members listed above). */
const OBJECTS = ['', 'mqtt', 'files', 'topics', 'agent', 'agent.capture'];

/** Members that bundles once had and must not have now, with what to do. */
const RETIRED: Record<string, string> = {
  credentialsFile: 'device bundles carry no cloud credentials any more: delete credentials.json from the bundle and this member (re-running npm run provision does both)',
};

const at = (root: Json, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), root);

/** Every problem of a parsed device.json, as "member: what is wrong" lines; empty when it is valid. */
export function deviceConfigProblems(value: unknown): string[] {
  if (!isObject(value)) return [`must be a JSON object, got ${Array.isArray(value) ? 'an array' : shown(value)}`];
  const problems: string[] = [];
  for (const path of OBJECTS) {
    const o = path ? at(value, path) : value;
    if (o === undefined) continue;
    if (!isObject(o)) {
      problems.push(`${path} must be an object, got ${shown(o)}`);
      continue;
    }
    const known = new Set(MEMBERS.map(([p]) => p).filter((p) => p.startsWith(path ? `${path}.` : '')).map((p) => p.slice(path ? path.length + 1 : 0).split('.')[0]));
    for (const key of Object.keys(o)) {
      const name = path ? `${path}.${key}` : key;
      if (RETIRED[name]) problems.push(`${name}: ${RETIRED[name]}`);
      else if (!known.has(key)) problems.push(`${name} is not a device.json member (known: ${[...known].join(', ')})`);
    }
  }
  for (const [path, check, required] of MEMBERS) {
    const v = at(value, path);
    if (v === undefined && !required) continue;
    const problem = check(v);
    if (problem) problems.push(`${path} ${problem}`);
  }
  return problems;
}

/** Checks a parsed device.json and fills in the defaults; throws "<source>: problem; problem" when it is not valid. */
export function parseDeviceConfig(value: unknown, source: string = BUNDLE_FILES.config): DeviceConfig {
  const problems = deviceConfigProblems(value);
  if (problems.length > 0) throw new Error(`${source}: ${problems.join('; ')}`);
  const v = value as DeviceConfig & { topics?: Partial<DeviceTopics>; agent?: Partial<AgentDefaults> & { capture?: Partial<DeviceCaptureDefaults> } };
  const agent = defaultAgentConfig(v.thingName);
  return {
    ...v,
    topics: { ...deviceTopics(v.thingName), ...v.topics },
    agent: { ...agent, ...v.agent, capture: { ...agent.capture, ...v.agent?.capture } },
  };
}

/** The text of device.json for a config (checked first: provisioning cannot write a file the device would refuse). */
export function deviceConfigJson(config: DeviceConfig): string {
  // JSON round trip drops undefined members, as the file will.
  return JSON.stringify(parseDeviceConfig(JSON.parse(JSON.stringify(config)), 'device config to write'), null, 2) + '\n';
}

/** Reads and checks device.json from a bundle folder or the file itself; errors name the file and every problem. */
export function readDeviceConfig(path: string): DeviceBundle {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, BUNDLE_FILES.config);
  } catch {
    // A missing path is reported by the read below, naming it.
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read the device configuration (${(err as Error).message})`);
  }
  return { config: parseDeviceConfig(value, file), file, dir: dirname(resolve(file)) };
}
