/**
 * Provisioning, as the workshop's CloudFormation/CodeBuild step did it: N things in a thing group, one
 * certificate per device, one policy limiting each device to its own topics, and a bundle per device
 * (shared/edge/device-config.ts: the device's identity and endpoints, no cloud credentials) that the edge
 * agent starts from. It speaks only through @aws-sdk/client-iot, so the same code provisions the local
 * cloud and real AWS IoT.
 *
 * Re-running is safe: existing things, group and policy are reused (a changed policy document becomes a
 * new default policy version), a device whose bundle holds a certificate that is still ACTIVE keeps it,
 * and device.json is rewritten every time (the local cloud's ports may have changed). What the cloud
 * already holds (the group's things, ACTIVE certificates, the policy's targets) is read in a few paged
 * list calls, so a device found complete costs one call (AttachThingPrincipal) instead of five: re-starting
 * a farm of 1000 cached devices is 1000 requests, not 5000.
 */
import { join } from 'node:path';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeletePolicyVersionCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DescribeThingGroupCommand,
  GetPolicyCommand,
  ListPolicyVersionsCommand,
  type IoTClient,
  paginateListCertificates,
  paginateListTargetsForPolicy,
  paginateListThingsInThingGroup,
} from '@aws-sdk/client-iot';
import { parseIotArn } from '../../cloud/iot/arn';
import { certificateIdOf } from '../../cloud/iot/ca';
import { BUNDLE_FILES, DEFAULT_TELEMETRY_PREFIX, defaultAgentConfig, deviceTopics, type DeviceConfig } from '../../edge/device-config';
import { existingBundleCertificate, writeBundleConfig, writeBundleKeys } from './bundle';
import { devicePolicyDocument } from './device-policy';

/** AWS IoT's MQTT over TLS port; the local cloud's port comes from its cloud.json instead. */
export const AWS_MQTT_PORT = 8883;

/** What provisionDevices needs. */
export interface ProvisionOptions {
  /** An IoT client for the target cloud (local: cloudClientConfig(cloud.json); aws: default chain). */
  iot: IoTClient;
  /** Number of devices; things are named <prefix>0 .. <prefix>N-1. */
  devices: number;
  /** Thing name prefix (default "edge-device-"). */
  prefix?: string;
  /** Thing group holding the devices (default "edge-devices"). */
  group?: string;
  /** Policy attached to every device certificate (default "<group>-policy"). */
  policyName?: string;
  /** Folder receiving one bundle folder per device. */
  outDir: string;
  /** PEM of the CA devices trust for the MQTT server: the local CA, or Amazon Root CA 1 in aws mode. */
  caCertPem: string;
  mode: 'local' | 'aws';
  region: string;
  /** MQTT endpoint; when absent, DescribeEndpoint(iot:Data-ATS) on port 8883, as on AWS. */
  mqtt?: { host: string; port: number };
  /** HTTP endpoint for device.json (local mode). */
  httpEndpoint?: string;
  /** Written into device.json when given. */
  s3Bucket?: string;
  /** First topic level of device telemetry (default "wind-turbine"). */
  telemetryPrefix?: string;
  /** Devices provisioned at the same time (default 4). */
  concurrency?: number;
  /** Called after each device is done. */
  onProgress?: (done: number, total: number, thingName: string) => void;
}

/** One provisioned device. */
export interface ProvisionedDevice {
  thingName: string;
  bundleDir: string;
  certificateId: string;
  certificateArn: string;
  /** True when this run issued the certificate; false when the bundle's ACTIVE certificate was kept. */
  newCertificate: boolean;
}

/** What provisionDevices did. */
export interface ProvisionResult {
  thingGroupName: string;
  thingGroupArn: string;
  policyName: string;
  policyArn: string;
  mqtt: { host: string; port: number };
  devices: ProvisionedDevice[];
}

function isAwsError(err: unknown, name: string): boolean {
  return (err as Error | undefined)?.name === name;
}

/** Creates the thing group, or finds it; returns its ARN. */
async function ensureThingGroup(iot: IoTClient, name: string): Promise<string> {
  try {
    const out = await iot.send(new CreateThingGroupCommand({ thingGroupName: name, thingGroupProperties: { thingGroupDescription: 'Provisioned edge devices' } }));
    return out.thingGroupArn as string;
  } catch (err) {
    if (!isAwsError(err, 'ResourceAlreadyExistsException')) throw err;
    return (await iot.send(new DescribeThingGroupCommand({ thingGroupName: name }))).thingGroupArn as string;
  }
}

