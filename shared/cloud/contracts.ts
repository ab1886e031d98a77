/**
 * The seams between the local cloud's parts, fixed first so that the HTTP side (router, SigV4, S3, IoT
 * registry, certificates) and the MQTT side (broker, policies, Jobs, Shadow) can be built side by side.
 * Implementations live in their own files; this file holds only types.
 */
import type { IncomingMessage } from 'node:http';
import type { JobsEngine } from './jobs/engine';

/** Time source for every timer in the cloud; tests pass a faster one, users get real time. */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
  /** Run fn after ms of this clock's time. */
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

/** A request that passed SigV4 verification, routed to the service named in its credential scope. */
export interface SignedRequest {
  /** Service from the credential scope: 's3', 'iot', 'iotjobsdata', 'sagemaker', 'greengrass', ... */
  service: string;
  region: string;
  accessKeyId: string;
  method: string;
  /** Path without the query string, percent-decoded once. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** What a service handler answers; the server writes it as is. */
export interface ServiceResponse {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string | NodeJS.ReadableStream;
}

/** One REST operation of a service, e.g. { method: 'POST', path: '/jobs/{jobId}', action: 'CreateJob' }. */
export interface RestRoute {
  method: string;
  /** Path template with {name} segments; {name+} matches the rest of the path. */
  path: string;
  /** AWS action name, used in errors and logs. */
  action: string;
  handler(req: SignedRequest, params: Record<string, string>): Promise<ServiceResponse>;
}

/** Registers REST routes per service; the router answers unknown routes with the AWS error shape. */
export interface RouteTable {
  add(service: string, routes: RestRoute[]): void;
}

/** An AWS error a handler throws; the router renders it in the service's protocol (JSON or XML). */
export interface AwsErrorShape {
  code: string; // e.g. 'ResourceNotFoundException'
  message: string;
  status: number; // e.g. 404
}

/** A device certificate as the broker needs it. */
export interface CertificateRecord {
  certificateId: string; // sha256 of the DER, hex, as AWS IoT uses
  certificateArn: string;
  certificatePem: string;
  status: 'ACTIVE' | 'INACTIVE' | 'REVOKED' | 'PENDING_TRANSFER' | 'REGISTER_INACTIVE' | 'PENDING_ACTIVATION';
}

/** What the MQTT side asks the registry about a connecting or acting client. */
export interface PrincipalDirectory {
  /** Certificate by id (sha256 hex of its DER), or undefined. */
  certificate(certificateId: string): CertificateRecord | undefined;
  /** Things attached to a certificate ARN. */
  thingsForPrincipal(principalArn: string): string[];
  /** Policy documents (JSON text) attached to a certificate ARN, directly or through thing groups. */
  policiesForPrincipal(principalArn: string): { name: string; document: string }[];
  /** Thing attributes and type, for ${iot:Connection.Thing.Attributes[...]} variables. */
  thing(name: string): { thingName: string; thingTypeName?: string; attributes: Record<string, string> } | undefined;
  /** Thing groups a thing belongs to, directly (used by Jobs targets). */
  thingsInGroup(groupName: string, recursive: boolean): string[];
}

/** A named set of JSON records, held in memory and persisted crash-safely by the StateStore. */
export interface Collection<T> {
  get(id: string): T | undefined;
  /** Insert or replace; durable once the store's next flush() resolves. */
  put(id: string, value: T): void;
  delete(id: string): boolean;
  values(): T[];
  keys(): string[];
  size(): number;
}

/** Persistent state of the local cloud under its state folder; survives a restart or a crash. */
export interface StateStore {
  collection<T>(name: string): Collection<T>;
  /** Make every mutation so far durable (the router awaits this before answering a request). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The cloud's MQTT data plane as other services see it (Jobs and Shadow use it; the broker implements it). */
export interface MqttBus {
  /** Publish as the cloud itself (no policy check), e.g. a Jobs notification or a Shadow response. */
  publish(topic: string, payload: Buffer | string, opts?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  /**
   * Receive every message that an authorised client publishes on topics matching filter (MQTT wildcards),
   * with the thing name of the publishing connection (undefined for the cloud itself).
   */
  onPublish(filter: string, handler: (topic: string, payload: Buffer, clientThingName: string | undefined) => void): void;
}

/** Pre-signs S3 URLs for job documents (${aws:iot:s3-presigned-url:...} placeholders). */
export interface Presigner {
  presignGet(bucket: string, key: string, expiresInSeconds: number): Promise<string>;
}

/** Everything a service installer gets from startLocalCloud. Fields fill in as services install, in order. */
export interface CloudContext {
  dir: string;
  region: string;
  accountId: string;
  clock: Clock;
  routes: RouteTable;
  store: StateStore;
  /** Set by the S3 service. */
  presigner?: Presigner;
  /** Set by the IoT registry service. */
  directory?: PrincipalDirectory;
  /** Set by the IoT registry service: PEMs of the local CA and of the broker's server certificate. */
  tls?: { caCertPem: string; serverCertPem: string; serverKeyPem: string };
  /** Set by the MQTT broker service. */
  bus?: MqttBus;
  /** Set by the IoT Jobs service (Greengrass deployments travel as jobs). */
  jobs?: JobsEngine;
  /** Filled in once the HTTP server listens, before any request is served. */
  endpoints?: { http: string; mqttHost: string; mqttPort: number };
}

/** What an installer returns: how to stop what it started. */
export interface ServiceHandle {
  stop(): Promise<void>;
}
