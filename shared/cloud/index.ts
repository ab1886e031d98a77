/**
 * The local cloud's public API: start it, point AWS clients at it, choose local or aws mode.
 * Service internals (routes, handlers) are not exported here; tests import them from their files.
 */
export type * from './contracts';
export { startLocalCloud, cloudClientConfig, resolveClientConfig, readCloudJson, cloudJsonPath, LOCAL_ACCOUNT_ID } from './local-cloud';
export type { LocalCloud, LocalCloudOptions, CloudEndpoints, CloudJson } from './local-cloud';
export { cloudSettings, awsClientConfig, resourceName } from './config';
export type { CloudMode, CloudSettings, AwsClientConfig } from './config';
export { realClock, acceleratedClock, ManualClock } from './clock';
export { loadOrCreateCredentials } from './credentials';
export type { CloudCredentials } from './credentials';
export { AwsError } from './http/errors';
export type { AwsProtocol } from './http/errors';
export { openStateStore, MemoryStateStore } from './state/store';
export { installers } from './services';
export { s3Installer, installS3, LocalPresigner } from './s3/service';
export type { Installer, NamedInstaller } from './services';
