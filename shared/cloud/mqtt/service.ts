/**
 * Installs the MQTT broker into the local cloud: TLS from the registry's CA (ctx.tls), certificates and
 * policies from the registry (ctx.directory); sets ctx.bus and the MQTT port in ctx.endpoints.
 */
import type { CloudContext, ServiceHandle } from '../contracts';
import { PolicyAuthorizer } from './authorizer';
import { startMqttBroker, type RetainedMessage, type RetainedMessageStore, type SubscribeDeniedBehaviour } from './broker';
import type { Collection } from '../contracts';

/** State-store collection of retained messages, keyed by topic. */
export const RETAINED_COLLECTION = 'mqtt-retained';

/** Retained messages kept in a state-store collection, flushed after each change (the PUBACK waits for it). */
function retainedIn(collection: Collection<RetainedMessage>, flush: () => Promise<void>): RetainedMessageStore {
  return {
    load: () => collection.values(),
    save: (topic, message) => {
      if (message) collection.put(topic, message);
      else collection.delete(topic);
      // A failed flush rejects this publish; the change stays pending and is retried by the next flush.
      return flush();
    },
  };
}

/** Environment switch for the local cloud's answer to a denied SUBSCRIBE ('disconnect', as AWS; or 'suback-failure'). */
export const SUBSCRIBE_DENIED_ENV = 'CLOUD_MQTT_SUBSCRIBE_DENIED';
/** Set to 1 to print refused connections and denied actions on stderr (to debug device policies). */
export const MQTT_LOG_ENV = 'CLOUD_MQTT_LOG';

/** Start the broker on ctx.endpoints.mqttHost/mqttPort (0 = any free port) and publish ctx.bus. */
export async function installMqttBroker(ctx: CloudContext): Promise<ServiceHandle> {
  if (!ctx.tls || !ctx.directory) {
    throw new Error('the MQTT broker needs the IoT registry installed before it (ctx.tls and ctx.directory are unset)');
  }
  const denied = process.env[SUBSCRIBE_DENIED_ENV];
  if (denied !== undefined && denied !== 'disconnect' && denied !== 'suback-failure') {
    throw new Error(`${SUBSCRIBE_DENIED_ENV} must be "disconnect" or "suback-failure", got "${denied}"`);
  }
  const broker = await startMqttBroker({
    tls: ctx.tls,
    authorizer: new PolicyAuthorizer(ctx.directory, { region: ctx.region, accountId: ctx.accountId }),
    host: ctx.endpoints?.mqttHost ?? '127.0.0.1',
    port: ctx.endpoints?.mqttPort ?? 0,
    onSubscribeDenied: denied as SubscribeDeniedBehaviour | undefined,
    now: () => ctx.clock.now(),
    log: process.env[MQTT_LOG_ENV] === '1' ? (line) => process.stderr.write(`[mqtt] ${line}\n`) : undefined,
    retained: retainedIn(ctx.store.collection<RetainedMessage>(RETAINED_COLLECTION), () => ctx.store.flush()),
  });
  ctx.bus = broker.bus;
  if (ctx.endpoints) ctx.endpoints.mqttPort = broker.port;
  else ctx.endpoints = { http: '', mqttHost: broker.host, mqttPort: broker.port };
  return { stop: () => broker.stop() };
}
