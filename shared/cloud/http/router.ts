/**
 * The cloud's RouteTable: REST routes per service, matched by method, path template and query.
 *
 * Path templates follow the Smithy http trait: `/things/{thingName}`, `/{Bucket}/{Key+}` ({name+} takes
 * the rest of the path, at least one character), and an optional query part that must be present:
 * `/{Bucket}?uploads` (key present) or `/{Bucket}?list-type=2` (key with that value), joined with '&'.
 * When several routes match, the most specific wins: more query requirements, then more literal
 * segments, then non-greedy before greedy. Parameter values are percent-decoded.
 *
 * awsJson services (sagemaker) send `POST /` with `X-Amz-Target: <Prefix>.<Action>`: register their
 * operations as `{ method: 'POST', path: '/', action: '<Action>' }` and the router matches the target.
 */
import type { RestRoute, RouteTable, ServiceResponse, SignedRequest } from '../contracts';
import { AwsError, type AwsProtocol } from './errors';
import { safeDecode } from './sigv4';

interface Segment {
  literal?: string;
  param?: string;
  greedy?: boolean;
}

interface CompiledRoute {
  route: RestRoute;
  segments: Segment[];
  query: { key: string; value?: string }[];
  literalCount: number;
  greedy: boolean;
}

/** A route that matched a request, with its decoded path parameters. */
export interface RouteMatch {
  route: RestRoute;
  params: Record<string, string>;
}

/** Protocol of each known service; services not listed speak restJson1. */
const DEFAULT_PROTOCOLS: Record<string, AwsProtocol> = { s3: 'restXml', sagemaker: 'awsJson1.1' };

/** Split a template like `/{Bucket}/{Key+}?uploads` into matchable parts; throws on a malformed template. */
export function compileRoute(route: RestRoute): CompiledRoute {
  const [pathPart, queryPart = ''] = route.path.split('?', 2);
  if (!pathPart.startsWith('/')) throw new Error(`route ${route.action}: path "${route.path}" must start with "/"`);
  const segments: Segment[] = [];
  const raw = pathPart.split('/').slice(1);
  raw.forEach((s, i) => {
    if (s === '' && i === raw.length - 1) return; // "/" or a trailing slash
    const m = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(s);
    if (m) {
      if (m[2] && i !== raw.length - 1) throw new Error(`route ${route.action}: greedy {${m[1]}+} must be the last segment of "${route.path}"`);
      segments.push({ param: m[1], greedy: m[2] === '+' });
    } else if (s.includes('{') || s.includes('}')) {
      throw new Error(`route ${route.action}: segment "${s}" of "${route.path}" mixes text and a {parameter}`);
    } else {
      segments.push({ literal: s });
    }
  });
  const query = queryPart
    .split('&')
    .filter((q) => q !== '')
    .map((q) => {
      const eq = q.indexOf('=');
      return eq < 0 ? { key: q } : { key: q.slice(0, eq), value: q.slice(eq + 1) };
    });
  return {
    route,
    segments,
    query,
    literalCount: segments.filter((s) => s.literal !== undefined).length,
    greedy: segments.some((s) => s.greedy),
  };
}

/** Match a compiled route against a wire path (still percent-encoded) and query. */
function matchRoute(c: CompiledRoute, method: string, rawSegments: string[], query: URLSearchParams): Record<string, string> | undefined {
  if (c.route.method !== method) return undefined;
  for (const q of c.query) {
    if (!query.has(q.key)) return undefined;
    if (q.value !== undefined && query.get(q.key) !== q.value) return undefined;
  }
  const params: Record<string, string> = {};
  let i = 0;
  for (const seg of c.segments) {
    if (seg.greedy) {
      const rest = rawSegments.slice(i).join('/');
      if (rest === '') return undefined;
      params[seg.param as string] = safeDecode(rest);
      return params;
    }
    if (i >= rawSegments.length) return undefined;
    const value = rawSegments[i];
    if (seg.literal !== undefined) {
      if (safeDecode(value) !== seg.literal) return undefined;
    } else {
      if (value === '') return undefined;
      params[seg.param as string] = safeDecode(value);
    }
    i++;
  }
  return i === rawSegments.length ? params : undefined;
}

