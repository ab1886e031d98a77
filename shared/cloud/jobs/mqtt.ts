/**
 * The IoT Jobs MQTT API on the cloud's bus: requests on `$aws/things/<thing>/jobs/...` answered on
 * `.../accepted` or `.../rejected` with the client token echoed, and the `notify` / `notify-next` events
 * published whenever a thing's pending executions (or its next one) change.
 */
import type { Clock, MqttBus, StateStore } from '../contracts';
import type { JobsEngine } from './engine';
import { mqttCode } from './errors';
import type { JobsDeviceApi } from './device-api';
import { deviceSummary, mqttTime } from './shapes';

type Json = Record<string, unknown>;

/** AWS lists at most 15 pending executions in a notify message. */
const NOTIFY_LIMIT = 15;

/** How the MQTT side is wired. */
export interface JobsMqttOptions {
  engine: JobsEngine;
  api: JobsDeviceApi;
  bus: MqttBus;
  clock: Clock;
  store: StateStore;
  /** Called with errors that cannot be answered on a topic (publishing failed...). */
  onError?: (err: unknown) => void;
}

/** Wires the Jobs MQTT API to the bus; returns a handle that stops publishing notifications. */
export function attachJobsMqtt(opts: JobsMqttOptions): { stop(): void } {
  const { engine, api, bus, clock, store } = opts;
  const onError = opts.onError ?? (() => undefined);
  let stopped = false;
  const lastNext = new Map<string, string>();
  const dirty = new Map<string, boolean>();
  let scheduled = false;

  const now = (): number => mqttTime(clock.now()) as number;
  const publish = (topic: string, body: Json): Promise<void> => bus.publish(topic, JSON.stringify(body), { qos: 1 });

  // Notifications are gathered and sent once the store has made the change durable.
  engine.onThingChanged((thing, pendingChanged) => {
    if (stopped) return;
    dirty.set(thing, (dirty.get(thing) ?? false) || pendingChanged);
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (stopped) return;
      const batch = [...dirty];
      dirty.clear();
      store
        .flush()
        .then(() => Promise.all(batch.map(([t, p]) => notify(t, p))))
        .catch(onError);
    });
  });

  async function notify(thing: string, pendingChanged: boolean): Promise<void> {
    if (stopped) return;
    const base = `$aws/things/${thing}/jobs`;
    if (pendingChanged) {
      const { inProgress, queued } = engine.pending(thing);
      const listed = [...inProgress, ...queued].slice(0, NOTIFY_LIMIT);
      const jobs: Record<string, Json[]> = {};
      for (const e of listed) (jobs[e.status] ??= []).push(deviceSummary(e));
      await publish(`${base}/notify`, { timestamp: now(), jobs });
    }
    const next = engine.next(thing);
    const key = next ? `${next.jobId}#${next.executionNumber}` : '';
    if (lastNext.get(thing) === key) return;
    lastNext.set(thing, key);
    const body: Json = { timestamp: now() };
    if (next) body.execution = await api.execution(next, true, 'mqtt');
    await publish(`${base}/notify-next`, body);
  }

  bus.onPublish('$aws/things/+/jobs/#', (topic, payload, clientThingName) => {
    if (stopped || clientThingName === undefined) return; // the cloud's own answers
    handle(topic, payload, clientThingName).catch(onError);
  });

  async function handle(topic: string, payload: Buffer, clientThingName: string): Promise<void> {
    const parts = topic.split('/');
    const thing = parts[2];
    const rest = parts.slice(4);
    const last = rest[rest.length - 1];
    // Answers and events are the cloud's to publish; a device publishing there gets no answer.
    if (last === 'accepted' || last === 'rejected' || (rest.length === 1 && (last === 'notify' || last === 'notify-next'))) return;
    // Only a thing's own connection may use its jobs topics (the broker's policy check comes first).
    if (thing !== clientThingName) return;
    const reply = (suffix: 'accepted' | 'rejected', body: Json): Promise<void> => publish(`${topic}/${suffix}`, body);

    let req: Json = {};
    const text = payload.toString('utf8').trim();
    if (text !== '') {
      try {
        const parsed: unknown = JSON.parse(text);
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the payload must be a JSON object');
        req = parsed as Json;
      } catch (err) {
        return reply('rejected', { code: 'InvalidJson', message: `Invalid JSON: ${(err as Error).message}`, timestamp: now() });
      }
    }
    const token = typeof req.clientToken === 'string' ? req.clientToken : undefined;
    const withToken = (body: Json): Json => (token === undefined ? body : { ...body, clientToken: token });
    if (req.clientToken !== undefined && (token === undefined || token.length > 64)) {
      return reply('rejected', { code: 'InvalidRequest', message: 'clientToken must be a string of at most 64 characters', timestamp: now() });
    }
    try {
      let body: Json;
      if (rest.length === 1 && rest[0] === 'get') body = api.getPending(thing);
      else if (rest.length === 1 && rest[0] === 'start-next') body = await api.startNext(thing, req, 'mqtt');
      else if (rest.length === 2 && rest[1] === 'get') body = await api.describe(thing, rest[0], req, 'mqtt');
      else if (rest.length === 2 && rest[1] === 'update' && rest[0] !== '$next') body = await api.update(thing, rest[0], req, 'mqtt');
      else {
        return reply('rejected', withToken({ code: 'InvalidTopic', message: `Unknown jobs topic ${topic}: use get, start-next, <jobId>/get or <jobId>/update`, timestamp: now() }));
      }
      await store.flush();
      await reply('accepted', withToken({ ...body, timestamp: now() }));
    } catch (err) {
      const rejected: Json = { code: mqttCode(err), message: (err as Error).message, timestamp: now() };
      const exec = (err as { execution?: { status: string; statusDetails: Record<string, string>; versionNumber: number } }).execution;
      if (exec) rejected.executionState = { status: exec.status, statusDetails: exec.statusDetails, versionNumber: exec.versionNumber };
      await reply('rejected', withToken(rejected));
    }
  }

  return {
    stop() {
      stopped = true;
    },
  };
}
