/**
 * Installs the AWS IoT registry into the local cloud: loads (or creates) the CA under <state dir>/ca/,
 * issues the broker's TLS server certificate and sets ctx.tls, opens the registry on ctx.store, sets
 * ctx.directory (the PrincipalDirectory the broker and Jobs consult) and registers the REST routes on
 * service 'iot'.
 */
import { join } from 'node:path';
import type { CloudContext, ServiceHandle } from '../contracts';
import { loadOrCreateCa, loadOrCreateServerCertificate } from './ca';
import { IotRegistry } from './registry';
import { RegistryDirectory } from './registry-directory';
import { registryRoutes } from './registry-routes';

/** Extra host names for the broker's certificate, comma-separated (e.g. a LAN name devices use). */
const EXTRA_HOSTS_ENV = 'CLOUD_MQTT_HOSTS';

/** Installer of the IoT registry (see shared/cloud/services.ts). */
export async function installIotRegistry(ctx: CloudContext): Promise<ServiceHandle> {
  const ca = await loadOrCreateCa(join(ctx.dir, 'ca'));
  const extraHosts = (process.env[EXTRA_HOSTS_ENV] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  if (ctx.endpoints?.mqttHost) extraHosts.push(ctx.endpoints.mqttHost);
  const server = await loadOrCreateServerCertificate(ca, extraHosts);
  ctx.tls = { caCertPem: ca.caCertPem, serverCertPem: server.serverCertPem, serverKeyPem: server.serverKeyPem };
  const registry = new IotRegistry(ctx.store, ca, ctx.clock, ctx.region, ctx.accountId, () => ctx.endpoints);
  ctx.directory = new RegistryDirectory(registry);
  ctx.routes.add('iot', registryRoutes(registry));
  return { stop: async () => undefined };
}
