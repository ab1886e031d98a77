/**
 * The operator console's own IoT identity: a thing, a certificate and a least-privilege policy. The
 * console may connect as itself, subscribe to and receive the fleet's alarms, heartbeats and alerts and
 * the devices' shadow documents, and ask for a shadow (a read); nothing else: it cannot publish
 * telemetry, touch jobs or write a shadow. Operator commands (a contingency release) go through the
 * control-plane API with the operator's AWS credentials instead, as the AWS console does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AttachPolicyCommand, AttachThingPrincipalCommand, CreateKeysAndCertificateCommand, type IoTClient } from '@aws-sdk/client-iot';
import { writeBundleKeys } from '../workflows/provisioning/bundle';
import { BUNDLE_FILES, DEFAULT_TELEMETRY_PREFIX } from '../edge/device-config';
import { iotArn, type IotResourceType } from '../cloud/iot/arn';
import { ensurePolicy, ensureThing, reusableCertificate } from '../workflows/provisioning/provision';

/** The console's connection files and names. */
export interface ConsoleIdentity {
  thingName: string;
  policyName: string;
  certificatePem: string;
  privateKeyPem: string;
  caPem: string;
}

/** Topic filters the console reads (the policy allows exactly these). */
export function consoleTopicFilters(telemetryPrefix = DEFAULT_TELEMETRY_PREFIX): { alarms: string; heartbeats: string; alerts: string; shadowDocuments: string; shadowGetAccepted: string } {
  return {
    alarms: `${telemetryPrefix}/+/alarms`,
    heartbeats: `${telemetryPrefix}/+/heartbeat`,
    alerts: `${telemetryPrefix}/+/alerts`,
    shadowDocuments: '$aws/things/+/shadow/update/documents',
    shadowGetAccepted: '$aws/things/+/shadow/get/accepted',
  };
}

/** The console's policy document: read the fleet's topics and shadows, nothing else. */
export function consolePolicyDocument(region: string, accountId: string, thingName: string, telemetryPrefix = DEFAULT_TELEMETRY_PREFIX): string {
  const arn = (type: IotResourceType, rest: string): string => iotArn(region, accountId, type, rest);
  const filters = Object.values(consoleTopicFilters(telemetryPrefix));
  // Policies treat + literally in topic filters; received topics are matched with * instead.
  const topics = filters.map((f) => f.replace('/+/', '/*/'));
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', thingName) },
        { Effect: 'Allow', Action: 'iot:Subscribe', Resource: filters.map((f) => arn('topicfilter', f)) },
        { Effect: 'Allow', Action: 'iot:Receive', Resource: topics.map((t) => arn('topic', t)) },
        { Effect: 'Allow', Action: 'iot:Publish', Resource: arn('topic', '$aws/things/*/shadow/get') },
      ],
    },
    null,
    2,
  );
}

/**
 * Creates (or reuses) the console's thing, policy and certificate, keeping the key pair in dir;
 * caPem is the CA the console trusts for the MQTT server.
 */
export async function ensureConsoleIdentity(iot: IoTClient, dir: string, caPem: string, opts: { thingName?: string; region: string; accountId: string; telemetryPrefix?: string }): Promise<ConsoleIdentity> {
  const thingName = opts.thingName ?? 'fleet-console';
  const policyName = `${thingName}-policy`;
  const document = consolePolicyDocument(opts.region, opts.accountId, thingName, opts.telemetryPrefix);
  await ensureThing(iot, thingName);
  await ensurePolicy(iot, policyName, document);
  let certificateArn = (await reusableCertificate(iot, dir))?.certificateArn;
  if (!certificateArn) {
    const created = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    writeBundleKeys(dir, created.certificatePem as string, created.keyPair?.PrivateKey as string);
    certificateArn = created.certificateArn as string;
  }
  await iot.send(new AttachThingPrincipalCommand({ thingName, principal: certificateArn }));
  await iot.send(new AttachPolicyCommand({ policyName, target: certificateArn }));
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  if (!existsSync(join(dir, BUNDLE_FILES.privateKey))) throw new Error(`${dir}: the console's private key is missing`);
  return { thingName, policyName, certificatePem: read(BUNDLE_FILES.certificate), privateKeyPem: read(BUNDLE_FILES.privateKey), caPem };
}
