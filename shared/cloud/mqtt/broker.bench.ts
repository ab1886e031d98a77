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
import { connectionVariables, evaluate, parsePolicyDocument, type PolicyVariables } from '../iot/policy';
import { allowAllAuthorizer, PolicyAuthorizer } from './authorizer';
import { startMqttBroker, type MqttBroker } from './broker';
import { closeDevice, connectDevice, MemoryPrincipalDirectory } from './mqtt-testing';

export const name = 'MQTT broker: QoS 1 messages/s through mutual TLS, with policy checks vs without';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const THING = 'bench-turbine';
const MESSAGES = 600;
const IN_FLIGHT = 64;
const ROUNDS = 8;

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

/** Publish + Receive evaluations per second of the policy engine itself (no memo, no network), for the device's variables. */
function evaluationsPerSecond(variables: PolicyVariables): number {
  const policies = [parsePolicyDocument(JSON.stringify(POLICY))];
  const resource = arn(`topic/turbines/${THING}/load`);
  const n = 20_000;
  for (let i = 0; i < 1000; i++) evaluate(policies, 'iot:Publish', resource, variables);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const ok = evaluate(policies, 'iot:Publish', resource, variables) === 'Allow' && evaluate(policies, 'iot:Receive', resource, variables) === 'Allow';
    if (!ok) throw new Error('the bench policy denies its own topic');
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Run the bench: ROUNDS per broker, interleaved in alternating order so both see the same machine load; medians. */
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
    const checked = await startMqttBroker({ tls, authorizer: new PolicyAuthorizer(directory, { region: REGION, accountId: ACCOUNT }) });
    const open = await startMqttBroker({ tls, authorizer: allowAllAuthorizer });
    brokers.push(checked, open);
    const device = { certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, caCertPem: ca.caCertPem };
    const checkedRates: number[] = [];
    const openRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        checkedRates.push(await measure(checked, device));
        openRates.push(await measure(open, device));
      } else {
        openRates.push(await measure(open, device));
        checkedRates.push(await measure(checked, device));
      }
    }
    const withChecks = median(checkedRates);
    const withoutChecks = median(openRates);
    const checks = evaluationsPerSecond(connectionVariables({ clientId: THING, thing: { thingName: THING, attributes: {} }, isAttached: true }));
    return [
      {
        label: 'publish + deliver, iot:Publish/iot:Receive checked per message',
        value: withChecks,
        unit: 'msg/s',
        baseline: { label: 'same broker, allow-all authorizer', value: withoutChecks },
        note: `${MESSAGES} QoS 1 messages, ${IN_FLIGHT} in flight, one device publishing to its own subscription, median of ${ROUNDS} interleaved rounds`,
      },
      {
        label: 'policy engine alone, unmemoised (iot:Publish + iot:Receive evaluations per message, in process)',
        value: checks,
        unit: 'msg/s',
        baseline: { label: 'messages through the broker without checks', value: withoutChecks },
        note: 'how many times the evaluations outpace the broker; the broker memoises decisions per connection on top',
      },
    ];
  } finally {
    for (const b of brokers) await b.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
