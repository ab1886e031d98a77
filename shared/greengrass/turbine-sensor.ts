/**
 * A turbine's sensors wired to its core device: a seeded TurbineSimulator whose frames are published on
 * the nucleus's local publish/subscribe (topic turbine/frames by default), 20 per simulated second on the
 * wall clock, one JSON frame per line, a tick's frames in one message. The Detector component subscribes
 * to that topic; frames published while no component listens (the Detector restarting) are counted as
 * undelivered, which is what a component update costs.
 */
import { FRAME_PERIOD_MS } from '../turbine/schema';
import { TurbineSimulator } from '../turbine/simulator';
import type { IpcServer } from './ipc';

/** The local topic the Detector recipe reads frames from by default. */
export const FRAMES_TOPIC = 'turbine/frames';

/** A running sensor. */
export interface TurbineSensor {
  readonly sim: TurbineSimulator;
  /** Frames produced, and those published while nothing subscribed. */
  readonly counters: { produced: number; undelivered: number };
  stop(): void;
}

/** Starts producing frames into the nucleus's local pub/sub; see the file comment. */
export function startTurbineSensor(
  ipc: IpcServer,
  opts: { turbineId: number; seed?: number; topic?: string; speed?: number; tickMs?: number; onFaultOnset?: (onset: { eventTime: string; wallMs: number }) => void },
): TurbineSensor {
  const sim = new TurbineSimulator({ turbineId: opts.turbineId, seed: opts.seed ?? 42 });
  const topic = opts.topic ?? FRAMES_TOPIC;
  const perMs = (opts.speed ?? 1) / FRAME_PERIOD_MS;
  const counters = { produced: 0, undelivered: 0 };
  const t0 = performance.now();
  let lastStart: number | null = null;
  const timer = setInterval(() => {
    // A late tick produces what it missed, at most 10 s of frames (a stalled machine skips ahead).
    const due = Math.floor((performance.now() - t0) * perMs);
    const n = Math.min(due - counters.produced, Math.ceil(10_000 * perMs));
    if (n <= 0) return;
    const lines: string[] = [];
    for (let k = 0; k < n; k++) {
      const frame = sim.next();
      // Ground truth: the first frame of each injected fault.
      const start = sim.fault?.startFrame ?? null;
      if (start !== null && start !== lastStart) opts.onFaultOnset?.({ eventTime: frame.eventTime, wallMs: Date.now() });
      lastStart = start;
      lines.push(JSON.stringify(frame));
    }
    counters.produced = due;
    if (ipc.publishLocal(topic, lines.join('\n'), 'turbine-sensor') === 0) counters.undelivered += n;
  }, opts.tickMs ?? 50);
  return { sim, counters, stop: () => clearInterval(timer) };
}
