/**
 * installJobs: IoT Jobs in the local cloud. Registers the control plane on service `iot`, the jobs data
 * plane on `iot-jobs-data`, and the MQTT API on the broker's bus when one is installed. Job documents
 * given as documentSource are read from the local S3 through a pre-signed GET; placeholders are
 * pre-signed by the S3 service's presigner at each delivery.
 */
import type { CloudContext, ServiceHandle } from '../contracts';
import { JobsDeviceApi } from './device-api';
import { JobsEngine } from './engine';
import { attachJobsMqtt } from './mqtt';
import { controlPlaneRoutes, dataPlaneRoutes } from './rest';

/** What installJobs gives back besides stop(): the engine (tests, or the registry calling engine.refreshTargets()). */
export interface JobsServiceHandle extends ServiceHandle {
  engine: JobsEngine;
}

/** Installs IoT Jobs into a cloud context (after S3, the registry and the broker). */
export async function installJobs(ctx: CloudContext): Promise<JobsServiceHandle> {
  const engine = new JobsEngine({
    clock: ctx.clock,
    store: ctx.store,
    region: ctx.region,
    accountId: ctx.accountId,
    directory: () => ctx.directory,
    log: (line) => process.stderr.write(`[local cloud] ${line}\n`),
    readS3Object: async (bucket, key) => {
      if (!ctx.presigner) throw new Error('the S3 service is not installed');
      const url = await ctx.presigner.presignGet(bucket, key, 60);
      const res = await fetch(url);
      if (!res.ok) throw new Error(`S3 answered ${res.status} for s3://${bucket}/${key}`);
      return res.text();
    },
  });
  ctx.jobs = engine;
  const api = new JobsDeviceApi(engine, ctx.clock, () => ctx.presigner);
  ctx.routes.add('iot', controlPlaneRoutes(engine, ctx.clock));
  ctx.routes.add('iot-jobs-data', dataPlaneRoutes(api));
  const mqtt = ctx.bus
    ? attachJobsMqtt({
        engine,
        api,
        bus: ctx.bus,
        clock: ctx.clock,
        store: ctx.store,
        onError: (err) => process.stderr.write(`[local cloud] jobs: ${(err as Error).message}\n`),
      })
    : undefined;
  return {
    engine,
    async stop() {
      mqtt?.stop();
      engine.stop();
    },
  };
}
