/**
 * Device Shadow service of the local cloud: classic and named shadows over MQTT
 * ($aws/things/<thing>/shadow[/name/<shadow>]/get|update|delete, answered on …/accepted|rejected, with
 * update/delta and update/documents) and over HTTP (iot-data GetThingShadow, UpdateThingShadow,
 * DeleteThingShadow, ListNamedShadowsForThing). Shadows persist in ctx.store; a request is answered
 * only once its change is durable.
 */
import type { CloudContext, Collection, MqttBus, RestRoute, ServiceHandle, SignedRequest, ServiceResponse, StateStore, Clock } from '../contracts';
import { AwsError } from '../http/errors';
import {
  clientTokenOf,
  deleteShadow,
  emptyShadow,
  getShadow,
  parseShadowRequest,
  rejectedDocument,
  shadowNameProblem,
  ShadowError,
  updateShadow,
  type JsonObject,
  type StoredShadow,
} from './document';

/** Name of the state-store collection holding shadows. */
export const SHADOW_COLLECTION = 'shadows';
/** SigV4 scope name of the IoT data plane (@aws-sdk/client-iot-data-plane). */
export const IOT_DATA_SERVICE = 'iotdata';

type Operation = 'get' | 'update' | 'delete';

/** A shadow request topic split into its parts, or undefined for any other topic. */
export function parseShadowTopic(topic: string): { thingName: string; shadowName: string; operation: Operation } | undefined {
  const p = topic.split('/');
  if (p[0] !== '$aws' || p[1] !== 'things' || p[3] !== 'shadow') return undefined;
  const named = p[4] === 'name';
  const rest = named ? p.slice(6) : p.slice(4);
  if (named && !p[5]) return undefined;
  if (rest.length !== 1 || !['get', 'update', 'delete'].includes(rest[0])) return undefined;
  return { thingName: p[2], shadowName: named ? p[5] : '', operation: rest[0] as Operation };
}

/** The topic prefix of a shadow: $aws/things/<thing>/shadow[/name/<shadow>]. */
export function shadowTopicPrefix(thingName: string, shadowName: string): string {
  return `$aws/things/${thingName}/shadow${shadowName ? `/name/${shadowName}` : ''}`;
}

function keyOf(thingName: string, shadowName: string): string {
  return `${thingName}/${shadowName}`;
}

/** The outcome of one shadow operation: topic suffix → document to publish, and the HTTP answer. */
interface Outcome {
  publications: { suffix: string; doc: JsonObject }[];
  /** The accepted document, or the error. */
  result: { ok: true; doc: JsonObject } | { ok: false; error: ShadowError; doc: JsonObject };
}

