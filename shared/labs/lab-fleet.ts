/**
 * Lab 03's turbines: one edge agent per provisioned device, started from its bundle, each fed by its own
 * simulated turbine faster than real time, as sensors feed a device.
 */
import { join } from 'node:path';
import { packageVerifier, startEdgeAgent, type EdgeAgent } from '../edge/index';
import { TurbineSimulator } from '../turbine/index';
import type { RawFrame } from '../turbine/schema';

/** Options of startLabFleet. */
export interface LabFleetOptions {
  devices: ReadonlyArray<{ thingName: string; bundleDir: string }>;
  /** Each agent keeps its state in <stateRoot>/<thing name>. */
  stateRoot: string;
  /** The project's public key: agents load only packages it signed. */
  publicKeyPem: string;
  modelName: string;
  seed: number;
  /** Frames each turbine sends every 50 ms (default 10: ten times real time). */
  framesPerTick?: number;
  /** Frames each agent holds before startLabFleet returns, so a model deployed next has history to warm up on (default 600, 30 s). */
  warmupFrames?: number;
  /** Applied to every frame before its agent sees it: a field change such as a recalibrated sensor (default none). */
  transform?: (frame: RawFrame) => RawFrame;
}

/** Running agents and the feed of their turbines. */
export interface LabFleet {
  agents: EdgeAgent[];
  /** Stops the feed, then every agent. */
  stop(): Promise<void>;
}

/** Starts the agents, waits until each is connected and has taken in its warm-up frames, then keeps feeding them. */
export async function startLabFleet(options: LabFleetOptions): Promise<LabFleet> {
  const agents: EdgeAgent[] = [];
  const stopAll = async () => void (await Promise.all(agents.map((a) => a.stop())));
  try {
    for (const d of options.devices) {
      agents.push(
        await startEdgeAgent({
          config: d.bundleDir,
          stateDir: join(options.stateRoot, d.thingName),
          verifier: packageVerifier(options.publicKeyPem),
          modelName: options.modelName,
          heartbeatSeconds: 2,
          capture: { sampleRate: 0.5, batchSize: 10, maxAgeSeconds: 2 },
          log: () => undefined,
        }),
      );
    }
    await Promise.all(agents.map((a) => a.connected()));
  } catch (err) {
    await stopAll();
    throw err;
  }
  const simulators = agents.map((_, i) => new TurbineSimulator({ turbineId: i, seed: options.seed + i }));
  const transform = options.transform ?? ((f: RawFrame) => f);
  const feed = (count: number) => agents.forEach((a, i) => { for (let k = 0; k < count; k++) a.push(transform(simulators[i].next())); });
  // Warm-up frames go in at once and are awaited through the runtime's queue, not guessed with a sleep.
  feed(options.warmupFrames ?? 600);
  await Promise.all(agents.map((a) => a.runtime.idle()));
  const framesPerTick = options.framesPerTick ?? 10;
  const timer = setInterval(() => feed(framesPerTick), 50);
  return {
    agents,
    stop: async () => {
      clearInterval(timer);
      await stopAll();
    },
  };
}
