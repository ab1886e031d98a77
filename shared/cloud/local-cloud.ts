/**
 * startLocalCloud: the embedded local cloud in one call. Opens the state store and credentials under
 * dir, starts the HTTP endpoint on 127.0.0.1, installs every service of services.ts in order, and writes
 * <dir>/cloud.json so any AWS client or MQTT tool can be pointed at it.
 *
 * In a test:
 *   const dir = await mkdtemp(join(tmpdir(), 'cloud-'));
 *   const cloud = await startLocalCloud({ dir, port: 0, mqttPort: 0, clock: new ManualClock() });
 *   const s3 = new S3Client(cloudClientConfig(cloud));
 *   ...
 *   await cloud.stop(); await rm(dir, { recursive: true, force: true });
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { realClock } from './clock';
import { awsClientConfig, type AwsClientConfig, type CloudSettings } from './config';
import type { CloudContext, Clock, ServiceHandle } from './contracts';
import { loadOrCreateCredentials, type CloudCredentials } from './credentials';
import { Router } from './http/router';
import { CloudHttpServer, type RequestLogEntry } from './http/server';
import { installers as defaultInstallers, type NamedInstaller } from './services';
import { openStateStore } from './state/store';

/** Account id of the local cloud, in every ARN it issues. */
export const LOCAL_ACCOUNT_ID = '000000000000';

export interface LocalCloudOptions {
  /** State folder: credentials, state journals, S3 objects, CA, cloud.json. Created if missing. */
  dir: string;
  /** HTTP port (default 0: any free port). */
  port?: number;
  /** MQTT (TLS) port (default 0: any free port). */
  mqttPort?: number;
  /** Cloud time (default: the wall clock); tests pass ManualClock or acceleratedClock. */
  clock?: Clock;
  /** Default us-east-1. */
  region?: string;
  /** Request body limit in bytes (default 64 MiB). */
  maxBodyBytes?: number;
  /** Body limit of the JSON APIs, every service but S3 (default 1 MiB, never above maxBodyBytes). */
  maxApiBodyBytes?: number;
  /** Services to install (default: all of services.ts); tests of one service may pass fewer. */
  installers?: NamedInstaller[];
  /** Where unexpected server errors are reported (default: stderr). */
  log?: (line: string) => void;
  /** Called once per answered HTTP request (service, method, path, status, error code, ms). */
  onRequest?: (entry: RequestLogEntry) => void;
}

/** Where the cloud listens. */
export interface CloudEndpoints {
  http: string;
  mqttHost: string;
  mqttPort: number;
}

/** A running local cloud. */
export interface LocalCloud {
  dir: string;
  endpoints: CloudEndpoints;
  region: string;
  accountId: string;
  credentials: CloudCredentials;
  /** PEM of the local CA that signed the broker's certificate (once the IoT registry is installed). */
  caCertPath?: string;
  /** The context services were installed into (tests reach the store, clock, bus... through it). */
  context: CloudContext;
  /** Stop every service (reverse order), the HTTP server and the store. Safe to call twice. */
  stop(): Promise<void>;
}

/** What <dir>/cloud.json holds. */
export interface CloudJson {
  region: string;
  accountId: string;
  endpoints: CloudEndpoints;
  accessKeyId: string;
  secretAccessKey: string;
  caCertPath?: string;
}

/** Write a file atomically (temp + rename) with the given mode. */
function writeFileAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** State folders held by a cloud of this process. */
const lockedDirs = new Set<string>();

/** True when a process with that id exists. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Hold <dir>/cloud.lock so two clouds never write the same journals; a lock left by a dead process is
 * taken over. Returns the release function.
 */
function lockStateDir(dir: string): () => void {
  const path = join(dir, 'cloud.lock');
  const inUse = (pid: number) => new Error(`state folder ${dir} is in use by another local cloud (pid ${pid}); stop it or use another --dir`);
  if (lockedDirs.has(dir)) throw inUse(process.pid);
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) throw inUse(pid);
    writeFileSync(path, String(process.pid));
  }
  lockedDirs.add(dir);
  return () => {
    lockedDirs.delete(dir);
    rmSync(path, { force: true });
  };
}