/** Shadow operations on the store, shared by the MQTT and HTTP fronts. */
export class ShadowService {
  private readonly shadows: Collection<StoredShadow>;
  // Requests run one at a time so that answers go out in the order the changes were made.
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: StateStore,
    private readonly bus: MqttBus,
    private readonly clock: Clock,
  ) {
    this.shadows = store.collection<StoredShadow>(SHADOW_COLLECTION);
  }

  /** Handle a device's publish on a shadow request topic (other topics are ignored). */
  handleMqtt(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseShadowTopic(topic);
    if (!parsed) return Promise.resolve();
    return this.enqueue(async () => {
      await this.run(parsed.thingName, parsed.shadowName, parsed.operation, payload);
    });
  }

  /** Run one operation, persist, publish its documents; resolves with the accepted or rejected document. */
  execute(thingName: string, shadowName: string, operation: Operation, payload: Buffer | string): Promise<Outcome['result']> {
    return this.enqueue(() => this.run(thingName, shadowName, operation, payload));
  }

  /** Names of the thing's named shadows that exist now. */
  namedShadows(thingName: string): string[] {
    return this.shadows
      .values()
      .filter((s) => s.thingName === thingName && s.shadowName !== '' && s.exists)
      .map((s) => s.shadowName)
      .sort();
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async run(thingName: string, shadowName: string, operation: Operation, payload: Buffer | string): Promise<Outcome['result']> {
    const outcome = this.apply(thingName, shadowName, operation, payload);
    if (outcome.result.ok) await this.store.flush();
    const prefix = shadowTopicPrefix(thingName, shadowName);
    for (const { suffix, doc } of outcome.publications) {
      await this.bus.publish(`${prefix}/${suffix}`, JSON.stringify(doc), { qos: 1 });
    }
    return outcome.result;
  }

  private apply(thingName: string, shadowName: string, operation: Operation, payload: Buffer | string): Outcome {
    const now = Math.floor(this.clock.now() / 1000);
    let clientToken: string | undefined;
    try {
      const request = parseShadowRequest(payload);
      // A valid token is echoed even when something else in the request is wrong.
      const token = request.clientToken;
      if (typeof token === 'string' && Buffer.byteLength(token) <= 64) clientToken = token;
      clientTokenOf(request);
      const nameProblem = shadowNameProblem(thingName, shadowName);
      if (nameProblem) throw new ShadowError(400, nameProblem);
      const key = keyOf(thingName, shadowName);
      const stored = this.shadows.get(key) ?? emptyShadow(thingName, shadowName);
      if (operation === 'get') {
        const doc = getShadow(stored, clientToken, now);
        return { publications: [{ suffix: 'get/accepted', doc }], result: { ok: true, doc } };
      }
      if (operation === 'delete') {
        const { shadow, accepted } = deleteShadow(stored, clientToken, now);
        this.shadows.put(key, shadow);
        return { publications: [{ suffix: 'delete/accepted', doc: accepted }], result: { ok: true, doc: accepted } };
      }
      const r = updateShadow(stored, request, clientToken, now);
      this.shadows.put(key, r.shadow);
      const publications = [{ suffix: 'update/accepted', doc: r.accepted }];
      if (r.delta) publications.push({ suffix: 'update/delta', doc: r.delta });
      publications.push({ suffix: 'update/documents', doc: r.documents });
      return { publications, result: { ok: true, doc: r.accepted } };
    } catch (err) {
      const error = err instanceof ShadowError ? err : new ShadowError(500, 'Internal service failure');
      const doc = rejectedDocument(error, clientToken, now);
      return { publications: [{ suffix: `${operation}/rejected`, doc }], result: { ok: false, error, doc } };
    }
  }
}

// HTTP error names of the iot-data API for each shadow error code.
const HTTP_ERRORS: Record<number, string> = {
  400: 'InvalidRequestException',
  401: 'UnauthorizedException',
  403: 'ForbiddenException',
  404: 'ResourceNotFoundException',
  409: 'ConflictException',
  413: 'RequestEntityTooLargeException',
  415: 'UnsupportedDocumentEncodingException',
  429: 'ThrottlingException',
  500: 'InternalFailureException',
};

function shadowRoutes(service: ShadowService, clock: Clock): RestRoute[] {
  const shadowName = (req: SignedRequest) => req.query.get('name') ?? '';
  const answer = async (req: SignedRequest, params: Record<string, string>, op: Operation): Promise<ServiceResponse> => {
    const result = await service.execute(params.thingName, shadowName(req), op, op === 'update' ? req.body : '');
    if (!result.ok) throw new AwsError(HTTP_ERRORS[result.error.code] ?? 'InvalidRequestException', result.error.message, result.error.code);
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result.doc) };
  };
  return [
    { method: 'GET', path: '/things/{thingName}/shadow', action: 'GetThingShadow', handler: (req, p) => answer(req, p, 'get') },
    { method: 'POST', path: '/things/{thingName}/shadow', action: 'UpdateThingShadow', handler: (req, p) => answer(req, p, 'update') },
    { method: 'DELETE', path: '/things/{thingName}/shadow', action: 'DeleteThingShadow', handler: (req, p) => answer(req, p, 'delete') },
    {
      method: 'GET',
      path: '/api/things/shadow/ListNamedShadowsForThing/{thingName}',
      action: 'ListNamedShadowsForThing',
      handler: async (_req, p) => ({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ results: service.namedShadows(p.thingName), timestamp: Math.floor(clock.now() / 1000) }),
      }),
    },
  ];
}

/** Install the shadow service: handlers on ctx.bus for every thing's shadow topics, and the iot-data routes. */
export async function installShadow(ctx: CloudContext): Promise<ServiceHandle> {
  if (!ctx.bus) throw new Error('the shadow service needs the MQTT broker installed before it (ctx.bus is unset)');
  const service = new ShadowService(ctx.store, ctx.bus, ctx.clock);
  ctx.bus.onPublish('$aws/things/+/shadow/#', (topic, payload) => {
    service.handleMqtt(topic, payload).catch(() => undefined);
  });
  ctx.routes.add(IOT_DATA_SERVICE, shadowRoutes(service, ctx.clock));
  return { stop: async () => undefined };
}
