/**
 * Many device identities quickly, for the reconnect storm: the first device is provisioned as usual
 * (thing, group, policy, its own RSA key and certificate); every other device gets its own thing and its
 * own certificate, issued by the cloud from a CSR of the first device's key, attached to its thing and
 * the same per-device policy. RSA key generation is what makes provisioning slow (about 1 s a device on
 * a loaded machine); sharing the key keeps 1000 devices to a minute while each still connects with its
 * own certificate, client id and thing.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AddThingToThingGroupCommand, AttachPolicyCommand, AttachThingPrincipalCommand, CreateCertificateFromCsrCommand, CreateThingCommand, IoTClient } from '@aws-sdk/client-iot';
import forge from 'node-forge';
import { cloudClientConfig, type LocalCloud } from '../cloud';
import { readDeviceConfig } from '../edge/device-config';
import type { DeviceEndpoint } from '../edge/device-connection';
import { provisionTestDevices } from '../edge/agent-testing';

/** Provisions n device identities (see the file comment); returns how each connects. */
export async function provisionStormDevices(cloud: LocalCloud, outDir: string, n: number, onProgress: (done: number) => void = () => undefined): Promise<DeviceEndpoint[]> {
  const [first] = await provisionTestDevices(cloud.dir, outDir, 1);
  const { config, dir } = readDeviceConfig(first);
  const pem = (f: string): string => readFileSync(resolve(dir, f), 'utf8');
  const privateKeyPem = pem(config.files.privateKey);
  const base = { host: config.mqtt.host, port: config.mqtt.port, privateKeyPem, caPem: pem(config.files.ca) };
  const key = forge.pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([{ name: 'commonName', value: 'fault-injection storm device' }]);
  csr.sign(key, forge.md.sha256.create());
  const csrPem = forge.pki.certificationRequestToPem(csr);

  const devices: DeviceEndpoint[] = new Array(n);
  devices[0] = { ...base, clientId: config.thingName, certificatePem: pem(config.files.certificate) };
  const iot = new IoTClient(cloudClientConfig(cloud));
  let next = 1;
  let done = 1;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const thingName = `edge-storm-${i}`;
      await iot.send(new CreateThingCommand({ thingName }));
      await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'edge-test', thingName }));
      const cert = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csrPem, setAsActive: true }));
      await iot.send(new AttachThingPrincipalCommand({ thingName, principal: cert.certificateArn }));
      await iot.send(new AttachPolicyCommand({ policyName: 'edge-test-policy', target: cert.certificateArn }));
      devices[i] = { ...base, clientId: thingName, certificatePem: cert.certificatePem as string };
      onProgress(++done);
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    iot.destroy();
  }
  return devices;
}

