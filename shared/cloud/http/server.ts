/**
 * The local cloud's single HTTP endpoint: authenticates each request from its headers (request-auth.ts)
 * before reading its body, reads the body within the service's limit checking it against what the
 * signature covers, routes it to the service named in the credential scope, waits until the state store
 * made the change durable, and answers. Every refusal, and every unexpected error (also logged), is
 * answered in the AWS error shape of that service.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { AwsErrorShape, Clock, ServiceResponse, SignedRequest, StateStore } from '../contracts';
import type { CloudCredentials } from '../credentials';
import { AwsChunkedDecoder } from './aws-chunked';
import { AwsError, isAwsErrorShape, renderAwsError } from './errors';
import { authenticateHeaders, verifyWithBodyHash, type PayloadPlan } from './request-auth';
import { readBody, type BodyRead } from './request-body';
import type { Router } from './router';
import { parseSigV4, safeDecode, scopeServiceOf, type RawRequest, type SigV4Claim } from './sigv4';

export { MAX_CLOCK_SKEW_MS } from './request-auth';
/** Default request body limit (S3 parts and objects are buffered; use multipart above this). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
/**
 * Default body limit of the JSON APIs (every service but S3). Their signature covers the body's own hash,
 * so it can only be checked once the body is read: this bounds what an unverified request can cost. The
 * largest bodies they take (job documents, certificates) are tens of KiB.
 */
export const DEFAULT_MAX_API_BODY_BYTES = 1024 * 1024;

export interface CloudHttpServerOptions {
  router: Router;
  credentials: CloudCredentials;
  /** Cloud time: decides when pre-signed URLs expire. */
  clock: Clock;
  /** Flushed before every response so an answered change is durable. */
  store?: StateStore;
  /** Request body limit in bytes (default 64 MiB); larger bodies get 400 EntityTooLarge / 413. */
  maxBodyBytes?: number;
  /** Body limit of the JSON APIs (default 1 MiB, never above maxBodyBytes); larger bodies get 413. */
  maxApiBodyBytes?: number;
  /** Requests wait for this before being served (services still installing). */
  ready?: Promise<void>;
  /** Called with one line per failed request with an unexpected error. */
  log?: (line: string) => void;
  /** Called once per answered request (for `npm run cloud -- --log-requests`). */
  onRequest?: (entry: RequestLogEntry) => void;
}

/** One answered request. */
export interface RequestLogEntry {
  service: string;
  method: string;
  path: string;
  status: number;
  /** AWS error code when the answer is an error. */
  errorCode?: string;
  ms: number;
}

/** Query string → URLSearchParams with values percent-decoded once ('+' stays '+', as AWS signs it). */
export function parseQuery(rawQuery: string): URLSearchParams {
  const params = new URLSearchParams();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    params.append(safeDecode(eq < 0 ? pair : pair.slice(0, eq)), eq < 0 ? '' : safeDecode(pair.slice(eq + 1)));
  }
  return params;
}

/** The HTTP front door of the local cloud. */
export class CloudHttpServer {
  readonly server: Server;
  private readonly maxBodyBytes: number;
  private readonly maxApiBodyBytes: number;

