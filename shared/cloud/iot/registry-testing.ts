/**
 * Test helpers for the IoT registry: a local cloud with the registry installed, on free ports in a temp
 * folder, and an IoTClient pointed at it. Used by the registry tests and handy for the broker's and Jobs'
 * tests (e.g. `issueThingCertificate` gives a thing with an ACTIVE certificate and a policy).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { cloudClientConfig, startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../local-cloud';
import { installIotRegistry } from './registry-service';
import type { mqtt } from 'aws-iot-device-sdk-v2';
import { connectDevice } from '../mqtt/mqtt-testing';
import { iotArn } from './arn';

/** A started cloud with the registry, its IoT client, and a cleanup that stops it and removes its folder. */
export interface RegistryCloud {
  cloud: LocalCloud;
  iot: IoTClient;
  dir: string;
  /** Stop the cloud (keeping the folder), e.g. to restart it on the same folder. */
  stop(): Promise<void>;
  /** Stop the cloud and remove its folder. */
  cleanup(): Promise<void>;
}

/** Starts a cloud with only the IoT registry installed (or options.installers) in a new temp folder, or in dir. */
export async function startRegistryCloud(options: Partial<LocalCloudOptions> = {}): Promise<RegistryCloud> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'iot-registry-')));
  const cloud = await startLocalCloud({
    port: 0,
    mqttPort: 0,
    installers: [{ name: 'iot-registry', install: installIotRegistry }],
    log: () => undefined,
    ...options,
    dir,
  });
  const iot = new IoTClient(cloudClientConfig(cloud));
  const stop = async (): Promise<void> => {
    iot.destroy();
    await cloud.stop();
  };
  return {
    cloud,
    iot,
    dir,
    stop,
    cleanup: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What issueThingCertificate made. */
export interface ThingCredentials {
  thingName: string;
  certificateId: string;
  certificateArn: string;
  certificatePem: string;
  privateKeyPem: string;
}

/** Creates a thing (if missing), an ACTIVE certificate attached to it, and attaches policyName (if given) to the certificate. */
export async function issueThingCertificate(iot: IoTClient, thingName: string, policyName?: string): Promise<ThingCredentials> {
  await iot.send(new CreateThingCommand({ thingName }));
  const cert = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  await iot.send(new AttachThingPrincipalCommand({ thingName, principal: cert.certificateArn }));
  if (policyName) await iot.send(new AttachPolicyCommand({ policyName, target: cert.certificateArn }));
  return {
    thingName,
    certificateId: cert.certificateId as string,
    certificateArn: cert.certificateArn as string,
    certificatePem: cert.certificatePem as string,
    privateKeyPem: cert.keyPair?.PrivateKey as string,
  };
}

/** Creates a policy from a document object. */
export async function createPolicy(iot: IoTClient, policyName: string, document: object): Promise<void> {
  await iot.send(new CreatePolicyCommand({ policyName, policyDocument: JSON.stringify(document) }));
}

/**
 * A device policy of the workshop's shape: connect as its own thing, publish/receive (plus any extra
 * actions) on `topics` and subscribe to the same filter; `topics` may use ${iot:Connection.Thing.ThingName}.
 */
export function ownTopicsPolicy(region: string, account: string, topics: string, extraActions: string[] = []): object {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: iotArn(region, account, 'client', '${iot:Connection.Thing.ThingName}') },
      { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive', ...extraActions], Resource: iotArn(region, account, 'topic', topics) },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: iotArn(region, account, 'topicfilter', topics) },
    ],
  };
}

/** What SimulatedJobDevices (and other device helpers) need to know of a registry cloud. */
export function deviceEndpoints(rc: RegistryCloud): { iot: IoTClient; region: string; accountId: string; mqttHost: string; mqttPort: number; caCertPem: string } {
  return { iot: rc.iot, region: rc.cloud.region, accountId: rc.cloud.accountId, mqttHost: rc.cloud.endpoints.mqttHost, mqttPort: rc.cloud.endpoints.mqttPort, caCertPem: rc.cloud.context.tls!.caCertPem };
}

/** Connects a thing's credentials to the registry cloud's broker over mutual TLS (client id: the thing name unless given). */
export function connectThing(rc: RegistryCloud, t: ThingCredentials, clientId = t.thingName): Promise<mqtt.MqttClientConnection> {
  return connectDevice({
    certificatePem: t.certificatePem,
    privateKeyPem: t.privateKeyPem,
    caCertPem: rc.cloud.context.tls!.caCertPem,
    host: rc.cloud.endpoints.mqttHost,
    port: rc.cloud.endpoints.mqttPort,
    clientId,
  });
}

/** The AWS error name a call fails with (err.name), or 'no error' when it succeeds. */
export async function errorName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return (err as Error).name;
  }
}
