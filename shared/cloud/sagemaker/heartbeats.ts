/**
 * Device heartbeats into the SageMaker device registry. Edge Manager's agent called SendHeartbeat; our
 * agent publishes its heartbeat on MQTT (`<prefix>/<thing>/heartbeat`, see shared/edge), so the cloud
 * reads it from the broker: every registered device whose IotThingName is the publishing thing gets
 * LatestHeartbeat (receive time), AgentVersion and its Models (LatestInference when the model's inference
 * count grew, LatestSampleTime when the capture count grew). DescribeDevice, ListDevices
 * (LatestHeartbeatAfter, ModelName) then answer as they would on AWS.
 *
 * The thing is the one the broker authenticated, never a name in the payload; malformed heartbeats are
 * ignored (counted in `ignored`), as an HTTP SendHeartbeat with bad input would change nothing.
 */
import type { Clock, Collection, MqttBus, StateStore } from '../contracts';
import { isObject } from './validate';
import type { DeviceModel, DeviceRecord } from './records';

/** Topic filter of agent heartbeats. */
export const HEARTBEAT_FILTER = '+/+/heartbeat';


interface ParsedHeartbeat {
  agentVersion: string;
  models: { name: string; version: string; inferences?: number }[];
  captured?: number;
}

/** The parts of a heartbeat the registry keeps, or undefined when the message is not one. */
export function parseHeartbeat(payload: Buffer): ParsedHeartbeat | undefined {
  let hb: unknown;
  try {
    hb = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(hb) || typeof hb.agentVersion !== 'string' || hb.agentVersion.length > 64 || !Array.isArray(hb.models)) return undefined;
  const models: ParsedHeartbeat['models'] = [];
  for (const m of hb.models) {
    if (!isObject(m) || typeof m.name !== 'string' || typeof m.version !== 'string') return undefined;
    models.push({ name: m.name, version: m.version, inferences: typeof m.inferences === 'number' ? m.inferences : undefined });
  }
  const capture = isObject(hb.capture) && typeof hb.capture.captured === 'number' ? hb.capture.captured : undefined;
  return { agentVersion: hb.agentVersion, models, captured: capture };
}

/** Listens to heartbeats on the bus and records them on the devices; returns counters. */
export function attachHeartbeats(opts: { bus: MqttBus; clock: Clock; store: StateStore; devices: Collection<DeviceRecord>; log: (line: string) => void }): { recorded: number; ignored: number; stop(): void } {
  const counters = { recorded: 0, ignored: 0 };
  let stopped = false;
  opts.bus.onPublish(HEARTBEAT_FILTER, (topic, payload, thingName) => {
    if (stopped || thingName === undefined || topic.split('/')[1] !== thingName) return;
    const devices = opts.devices.values().filter((d) => d.IotThingName === thingName);
    if (devices.length === 0) return;
    const hb = parseHeartbeat(payload);
    if (!hb) {
      counters.ignored++;
      return;
    }
    const now = opts.clock.now();
    for (const d of devices) {
      const before = new Map((d.Models as DeviceModel[]).map((m) => [`${m.ModelName}\u0000${m.ModelVersion}`, m]));
      const sampled = hb.captured !== undefined && hb.captured > (d.captured ?? 0);
      const models: DeviceModel[] = hb.models.map((m) => {
        const prev = before.get(`${m.name}\u0000${m.version}`);
        const inferred = m.inferences !== undefined && m.inferences > (prev?.inferences ?? 0);
        return {
          ModelName: m.name,
          ModelVersion: m.version,
          inferences: m.inferences,
          latestInference: inferred ? now : prev?.latestInference,
          latestSampleTime: sampled ? now : prev?.latestSampleTime,
        };
      });
      opts.devices.put(d.DeviceName, { ...d, latestHeartbeat: now, AgentVersion: hb.agentVersion, Models: models, captured: hb.captured });
    }
    counters.recorded++;
    opts.store.flush().catch((err) => opts.log(`sagemaker: saving a heartbeat of ${thingName} failed: ${(err as Error).message}`));
  });
  return Object.assign(counters, {
    stop() {
      stopped = true;
    },
  });
}
