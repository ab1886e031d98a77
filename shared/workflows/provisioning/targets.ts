/**
 * Where provisioning happens: the running local cloud (from its <state dir>/cloud.json) or real AWS IoT
 * (default credential chain and region). Each gives the IoT client and the endpoint facts
 * provisionDevices needs, so callers write `provisionDevices({ ...await localTarget(dir), devices, outDir })`.
 */
import { readFileSync } from 'node:fs';
import { IoTClient } from '@aws-sdk/client-iot';
import { awsClientConfig, type CloudSettings } from '../../cloud/config';
import { cloudClientConfig, readCloudJson } from '../../cloud/local-cloud';
import type { ProvisionOptions } from './provision';

/** The target-specific part of ProvisionOptions. */
export type ProvisionTarget = Pick<ProvisionOptions, 'iot' | 'caCertPem' | 'mode' | 'region' | 'mqtt' | 'httpEndpoint'>;

/** Reads a PEM certificate file; throws naming the file. */
function readPem(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${what} ${path} is not a PEM certificate`);
  return text;
}

/** The local cloud whose state folder is stateDir (it must be running: cloud.json gives its endpoints). */
export function localTarget(stateDir: string, caFile?: string): ProvisionTarget {
  const cloud = readCloudJson(stateDir);
  const caPath = caFile ?? cloud.caCertPath;
  if (!caPath) throw new Error(`${stateDir}/cloud.json has no caCertPath: the local cloud runs without its IoT registry`);
  return {
    iot: new IoTClient(cloudClientConfig(cloud)),
    caCertPem: readPem(caPath, 'CA certificate'),
    mode: 'local',
    region: cloud.region,
    mqtt: { host: cloud.endpoints.mqttHost, port: cloud.endpoints.mqttPort },
    httpEndpoint: cloud.endpoints.http,
  };
}

/**
 * Real AWS IoT: the SDK's default credential chain and region, the iot:Data-ATS endpoint on 8883, and
 * Amazon Root CA 1 from caFile (AmazonRootCA1.pem, downloaded by the user from Amazon Trust Services;
 * nothing is fetched here).
 */
export async function awsTarget(settings: CloudSettings, caFile: string | undefined): Promise<ProvisionTarget> {
  if (!caFile) {
    throw new Error('aws mode needs --ca <AmazonRootCA1.pem>: download Amazon Root CA 1 from Amazon Trust Services (https://www.amazontrust.com/repository/AmazonRootCA1.pem)');
  }
  const caCertPem = readPem(caFile, 'Amazon Root CA file');
  const iot = new IoTClient(awsClientConfig(settings));
  let region: string;
  try {
    region = await iot.config.region();
  } catch {
    throw new Error('aws mode: no AWS region configured (set AWS_REGION or a profile region)');
  }
  return { iot, caCertPem, mode: 'aws', region };
}
