/**
 * The cloud a lab talks to, chosen by CLOUD_MODE: `local` starts the embedded local cloud in a temporary
 * folder on free ports (so a lab never disturbs `npm run cloud`); `aws` starts nothing and hands out the
 * SDK's default credential chain and region, with the IAM role and root CA the user names.
 *
 *   CLOUD_ROLE_ARN=<arn>   aws mode: the role SageMaker jobs run as (local mode makes one up)
 *   CLOUD_ROOT_CA=<file>   aws mode: Amazon Root CA 1 (PEM) the devices trust for AWS IoT
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsClientConfig, cloudSettings, resourceName, type AwsClientConfig, type CloudSettings } from '../cloud/config';
import { cloudClientConfig, startLocalCloud, type LocalCloud } from '../cloud/local-cloud';
import { installers } from '../cloud/services';
import { withSageMakerOptions } from '../cloud/sagemaker/service';
import { awsTarget, localTarget, type ProvisionTarget } from '../workflows/provisioning/targets';

/** A lab's cloud: client settings for the SDK, and in local mode the embedded cloud itself. */
export interface LabCloud {
  settings: CloudSettings;
  /** Pass to every @aws-sdk client constructor. */
  clientConfig: AwsClientConfig;
  /** The embedded cloud (local mode only). */
  local?: LocalCloud;
  /** The IAM role SageMaker jobs run as. */
  roleArn: string;
  /** The bucket for models and packages ("<prefix>models"). */
  modelBucket: string;
  /** A temporary folder for device bundles and agent state; removed by stop(). */
  workDir: string;
  /** Where provisioning creates things and certificates (the local cloud's registry, or AWS IoT). */
  provisionTarget(): Promise<ProvisionTarget>;
  /** Stops the local cloud (if any) and removes workDir. */
  stop(): Promise<void>;
}

/** Options of openLabCloud. */
export interface LabCloudOptions {
  /** Names the temporary folders, e.g. "lab03". */
  name: string;
  /** Local mode: where SageMaker jobs find the project's signing key. */
  signingKeyDir: string;
  env?: NodeJS.ProcessEnv;
}

/** Opens the cloud CLOUD_MODE selects; see the file comment. Throws before starting anything on a bad setting. */
export async function openLabCloud(options: LabCloudOptions): Promise<LabCloud> {
  const env = options.env ?? process.env;
  const settings = cloudSettings({}, env);
  const modelBucket = resourceName(settings, 'models');
  if (settings.mode === 'aws') {
    const roleArn = env.CLOUD_ROLE_ARN?.trim();
    if (!roleArn) throw new Error('CLOUD_MODE=aws needs CLOUD_ROLE_ARN: the ARN of an IAM role SageMaker may assume to read and write the model bucket');
    const rootCa = env.CLOUD_ROOT_CA?.trim();
    const workDir = mkdtempSync(join(tmpdir(), `${options.name}-aws-`));
    return {
      settings,
      clientConfig: awsClientConfig(settings),
      roleArn,
      modelBucket,
      workDir,
      provisionTarget: async () => {
        if (!rootCa) throw new Error('CLOUD_MODE=aws needs CLOUD_ROOT_CA: the path of Amazon Root CA 1 (AmazonRootCA1.pem) for the devices');
        return awsTarget(settings, rootCa);
      },
      stop: async () => rmSync(workDir, { recursive: true, force: true }),
    };
  }
  const workDir = mkdtempSync(join(tmpdir(), `${options.name}-cloud-`));
  let local: LocalCloud;
  try {
    local = await startLocalCloud({
      dir: join(workDir, 'cloud'),
      port: 0,
      mqttPort: 0,
      installers: withSageMakerOptions(installers, { signingKeyDir: options.signingKeyDir }),
      log: () => undefined,
    });
  } catch (err) {
    rmSync(workDir, { recursive: true, force: true });
    throw err;
  }
  return {
    settings,
    clientConfig: cloudClientConfig(local),
    local,
    roleArn: `arn:aws:iam::${local.accountId}:role/SageMakerEdgeRole`,
    modelBucket,
    workDir,
    provisionTarget: async () => localTarget(local.dir),
    stop: async () => {
      await local.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** One line saying where the lab's cloud is. */
export function describeLabCloud(lab: LabCloud): string {
  if (lab.local) return `local cloud at ${lab.local.endpoints.http}, MQTT on port ${lab.local.endpoints.mqttPort}`;
  return `AWS (region ${lab.settings.region ?? 'from the SDK chain'}, role ${lab.roleArn}); no local cloud started`;
}
