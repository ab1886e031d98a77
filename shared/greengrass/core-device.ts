/**
 * A Greengrass core device in one call: the MQTT connection (mutual TLS with the device's own
 * certificate), the Nucleus on its root folder and the DeviceLink that feeds it deployments and reports
 * its fleet status. What the nucleus CLI, the fleet and the tests start.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDeviceConfig } from '../edge/device-config';
import { DeviceConnection, type DeviceEndpoint } from '../edge/device-connection';
import { DeviceLink } from './device-link';
import { Nucleus, type DeploymentResult, type NucleusOptions } from './nucleus';

/** How to start a core device. */
export interface CoreDeviceOptions extends Omit<NucleusOptions, 'onComponentChange'> {
  endpoint: Omit<DeviceEndpoint, 'clientId'>;
  onResult?: (jobId: string, result: DeploymentResult) => void;
}

/** A running core device. */
export interface CoreDevice {
  thingName: string;
  nucleus: Nucleus;
  link: DeviceLink;
  connection: DeviceConnection;
  /** Disconnect and stop every component. */
  stop(): Promise<void>;
}

/** Start the nucleus (its last good set comes back), connect, and take deployments. */
export async function startCoreDevice(opts: CoreDeviceOptions): Promise<CoreDevice> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[nucleus ${opts.thingName}] ${line}\n`));
  const connection = new DeviceConnection({ ...opts.endpoint, clientId: opts.thingName }, log);
  let link: DeviceLink | undefined;
  const nucleus = await Nucleus.start({ ...opts, log, onComponentChange: () => link?.reportHealthSoon() });
  // The MQTT proxy of the IPC goes through the device's own connection (its policy applies in the cloud).
  nucleus.ipc.cloud = {
    publish: (topic, payload) => connection.publish(topic, payload),
    subscribe: (topic, handler) => connection.subscribe(topic, (t, payload) => handler(t, Buffer.from(payload))),
  };
  link = new DeviceLink({ thingName: opts.thingName, connection, nucleus, stateDir: `${opts.root}/config`, log, onResult: opts.onResult });
  void connection.start();
  await link.start();
  const started = link;
  return {
    thingName: opts.thingName,
    nucleus,
    link: started,
    connection,
    async stop() {
      started.stop();
      await connection.stop();
      await nucleus.stop();
    },
  };
}

/** Start a core device from a provisioned device bundle (certificate, key, CA, device.json). */
export function startCoreDeviceFromBundle(bundleDir: string, opts: Omit<CoreDeviceOptions, 'endpoint' | 'thingName'>): Promise<CoreDevice> {
  const { config: bundle, dir } = readDeviceConfig(bundleDir);
  const file = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return startCoreDevice({
    ...opts,
    thingName: bundle.thingName,
    endpoint: { host: bundle.mqtt.host, port: bundle.mqtt.port, certificatePem: file(bundle.files.certificate), privateKeyPem: file(bundle.files.privateKey), caPem: file(bundle.files.ca) },
  });
}
