/**
 * The services of the local cloud, installed by startLocalCloud in this order:
 *   s3, iot registry, mqtt broker, shadow, jobs, sagemaker, capture ingest, greengrass.
 *
 * An installer gets the CloudContext, registers its REST routes on ctx.routes (service = the SigV4 scope
 * name: 's3', 'iot', 'iot-jobs-data', 'sagemaker', 'greengrass'), keeps its state in
 * ctx.store.collection(...), uses ctx.clock for every timer, may set the context fields it owns
 * (S3: presigner; registry: directory, tls; broker: bus and ctx.endpoints.mqttHost/mqttPort), and returns
 * a handle whose stop() undoes what it started. Services installed earlier are visible to later ones.
 *
 * When installers run, the HTTP server already listens (ctx.endpoints.http is the real URL) but holds
 * requests until every installer has finished. ctx.endpoints.mqttPort holds the port asked for
 * (0 = any free port): the broker listens on it and writes the port it got back into ctx.endpoints.
 *
 * To add a service: one import line and one array entry below, in the order above.
 */
import type { CloudContext, ServiceHandle } from './contracts';
import { installS3 } from './s3/service';
import { installIotRegistry } from './iot/registry-service';
import { installMqttBroker } from './mqtt/service';
import { installShadow } from './shadow/service';
import { installJobs } from './jobs/service';
import { installSageMaker } from './sagemaker/service';
import { installCaptureIngest } from './capture/service';
import { installGreengrass } from './greengrass/service';

/** Installs one service into the cloud. */
export type Installer = (ctx: CloudContext) => Promise<ServiceHandle>;

/** A service's installer with the name used in logs and errors. */
export interface NamedInstaller {
  name: string;
  install: Installer;
}

/** Every service of the local cloud, in installation order. */
export const installers: NamedInstaller[] = [
  { name: 's3', install: installS3 },
  { name: 'iot-registry', install: installIotRegistry },
  { name: 'mqtt-broker', install: installMqttBroker },
  { name: 'shadow', install: installShadow },
  { name: 'jobs', install: installJobs },
  { name: 'sagemaker', install: installSageMaker },
  { name: 'capture-ingest', install: installCaptureIngest },
  { name: 'greengrass', install: installGreengrass },
];
