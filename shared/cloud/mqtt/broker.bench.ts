/**
 * Messages per second through the TLS broker with AWS IoT policy checks (iot:Publish on every publish,
 * iot:Receive on every delivery, policy variables substituted), against the same broker with an
 * authorizer that allows everything: same run, same device client (aws-iot-device-sdk-v2, mutual TLS,
 * QoS 1), same message count.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mqtt } from 'aws-iot-device-sdk-v2';
import type { BenchLine } from '../../bench/types';
import { certificateIdOf, issueDeviceCertificate, loadOrCreateCa, loadOrCreateServerCertificate } from '../iot/ca';
import { connectionVariables } from '../iot/policy';
import { allowAllAuthorizer, PolicyAuthorizer, type ConnectionIdentity } from './authorizer';
import { startMqttBroker, type MqttBroker } from './broker';
import { closeDevice, connectDevice, MemoryPrincipalDirectory } from './testing';

export const name = 'MQTT broker: QoS 1 messages/s through mutual TLS, with policy checks vs without';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const THING = 'bench-turbine';
const MESSAGES = 1000;
const IN_FLIGHT = 64;
const ROUNDS = 6;

const arn = (rest: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:${rest}`;
/** A policy shaped like the workshop's device policy, with a few statements to walk through. */
const POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client/${iot:Connection.Thing.ThingName}') },
    { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: [arn('topic/$aws/things/${iot:Connection.Thing.ThingName}/*')] },
    { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: [arn('topic/turbines/${iot:Connection.Thing.ThingName}/*')] },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: [arn('topicfilter/turbines/${iot:Connection.Thing.ThingName}/*')] },
    { Effect: 'Deny', Action: 'iot:Publish', Resource: [arn('topic/turbines/${iot:Connection.Thing.ThingName}/forbidden')] },
  ],
};

interface Device {
  certificatePem: string;
  privateKeyPem: string;
  caCertPem: string;
}

/** Messages per second for one device publishing to a topic it is subscribed to, IN_FLIGHT at a time. */
async function measure(broker: MqttBroker, device: Device): Promise<number> {
  const conn = await connectDevice({ ...device, host: broker.host, port: broker.port, clientId: THING });
  const topic = `turbines/${THING}/load`;
  let received = 0;
  let onAll: () => void = () => {};
  await conn.subscribe(topic, mqtt.QoS.AtLeastOnce, () => {
    received++;
    if (received === target) onAll();
  });
  let target = 0;
  const send = async (count: number): Promise<void> => {
    target = received + count;
    const all = new Promise<void>((resolve) => (onAll = resolve));
    const payload = JSON.stringify({ rps: 3.2, voltage: 11.7, roll: 0.01, pitch: -0.02, yaw: 1.57, wind: 4.1 });
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        await conn.publish(topic, payload, mqtt.QoS.AtLeastOnce);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await all;
  };
  await send(200); // warm-up: TLS buffers, JIT, compiled policy patterns
  const start = process.hrtime.bigint();
  await send(MESSAGES);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await conn.unsubscribe(topic);
  await closeDevice(conn);
  return MESSAGES / seconds;
}

/** Publish + Receive decisions per second, in process, for the device's identity (no network). */
function checksPerSecond(authorizer: PolicyAuthorizer, identity: ConnectionIdentity): number {
  const topic = `turbines/${THING}/load`;
  const n = 20_000;
  for (let i = 0; i < 1000; i++) authorizer.publish(identity, topic, false);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (!authorizer.publish(identity, topic, false) || !authorizer.receive(identity, topic)) throw new Error('bench policy denies its own topic');
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Run the bench: best of ROUNDS per broker, alternating so both see the same machine load. */
export async function run(): Promise<BenchLine[]> {
  const dir = await mkdtemp(join(tmpdir(), 'mqtt-bench-'));
  const brokers: MqttBroker[] = [];
  try {
    const ca = await loadOrCreateCa(join(dir, 'ca'));
    const server = await loadOrCreateServerCertificate(ca);
    const cert = await issueDeviceCertificate(ca);
    const directory = new MemoryPrincipalDirectory();
    const certificateArn = directory.addCertificate(certificateIdOf(cert.certificatePem), cert.certificatePem, REGION, ACCOUNT);
    directory.attachThing(certificateArn, THING);
    directory.attachPolicy(certificateArn, 'device-policy', POLICY);
    const tls = { caCertPem: ca.caCertPem, ...server };
    const policyAuthorizer = new PolicyAuthorizer(directory, { region: REGION, accountId: ACCOUNT });
    const checked = await startMqttBroker({ tls, authorizer: policyAuthorizer });
    const open = await startMqttBroker({ tls, authorizer: allowAllAuthorizer });
    brokers.push(checked, open);
    const device = { certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, caCertPem: ca.caCertPem };
    let withChecks = 0;
    let withoutChecks = 0;
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        withChecks = Math.max(withChecks, await measure(checked, device));
        withoutChecks = Math.max(withoutChecks, await measure(open, device));
      } else {
        withoutChecks = Math.max(withoutChecks, await measure(open, device));
        withChecks = Math.max(withChecks, await measure(checked, device));
      }
    }
    const identity: ConnectionIdentity = {
      clientId: THING,
      certificateId: certificateIdOf(cert.certificatePem),
      certificateArn,
      thingName: THING,
      variables: connectionVariables({ clientId: THING, thing: { thingName: THING, attributes: {} }, isAttached: true }),
    };
    const checks = checksPerSecond(policyAuthorizer, identity);
    return [
      {
        label: 'publish + deliver, iot:Publish/iot:Receive checked per message',
        value: withChecks,
        unit: 'msg/s',
        baseline: { label: 'same broker, allow-all authorizer', value: withoutChecks },
        note: `${MESSAGES} QoS 1 messages, ${IN_FLIGHT} in flight, one device publishing to its own subscription, best of ${ROUNDS}`,
      },
      {
        label: 'policy decisions alone (iot:Publish + iot:Receive per message, in process)',
        value: checks,
        unit: 'msg/s',
        baseline: { label: 'messages through the broker without checks', value: withoutChecks },
        note: 'how many times the checks outpace the broker: the share of a message the checks cost is the inverse',
      },
    ];
  } finally {
    for (const b of brokers) await b.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