/** Creates the policy, or makes document its default version when it differs; returns its ARN. */
export async function ensurePolicy(iot: IoTClient, name: string, document: string): Promise<string> {
  try {
    return (await iot.send(new CreatePolicyCommand({ policyName: name, policyDocument: document }))).policyArn as string;
  } catch (err) {
    if (!isAwsError(err, 'ResourceAlreadyExistsException')) throw err;
  }
  const current = await iot.send(new GetPolicyCommand({ policyName: name }));
  const same = (() => {
    try {
      return JSON.stringify(JSON.parse(current.policyDocument ?? '')) === JSON.stringify(JSON.parse(document));
    } catch {
      return false;
    }
  })();
  if (!same) {
    // Make room: AWS keeps at most five versions; drop the oldest non-default one.
    const versions = (await iot.send(new ListPolicyVersionsCommand({ policyName: name }))).policyVersions ?? [];
    if (versions.length >= 5) {
      const oldest = versions.filter((v) => !v.isDefaultVersion).sort((a, b) => Number(a.versionId) - Number(b.versionId))[0];
      if (oldest) await iot.send(new DeletePolicyVersionCommand({ policyName: name, policyVersionId: oldest.versionId }));
    }
    await iot.send(new CreatePolicyVersionCommand({ policyName: name, policyDocument: document, setAsDefault: true }));
  }
  return current.policyArn as string;
}

/** Creates a thing, or accepts the one that exists under that name. */
export async function ensureThing(iot: IoTClient, thingName: string): Promise<void> {
  try {
    await iot.send(new CreateThingCommand({ thingName }));
  } catch (err) {
    if (!isAwsError(err, 'ResourceAlreadyExistsException')) throw err;
  }
}

/** The ACTIVE certificate of an existing bundle, or undefined when a new one is needed. */
export async function reusableCertificate(iot: IoTClient, bundleDir: string): Promise<{ certificateId: string; certificateArn: string } | undefined> {
  const pem = existingBundleCertificate(bundleDir);
  if (!pem) return undefined;
  try {
    const d = await iot.send(new DescribeCertificateCommand({ certificateId: certificateIdOf(pem) }));
    const desc = d.certificateDescription;
    if (desc?.status !== 'ACTIVE') return undefined;
    return { certificateId: desc.certificateId as string, certificateArn: desc.certificateArn as string };
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) return undefined;
    throw err;
  }
}

/** What the cloud already holds for a group and its policy, read in pages. */
interface KnownState {
  things: Set<string>;
  /** ACTIVE certificates: id to ARN. */
  active: Map<string, string>;
  policyTargets: Set<string>;
}

/** Reads the group's things, the ACTIVE certificates and the policy's targets (a few paged list calls). */
async function knownState(iot: IoTClient, groupName: string, policyName: string): Promise<KnownState> {
  const known: KnownState = { things: new Set(), active: new Map(), policyTargets: new Set() };
  for await (const p of paginateListThingsInThingGroup({ client: iot, pageSize: 250 }, { thingGroupName: groupName })) for (const t of p.things ?? []) known.things.add(t);
  for await (const p of paginateListCertificates({ client: iot, pageSize: 250 }, {})) {
    for (const c of p.certificates ?? []) if (c.status === 'ACTIVE' && c.certificateId && c.certificateArn) known.active.set(c.certificateId, c.certificateArn);
  }
  for await (const p of paginateListTargetsForPolicy({ client: iot, pageSize: 250 }, { policyName })) for (const t of p.targets ?? []) known.policyTargets.add(t);
  return known;
}

/** The bundle's certificate when the cloud holds everything this device needs but the thing-principal attachment. */
function completeDevice(known: KnownState | undefined, thingName: string, bundleDir: string): { certificateId: string; certificateArn: string } | undefined {
  if (!known?.things.has(thingName)) return undefined;
  const pem = existingBundleCertificate(bundleDir);
  if (!pem) return undefined;
  const certificateId = certificateIdOf(pem);
  const certificateArn = known.active.get(certificateId);
  return certificateArn && known.policyTargets.has(certificateArn) ? { certificateId, certificateArn } : undefined;
}

