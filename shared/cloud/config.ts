/**
 * Where the cloud is: `local` (default) runs the embedded local cloud and points every AWS client at it;
 * `aws` starts nothing and lets clients use the default AWS credential chain and region, creating real
 * resources whose names start with `resourcePrefix` so a teardown can find and remove them.
 *
 * Settings come from the environment, overridable in code:
 *   CLOUD_MODE=local|aws          (default local; the one mode setting of every lab and command. The
 *                                  former LAB_MODE is refused with a pointer here, never silently ignored)
 *   CLOUD_RESOURCE_PREFIX=<text>  (default "edgeml-"; letters, digits and '-')
 *   CLOUD_STATE_DIR=<dir>         (local mode state folder, default .state/cloud)
 *   AWS_REGION / AWS_DEFAULT_REGION (aws mode region; local mode default us-east-1)
 *
 * In aws mode the workshop creates (all named with the prefix): an S3 bucket for models and captured
 * data, IoT things, a thing group, a thing type, device certificates and an IoT policy, IoT jobs, and
 * (later labs) SageMaker device fleets and Greengrass components/deployments. See shared/cloud/README.md
 * for how to remove them.
 */
import type { CloudCredentials } from './credentials';

// The AWS SDK's documented switch for its Node version notice (NodeVersionSupportWarning, on Node < 22):
// the project supports Node 20 on purpose. Every SDK client here takes its settings from this module, so
// setting it here keeps every command, lab and test quiet. A user's own setting wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export type CloudMode = 'local' | 'aws';

/** Resolved cloud settings. */
export interface CloudSettings {
  mode: CloudMode;
  /** Prefix for every resource name the workshop creates (bucket, things, policies, jobs...). */
  resourcePrefix: string;
  /** Local mode: state folder of the embedded cloud. */
  stateDir: string;
  /** Region: local default us-east-1; aws mode leaves it to the SDK's chain when unset. */
  region?: string;
}

/** Config for any @aws-sdk client constructor. */
export interface AwsClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: CloudCredentials;
  forcePathStyle?: boolean;
}

/** CLOUD_MODE from env (default local); throws on any other value, and on the retired LAB_MODE. */
export function cloudModeFromEnv(env: NodeJS.ProcessEnv = process.env): CloudMode {
  // LAB_MODE once looked like the labs' switch but nothing read it; refusing it keeps an aws run from silently going local.
  if (env.LAB_MODE?.trim()) throw new Error(`LAB_MODE is not read: set CLOUD_MODE=${env.LAB_MODE.trim()} instead (one setting selects local or aws for every lab and command)`);
  const mode = env.CLOUD_MODE?.trim() || 'local';
  if (mode !== 'local' && mode !== 'aws') throw new Error(`CLOUD_MODE must be "local" or "aws", got "${mode}"`);
  return mode;
}

/** Read the cloud settings from the environment, with explicit overrides winning; throws on bad values. */
export function cloudSettings(overrides: Partial<CloudSettings> = {}, env: NodeJS.ProcessEnv = process.env): CloudSettings {
  const mode = overrides.mode ?? cloudModeFromEnv(env);
  if (mode !== 'local' && mode !== 'aws') throw new Error(`mode must be "local" or "aws", got "${mode}"`);
  const resourcePrefix = overrides.resourcePrefix ?? env.CLOUD_RESOURCE_PREFIX ?? 'edgeml-';
  if (!/^[a-z0-9-]{0,20}$/.test(resourcePrefix)) {
    throw new Error(`CLOUD_RESOURCE_PREFIX must be up to 20 lower-case letters, digits or '-' (it becomes part of S3 bucket names), got "${resourcePrefix}"`);
  }
  const region = overrides.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || (mode === 'local' ? 'us-east-1' : undefined));
  return { mode, resourcePrefix, stateDir: overrides.stateDir ?? (env.CLOUD_STATE_DIR || '.state/cloud'), region };
}

/** Client config in aws mode: the SDK's default credential chain, and the region when one is set. */
export function awsClientConfig(settings: CloudSettings): AwsClientConfig {
  return settings.region ? { region: settings.region } : {};
}

/** A resource name with the configured prefix, e.g. resourceName(settings, 'fleet') → "edgeml-fleet". */
export function resourceName(settings: Pick<CloudSettings, 'resourcePrefix'>, name: string): string {
  return `${settings.resourcePrefix}${name}`;
}