  constructor(private readonly options: CloudHttpServerOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.maxApiBodyBytes = Math.min(options.maxApiBodyBytes ?? DEFAULT_MAX_API_BODY_BYTES, this.maxBodyBytes);
    this.server = createServer((req, res) => this.serve(req, res, false));
    // Expect: 100-continue: the body is asked for only once the headers passed every check.
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.serve(req, res, true));
    this.server.keepAliveTimeout = 5000;
  }

  /** Listen on host:port (port 0 picks a free one); resolves with the base URL, e.g. http://127.0.0.1:4566. */
  listen(port = 0, host = '127.0.0.1'): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address() as AddressInfo;
        resolve(`http://${host}:${addr.port}`);
      });
    });
  }

  /** Stop accepting connections and close idle ones; resolves when the server is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      // Connections still busy after a grace period are cut so stop() never hangs on a slow client.
      setTimeout(() => this.server.closeAllConnections(), 2000).unref();
    });
  }

  private declaredLength(req: IncomingMessage): number {
    const decoded = Number(req.headers['x-amz-decoded-content-length']);
    if (Number.isFinite(decoded) && decoded > 0) return decoded;
    const length = Number(req.headers['content-length']);
    return Number.isFinite(length) ? length : 0;
  }

  /** Handle a request; a failure of the handling itself (not of the request) is logged and answered with a bare 500. */
  private serve(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    this.handle(req, res, expectsContinue).catch((err: unknown) => {
      this.options.log?.(`${req.method} ${req.url} could not be answered: ${(err as Error)?.stack ?? String(err)}`);
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'content-length': '0' }).end();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const query = parseQuery(rawQuery);
    const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined;
    const target = typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : undefined;
    const started = performance.now();
    let service = scopeServiceOf(authorization, query) ?? '';
    let response: ServiceResponse;
    try {
      if (this.options.ready) await this.options.ready;
      if (!service) service = this.options.router.guessService(method, rawPath, query, target);
      const s3 = service === 's3';
      const limit = s3 ? this.maxBodyBytes : this.maxApiBodyBytes;
      // Everything below up to readBody looks at the request line and headers only.
      if (this.declaredLength(req) > limit) throw this.tooLarge(s3, limit);
      const claim = parseSigV4(authorization, header(req, 'x-amz-date') ?? header(req, 'date'), query);
      if (!claim) {
        throw s3
          ? new AwsError('AccessDenied', 'Anonymous access is not allowed: sign the request with the local cloud credentials (SigV4).', 403)
          : new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token: sign the request with the local cloud credentials (SigV4).', 403);
      }
      const raw: RawRequest = { method, rawPath, rawQuery, rawHeaders: req.rawHeaders };
      const plan = authenticateHeaders(claim, raw, query, { credentials: this.options.credentials, clock: this.options.clock });
      if (expectsContinue) res.writeContinue();
      // aws-chunked framing adds chunk headers (and signatures) around the payload: allow for them here,
      // the decoded payload is held to the limit below.
      const chunked = plan.kind === 'chunked' ? new AwsChunkedDecoder(plan.signing) : undefined;
      const read = await readBody(req, chunked ? Math.ceil(limit * 1.01) + 8192 : limit, {
        sha256: plan.kind === 'sha256' || plan.kind === 'hash-body',
        onData: chunked && ((piece) => chunked.push(piece)),
      });
      if (!read.ok) throw this.tooLarge(s3, limit);
      const { body, trailers } = chunked ? this.endChunked(chunked, req) : this.checkBody(plan, claim, raw, read);
      if (body.length > limit) throw this.tooLarge(s3, limit);
      // aws-chunked trailers (e.g. x-amz-checksum-crc32) are headers that came after the body.
      const headers = { ...req.headers, ...trailers };
      if (typeof headers['content-encoding'] === 'string') {
        const rest = headers['content-encoding'].split(',').map((s) => s.trim()).filter((s) => s && s !== 'aws-chunked');
        if (rest.length) headers['content-encoding'] = rest.join(',');
        else delete headers['content-encoding'];
      }
      const routePath = claim.service === 's3' ? s3PathStyle(rawPath, header(req, 'host')) : rawPath;
      const signed: SignedRequest = {
        service: claim.service,
        region: claim.region,
        accessKeyId: claim.accessKeyId,
        method,
        path: safeDecode(routePath),
        query,
        headers,
        body,
      };
      response = await this.options.router.dispatch(signed, routePath);
    } catch (err) {
      // The client went away mid-request: nobody to answer, nothing to log. (req.destroyed alone says
      // nothing: Node destroys a request once its body has been read.)
      if ((res.destroyed || req.socket.destroyed) && !isAwsErrorShape(err)) return;
      // Refused before its body was read: discard what still comes (never kept) so the client reads the answer.
      if (!req.complete) req.resume();
      response = this.errorResponse(err, service || 's3', requestId, method, rawPath);
    }
    try {
      if (this.options.store) await this.options.store.flush();
    } catch (err) {
      this.options.log?.(`state flush failed: ${(err as Error).message}`);
      response = this.errorResponse(new Error('state store flush failed'), service || 's3', requestId, method, rawPath);
    }
    this.send(res, response, requestId, method);
    if (this.options.onRequest) {
      const errorCode = response.headers?.['x-amzn-errortype'] ?? (response.status >= 400 && typeof response.body === 'string' ? /<Code>([^<]+)<\/Code>/.exec(response.body)?.[1] : undefined);
      this.options.onRequest({ service: service || '?', method, path: rawPath, status: response.status, errorCode, ms: performance.now() - started });
    }
  }

  /** Check a read body against what the signature covers. */
  private checkBody(plan: PayloadPlan, claim: SigV4Claim, raw: RawRequest, read: BodyRead & { ok: true }): { body: Buffer; trailers: Record<string, string> } {
    if (plan.kind === 'hash-body') verifyWithBodyHash(claim, raw, read.sha256 as string, this.options.credentials);
    if (plan.kind === 'sha256' && read.sha256 !== plan.sha256) {
      throw new AwsError('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.', 400);
    }
    return { body: read.body, trailers: {} };
  }

  /** The payload of an aws-chunked body whose chunks were verified as they arrived. */
  private endChunked(decoder: AwsChunkedDecoder, req: IncomingMessage): { body: Buffer; trailers: Record<string, string> } {
    const decoded = decoder.end();
    const decodedLength = header(req, 'x-amz-decoded-content-length');
    if (decodedLength !== undefined && Number(decodedLength) !== decoded.payload.length) {
      throw new AwsError('IncompleteBody', `x-amz-decoded-content-length says ${decodedLength} bytes but the chunks hold ${decoded.payload.length}.`, 400);
    }
    return { body: decoded.payload, trailers: decoded.trailers };
  }

  private tooLarge(s3: boolean, limit: number): AwsError {
    return s3
      ? new AwsError('EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of ${limit} bytes for one request; use multipart upload.`, 400, {
          MaxSizeAllowed: limit,
        })
      : new AwsError('RequestEntityTooLargeException', `Request body exceeds the maximum allowed size of ${limit} bytes.`, 413);
  }

  private errorResponse(err: unknown, service: string, requestId: string, method: string, rawPath: string): ServiceResponse {
    const protocol = this.options.router.protocolOf(service);
    let shape: AwsErrorShape;
    if (isAwsErrorShape(err)) shape = err;
    else {
      this.options.log?.(`${method} ${rawPath} (${service}) failed: ${(err as Error)?.stack ?? String(err)}`);
      shape = new AwsError(service === 's3' ? 'InternalError' : 'InternalFailure', 'We encountered an internal error. Please try again.', 500);
    }
    return renderAwsError(shape, protocol, requestId, method);
  }

  private send(res: ServerResponse, response: ServiceResponse, requestId: string, method: string): void {
    const headers: Record<string, string> = { 'x-amzn-requestid': requestId, 'x-amz-request-id': requestId, ...(response.headers ?? {}) };
    const body = response.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
      if (!('content-length' in lowerKeys(headers))) headers['content-length'] = String(bytes?.length ?? 0);
      res.writeHead(response.status, headers);
      res.end(method === 'HEAD' ? undefined : bytes);
      return;
    }
    res.writeHead(response.status, headers);
    if (method === 'HEAD') {
      (body as Readable).destroy?.();
      res.end();
      return;
    }
    const stream = body as Readable;
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }
}

/**
 * Virtual-hosted-style S3 (`bucket.localhost:port/key`, what clients send without forcePathStyle)
 * → the path-style path `/bucket/key` the routes use.
 */
export function s3PathStyle(rawPath: string, host: string | undefined): string {
  const m = host ? /^([a-z0-9][a-z0-9.-]{1,61}?[a-z0-9])\.(?:s3\.)?localhost(?::\d+)?$/.exec(host) : null;
  return m ? `/${m[1]}${rawPath === '/' ? '' : rawPath}` : rawPath;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

