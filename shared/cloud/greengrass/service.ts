/**
 * installGreengrass: the Greengrass v2 control plane of the local cloud on service `greengrass`
 * (components.ts, deployments.ts, core-devices.ts, routes.ts). Installed after S3 (artifacts), the IoT
 * registry (targets), the broker (health reports) and Jobs (deployments travel as IoT jobs). State lives
 * in the cloud's store and survives a restart.
 */
import type { CloudContext, ServiceHandle } from '../contracts';
import { ComponentCatalog, componentOperations, type S3Reader } from './components';
import { attachFleetStatus, coreDeviceOperations } from './core-devices';
import { deploymentOperations } from './deployments';
import { COLLECTIONS, type ComponentVersionRecord, type CoreDeviceRecord, type DeploymentRecord } from './model';
import { greengrassRoutes } from './routes';

/** What installGreengrass gives back besides stop(): health report counters, for tests. */
export interface GreengrassServiceHandle extends ServiceHandle {
  health?: { recorded: number; ignored: number };
}

/** Installs the Greengrass v2 control plane into a cloud context. */
export async function installGreengrass(ctx: CloudContext): Promise<GreengrassServiceHandle> {
  const log = (line: string): void => void process.stderr.write(`[local cloud] ${line}\n`);
  const components = ctx.store.collection<ComponentVersionRecord>(COLLECTIONS.components);
  // Deployment records change in the same commits as their jobs, so a failed save puts both back.
  const storedDeployments = ctx.store.collection<DeploymentRecord>(COLLECTIONS.deployments);
  const deployments = ctx.jobs ? ctx.jobs.trackWith(COLLECTIONS.deployments, storedDeployments) : storedDeployments;
  const coreDevices = ctx.store.collection<CoreDeviceRecord>(COLLECTIONS.coreDevices);
  const readS3: S3Reader = async (bucket, key) => {
    if (!ctx.presigner) throw new Error('the S3 service is not installed');
    const res = await fetch(await ctx.presigner.presignGet(bucket, key, 60));
    if (res.status === 404) return undefined;
    if (!res.ok || !res.body) throw new Error(`S3 answered ${res.status} for s3://${bucket}/${key}`);
    return res.body as unknown as AsyncIterable<Uint8Array>;
  };
  const engine = () => {
    if (!ctx.jobs) throw new Error('IoT Jobs is not installed; Greengrass deployments travel as IoT jobs');
    return ctx.jobs;
  };
  const catalog = new ComponentCatalog(components);
  const base = { clock: ctx.clock, region: ctx.region, accountId: ctx.accountId };
  const deploymentOps = deploymentOperations({ ...base, deployments, engine }, catalog);
  const componentOps = componentOperations({ ...base, components, readS3, inUse: deploymentOps.inUse }, catalog);
  const coreDeviceOps = coreDeviceOperations({ coreDevices, directory: () => ctx.directory });
  const health = ctx.bus ? attachFleetStatus({ bus: ctx.bus, clock: ctx.clock, coreDevices, flush: () => ctx.store.flush(), log }) : undefined;
  ctx.routes.add('greengrass', greengrassRoutes({ components: componentOps, deployments: deploymentOps, coreDevices: coreDeviceOps }));
  return {
    health: health?.counts,
    async stop() {
      health?.stop();
    },
  };
}