/** Order routes so the most specific is tried first. */
function bySpecificity(a: CompiledRoute, b: CompiledRoute): number {
  return b.query.length - a.query.length || b.literalCount - a.literalCount || Number(a.greedy) - Number(b.greedy) || b.segments.length - a.segments.length;
}

/** Wire path → segments; "/a/b/" keeps its trailing empty segment so S3 keys ending in "/" survive. */
export function pathSegments(rawPath: string): string[] {
  const trimmed = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (trimmed === '') return [];
  const segments = trimmed.split('/');
  // "/bucket/" means the bucket itself, not an object with an empty key.
  if (segments.length === 2 && segments[1] === '') segments.pop();
  return segments;
}

/** The RouteTable of the local cloud; the HTTP server asks it to dispatch each verified request. */
export class Router implements RouteTable {
  private readonly services = new Map<string, CompiledRoute[]>();
  private readonly protocols = new Map<string, AwsProtocol>(Object.entries(DEFAULT_PROTOCOLS));

  /** Register routes for a service (the SigV4 scope name, e.g. 's3', 'iot', 'iot-jobs-data'). */
  add(service: string, routes: RestRoute[]): void {
    const list = this.services.get(service) ?? [];
    for (const r of routes) list.push(compileRoute(r));
    list.sort(bySpecificity);
    this.services.set(service, list);
  }

  /** Declare a service's wire protocol (default: restXml for s3, awsJson1.1 for sagemaker, else restJson1). */
  setProtocol(service: string, protocol: AwsProtocol): void {
    this.protocols.set(service, protocol);
  }

  /** Wire protocol of a service, used to render its errors. */
  protocolOf(service: string): AwsProtocol {
    return this.protocols.get(service) ?? 'restJson1';
  }

  /** Services with at least one route. */
  serviceNames(): string[] {
    return [...this.services.keys()];
  }

  /** Find the route for a request; undefined when the service or the route is unknown. */
  match(service: string, method: string, rawPath: string, query: URLSearchParams, target?: string): RouteMatch | undefined {
    const routes = this.services.get(service);
    if (!routes) return undefined;
    if (target !== undefined && target !== '') {
      const action = target.slice(target.lastIndexOf('.') + 1);
      const found = routes.find((c) => c.route.action === action && c.route.method === method && c.route.path === '/');
      return found ? { route: found.route, params: {} } : undefined;
    }
    const segments = pathSegments(rawPath);
    for (const c of routes) {
      const params = matchRoute(c, method, segments, query);
      if (params) return { route: c.route, params };
    }
    return undefined;
  }

  /**
   * Guess which service an unsigned request was meant for, to answer in its protocol: a non-S3 service
   * whose routes match the path, else s3 (whose `/{Bucket}/{Key+}` matches nearly anything).
   */
  guessService(method: string, rawPath: string, query: URLSearchParams, target?: string): string {
    if (target) return [...this.protocols].find(([, p]) => p.startsWith('awsJson'))?.[0] ?? 'sagemaker';
    for (const service of this.services.keys()) {
      if (service !== 's3' && this.match(service, method, rawPath, query)) return service;
    }
    return 's3';
  }

  /** Run the handler of the matching route; unknown service or route → AWS-shaped error. */
  async dispatch(req: SignedRequest, rawPath: string): Promise<ServiceResponse> {
    const target = typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : undefined;
    const found = this.match(req.service, req.method, rawPath, req.query, target);
    if (!found) throw unknownRoute(req.service, this.services.has(req.service), req.method, req.path, target, this.protocolOf(req.service));
    return found.route.handler(req, found.params);
  }
}

/** The error for a request no route handles, in the style of the service asked. */
export function unknownRoute(service: string, known: boolean, method: string, path: string, target: string | undefined, protocol: AwsProtocol): AwsError {
  if (!known) return new AwsError(protocol === 'restXml' ? 'InvalidRequest' : 'UnknownOperationException', `The local cloud does not serve the service "${service}".`, 400);
  if (protocol === 'restXml') return new AwsError('MethodNotAllowed', `The specified method is not allowed against this resource: ${method} ${path}`, 405);
  if (target !== undefined) return new AwsError('UnknownOperationException', `Unknown operation ${target}`, 400);
  return new AwsError('UnknownOperationException', `No operation of ${service} matches ${method} ${path}`, 404);
}