/** Checks the options; throws naming the wrong one. */
function checkOptions(opts: ProvisionOptions): void {
  if (!Number.isInteger(opts.devices) || opts.devices < 1 || opts.devices > 10000) {
    throw new Error(`devices must be an integer from 1 to 10000, got ${opts.devices}`);
  }
  const prefix = opts.prefix ?? 'edge-device-';
  if (!/^[a-zA-Z0-9:_-]{1,100}$/.test(prefix)) throw new Error(`prefix "${prefix}" must be 1 to 100 characters of a-z, A-Z, 0-9, ':', '_' and '-'`);
  const group = opts.group ?? 'edge-devices';
  if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(group)) throw new Error(`group "${group}" must be 1 to 128 characters of a-z, A-Z, 0-9, ':', '_' and '-'`);
  // Builds (and so checks) the policy with a placeholder account before anything is created.
  devicePolicyDocument('us-east-1', '000000000000', opts.telemetryPrefix ?? DEFAULT_TELEMETRY_PREFIX);
  if (!/-----BEGIN CERTIFICATE-----/.test(opts.caCertPem)) throw new Error('caCertPem is not a PEM certificate');
  if (opts.mqtt && (!opts.mqtt.host || !Number.isInteger(opts.mqtt.port) || opts.mqtt.port < 1 || opts.mqtt.port > 65535)) {
    throw new Error(`mqtt endpoint ${JSON.stringify(opts.mqtt)} needs a host and a port from 1 to 65535`);
  }
}

/** Provisions devices (things, group, certificates, policy) and writes their bundles; see the file comment. */
export async function provisionDevices(opts: ProvisionOptions): Promise<ProvisionResult> {
  checkOptions(opts);
  const { iot } = opts;
  const prefix = opts.prefix ?? 'edge-device-';
  const groupName = opts.group ?? 'edge-devices';
  const policyName = opts.policyName ?? `${groupName}-policy`;
  const telemetryPrefix = opts.telemetryPrefix ?? DEFAULT_TELEMETRY_PREFIX;

  const thingGroupArn = await ensureThingGroup(iot, groupName);
  // The account id is not otherwise known in aws mode; every ARN carries it.
  const groupArn = parseIotArn(thingGroupArn);
  if (!groupArn) throw new Error(`the cloud returned an unexpected thing group ARN: ${thingGroupArn}`);
  const policyArn = await ensurePolicy(iot, policyName, devicePolicyDocument(groupArn.region, groupArn.accountId, telemetryPrefix));
  const mqtt = opts.mqtt ?? {
    host: (await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress as string,
    port: AWS_MQTT_PORT,
  };

  const names = Array.from({ length: opts.devices }, (_, i) => `${prefix}${i}`);
  const devices: ProvisionedDevice[] = new Array(names.length);
  // Only worth reading when bundles exist (a re-run).
  const known = names.some((t) => existingBundleCertificate(join(opts.outDir, t))) ? await knownState(iot, groupName, policyName) : undefined;
  let next = 0;
  let done = 0;
  const provisionOne = async (index: number): Promise<void> => {
    const thingName = names[index];
    const bundleDir = join(opts.outDir, thingName);
    const complete = completeDevice(known, thingName, bundleDir);
    let cert = complete;
    let newCertificate = false;
    if (!cert) {
      await ensureThing(iot, thingName);
      await iot.send(new AddThingToThingGroupCommand({ thingGroupName: groupName, thingName }));
      cert = await reusableCertificate(iot, bundleDir);
      if (!cert) {
        const created = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
        writeBundleKeys(bundleDir, created.certificatePem as string, created.keyPair?.PrivateKey as string);
        cert = { certificateId: created.certificateId as string, certificateArn: created.certificateArn as string };
        newCertificate = true;
      }
    }
    // Idempotent; a complete device (thing in the group, ACTIVE certificate on the policy) needs nothing else.
    await iot.send(new AttachThingPrincipalCommand({ thingName, principal: cert.certificateArn }));
    if (!complete) await iot.send(new AttachPolicyCommand({ policyName, target: cert.certificateArn }));
    const config: DeviceConfig = {
      thingName,
      region: opts.region,
      mode: opts.mode,
      mqtt,
      httpEndpoint: opts.httpEndpoint,
      s3Bucket: opts.s3Bucket,
      certificateId: cert.certificateId,
      certificateArn: cert.certificateArn,
      files: { certificate: BUNDLE_FILES.certificate, privateKey: BUNDLE_FILES.privateKey, ca: BUNDLE_FILES.ca },
      topics: deviceTopics(thingName, telemetryPrefix),
      agent: defaultAgentConfig(thingName),
    };
    writeBundleConfig(bundleDir, config, opts.caCertPem);
    devices[index] = { thingName, bundleDir, ...cert, newCertificate };
    opts.onProgress?.(++done, names.length, thingName);
  };
  const worker = async (): Promise<void> => {
    while (next < names.length) await provisionOne(next++);
  };
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 4, names.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { thingGroupName: groupName, thingGroupArn, policyName, policyArn, mqtt, devices };
}
