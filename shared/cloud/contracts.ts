/**
 * The seams between the local cloud's parts, fixed first so that the HTTP side (router, SigV4, S3, IoT
 * registry, certificates) and the MQTT side (broker, policies, Jobs, Shadow) can be built side by side.
 * Implementations live in their own files; this file holds only types.
 */
import type { IncomingMessage } from 'node:http';

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