/** Start the local cloud; resolves once every service is installed and requests are served. */
export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const region = options.region ?? 'us-east-1';
  const clock = options.clock ?? realClock;
  const unlock = lockStateDir(dir);
  let credentials: CloudCredentials;
  let store: ReturnType<typeof openStateStore>;
  try {
    credentials = loadOrCreateCredentials(dir);
    store = openStateStore(dir);
  } catch (err) {
    unlock();
    throw err;
  }
  const router = new Router();
  let markReady!: () => void;
  let markFailed!: (err: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    markReady = res;
    markFailed = rej;
  });
  ready.catch(() => undefined);
  const log = options.log ?? ((line: string) => process.stderr.write(`[local cloud] ${line}\n`));
  const http = new CloudHttpServer({ router, credentials, clock, store, maxBodyBytes: options.maxBodyBytes, maxApiBodyBytes: options.maxApiBodyBytes, ready, log, onRequest: options.onRequest });
  const ctx: CloudContext = { dir, region, accountId: LOCAL_ACCOUNT_ID, clock, routes: router, store };
  const handles: { name: string; handle: ServiceHandle }[] = [];

  const stopAll = async (): Promise<void> => {
    await http.close();
    for (const { name, handle } of handles.reverse()) {
      try {
        await handle.stop();
      } catch (err) {
        log(`stopping ${name} failed: ${(err as Error).message}`);
      }
    }
    handles.length = 0;
    await store.close();
    unlock();
  };

  try {
    const url = await http.listen(options.port ?? 0, '127.0.0.1');
    ctx.endpoints = { http: url, mqttHost: '127.0.0.1', mqttPort: options.mqttPort ?? 0 };
    for (const installer of options.installers ?? defaultInstallers) {
      try {
        handles.push({ name: installer.name, handle: await installer.install(ctx) });
      } catch (err) {
        throw new Error(`local cloud: installing ${installer.name} failed: ${(err as Error).message}`, { cause: err });
      }
    }
    await store.flush();
  } catch (err) {
    markFailed(err as Error);
    await stopAll();
    throw err;
  }
  markReady();

  const endpoints = ctx.endpoints as CloudEndpoints;
  let caCertPath: string | undefined;
  if (ctx.tls) {
    caCertPath = join(dir, 'ca-cert.pem');
    writeFileAtomic(caCertPath, ctx.tls.caCertPem, 0o644);
  }
  const cloudJson: CloudJson = {
    region,
    accountId: LOCAL_ACCOUNT_ID,
    endpoints: { ...endpoints },
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    caCertPath,
  };
  writeFileAtomic(cloudJsonPath(dir), JSON.stringify(cloudJson, null, 2) + '\n', 0o600);

  let stopping: Promise<void> | undefined;
  return {
    dir,
    endpoints,
    region,
    accountId: LOCAL_ACCOUNT_ID,
    credentials,
    caCertPath,
    context: ctx,
    stop: () => (stopping ??= stopAll()),
  };
}

/** Path of cloud.json in a state folder. */
export function cloudJsonPath(dir: string): string {
  return join(dir, 'cloud.json');
}

/** Read <dir>/cloud.json written by a running (or previous) cloud; throws a clear error when absent. */
export function readCloudJson(dir: string): CloudJson {
  const path = cloudJsonPath(dir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${path} not found: start the local cloud first (npm run cloud -- --dir ${dir})`);
  }
  try {
    return JSON.parse(text) as CloudJson;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

/** Config for any @aws-sdk client pointed at a local cloud (or its cloud.json): region, endpoint, keys, path-style S3. */
export function cloudClientConfig(cloud: Pick<LocalCloud, 'region' | 'endpoints' | 'credentials'> | CloudJson): Required<AwsClientConfig> {
  const credentials = 'credentials' in cloud ? cloud.credentials : { accessKeyId: cloud.accessKeyId, secretAccessKey: cloud.secretAccessKey };
  return {
    region: cloud.region,
    endpoint: cloud.endpoints.http,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    forcePathStyle: true,
  };
}

/**
 * Client config for the configured mode: in aws mode the default credential chain (and region when set);
 * in local mode the given cloud, or else the cloud.json of a cloud running on settings.stateDir.
 */
export function resolveClientConfig(settings: CloudSettings, cloud?: Pick<LocalCloud, 'region' | 'endpoints' | 'credentials'>): AwsClientConfig {
  if (settings.mode === 'aws') return awsClientConfig(settings);
  return cloudClientConfig(cloud ?? readCloudJson(settings.stateDir));
}
