/**
 * Test support for the MQTT side: an in-memory PrincipalDirectory (certificates, things, policies) for
 * broker tests that run without the registry service, and a device connection through
 * aws-iot-device-sdk-v2 over mutual TLS, built as the SDK samples build theirs.
 */
import { mqtt, iot } from 'aws-iot-device-sdk-v2';
import type { CertificateRecord, PrincipalDirectory } from '../contracts';

/** A PrincipalDirectory held in plain maps; tests mutate it to attach, detach and revoke. */
export class MemoryPrincipalDirectory implements PrincipalDirectory {
  readonly certificates = new Map<string, CertificateRecord>();
  readonly things = new Map<string, { thingName: string; thingTypeName?: string; attributes: Record<string, string> }>();
  /** principal ARN -> thing names */
  readonly thingPrincipals = new Map<string, Set<string>>();
  /** principal ARN -> policy name -> document */
  readonly principalPolicies = new Map<string, Map<string, string>>();
  readonly groups = new Map<string, Set<string>>();
  /** principal ARN -> the thing it is attached to with EXCLUSIVE_THING */
  readonly exclusive = new Map<string, string>();

  /** Register a certificate as ACTIVE and return its ARN. */
  addCertificate(certificateId: string, certificatePem: string, region: string, accountId: string): string {
    const certificateArn = `arn:aws:iot:${region}:${accountId}:cert/${certificateId}`;
    this.certificates.set(certificateId, { certificateId, certificateArn, certificatePem, status: 'ACTIVE' });
    return certificateArn;
  }

  /** Create a thing (if new) and attach it to a principal. */
  attachThing(principalArn: string, thingName: string, attributes: Record<string, string> = {}, thingTypeName?: string): void {
    if (!this.things.has(thingName)) this.things.set(thingName, { thingName, thingTypeName, attributes });
    const set = this.thingPrincipals.get(principalArn) ?? new Set();
    set.add(thingName);
    this.thingPrincipals.set(principalArn, set);
  }

  /** Attach a policy document to a principal. */
  attachPolicy(principalArn: string, policyName: string, document: string | object): void {
    const map = this.principalPolicies.get(principalArn) ?? new Map();
    map.set(policyName, typeof document === 'string' ? document : JSON.stringify(document));
    this.principalPolicies.set(principalArn, map);
    this.policyLists.delete(principalArn);
  }

  /** Detach a policy from a principal. */
  detachPolicy(principalArn: string, policyName: string): void {
    this.principalPolicies.get(principalArn)?.delete(policyName);
    this.policyLists.delete(principalArn);
  }

  /** Set a certificate's status (e.g. REVOKED). */
  setStatus(certificateId: string, status: CertificateRecord['status']): void {
    const rec = this.certificates.get(certificateId);
    if (!rec) throw new Error(`no certificate ${certificateId}`);
    rec.status = status;
  }

  /** The thing a principal is exclusively attached to, if any. */
  exclusiveThingOf(principalArn: string): string | undefined {
    return this.exclusive.get(principalArn);
  }

  certificate(certificateId: string): CertificateRecord | undefined {
    return this.certificates.get(certificateId);
  }
  thingsForPrincipal(principalArn: string): string[] {
    return [...(this.thingPrincipals.get(principalArn) ?? [])];
  }
  // Like the registry's directory: the same list object per principal until something changes.
  private readonly policyLists = new Map<string, { name: string; document: string }[]>();

  policiesForPrincipal(principalArn: string): { name: string; document: string }[] {
    let list = this.policyLists.get(principalArn);
    if (!list) {
      list = [...(this.principalPolicies.get(principalArn) ?? new Map<string, string>())].map(([name, document]) => ({ name, document }));
      this.policyLists.set(principalArn, list);
    }
    return list;
  }
  thing(name: string) {
    return this.things.get(name);
  }
  thingsInGroup(groupName: string): string[] {
    return [...(this.groups.get(groupName) ?? [])];
  }
}

/** How a device connects: its certificate and key PEMs, the CA to trust, where, and as whom. */
export interface DeviceConnectionOptions {
  certificatePem: string;
  privateKeyPem: string;
  caCertPem: string;
  host: string;
  port: number;
  clientId: string;
  cleanSession?: boolean;
}

/** An unconnected aws-iot-device-sdk-v2 MQTT 3.1.1 connection with mutual TLS, as a device builds it. */
export function deviceConnection(o: DeviceConnectionOptions): mqtt.MqttClientConnection {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(o.certificatePem, o.privateKeyPem)
    .with_certificate_authority(o.caCertPem)
    .with_endpoint(o.host)
    .with_port(o.port)
    .with_client_id(o.clientId)
    .with_clean_session(o.cleanSession ?? true)
    .with_keep_alive_seconds(30)
    .with_reconnect_min_sec(1)
    .with_reconnect_max_sec(2)
    .build();
  return new mqtt.MqttClient().new_connection(config);
}

/** Connect a device; resolves with the connection once CONNACK accepted it, rejects otherwise. */
export async function connectDevice(o: DeviceConnectionOptions): Promise<mqtt.MqttClientConnection> {
  const connection = deviceConnection(o);
  try {
    await connection.connect();
  } catch (err) {
    await closeDevice(connection);
    throw err;
  }
  return connection;
}

/** Disconnect (if still connected); disconnect() also frees the native connection. */
export async function closeDevice(connection: mqtt.MqttClientConnection): Promise<void> {
  try {
    await Promise.race([connection.disconnect(), new Promise((r) => setTimeout(r, 2000))]);
  } catch {
    // already closed
  }

}

/** Collect messages a device receives on a subscription. */
export class Inbox {
  readonly messages: { topic: string; payload: string }[] = [];
  private waiters: { topic: string; resolve: (p: string) => void }[] = [];

  /** The callback to pass to connection.subscribe. */
  readonly onMessage = (topic: string, payload: ArrayBuffer): void => {
    const text = Buffer.from(payload).toString('utf8');
    this.messages.push({ topic, payload: text });
    const i = this.waiters.findIndex((w) => w.topic === topic);
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(text);
  };

  /** Next message on topic (one already received and not yet taken counts), or reject after ms. */
  next(topic: string, ms = 5000): Promise<string> {
    const i = this.messages.findIndex((m) => m.topic === topic);
    if (i >= 0) return Promise.resolve(this.messages.splice(i, 1)[0].payload);
    return new Promise((resolve, reject) => {
      const waiter = {
        topic,
        resolve: (p: string) => {
          clearTimeout(timer);
          const k = this.messages.findIndex((m) => m.topic === topic && m.payload === p);
          if (k >= 0) this.messages.splice(k, 1);
          resolve(p);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no message on ${topic} within ${ms} ms`));
      }, ms);
      this.waiters.push(waiter);
    });
  }
}

/**
 * Resolve when the connection is interrupted (the broker closed it), or reject after ms.
 * Not events.once: that also rejects on an 'error' event, and aws-crt emits one for every failed
 * request, so a request the same close cancelled (a subscribe, say) could win the race with 'interrupt'.
 */
export async function interrupted(connection: mqtt.MqttClientConnection, ms = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`not interrupted within ${ms} ms`)), ms);
      connection.once('interrupt', () => resolve());
    });
  } finally {
    clearTimeout(timer);
  }
}

/** An MQTT packet built by hand: first byte, remaining length as a variable byte integer, body. */
export function mqttPacket(first: number, body: Buffer): Buffer {
  const length: number[] = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    length.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([first, ...length]), body]);
}
