/** Waiting for an IoT Job to reach every agent of a lab, by the agents' own job events (no polling). */
import type { EdgeAgent } from '../edge/index';

/** How one agent ended a job. */
export interface AgentJobResult {
  thingName: string;
  status: string;
  statusDetails: Record<string, string>;
}

/** Options of watchDeployment. */
export interface WatchDeploymentOptions {
  /** Reject if some agent has not ended the job by then (default 120 s after the call). */
  timeoutMs?: number;
  /** Called as each agent ends the job. */
  onResult?(result: AgentJobResult): void;
}

type JobEvent = { jobId: string; status: string; statusDetails: Record<string, string> };
const UNFINISHED = new Set(['QUEUED', 'IN_PROGRESS']);

/**
 * Starts listening for the end of jobId on every agent and resolves with one result per agent (in the
 * agents' order) once all have ended it. Call it before creating the job so no event is missed; the
 * promise may be awaited later (in another notebook cell).
 */
export function watchDeployment(agents: readonly EdgeAgent[], jobId: string, options: WatchDeploymentOptions = {}): Promise<AgentJobResult[]> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const results = new Map<EdgeAgent, AgentJobResult>();
  const listeners = new Map<EdgeAgent, (e: JobEvent) => void>();
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<AgentJobResult[]>((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      for (const [agent, listener] of listeners) agent.off('job', listener);
    };
    for (const agent of agents) {
      const listener = (e: JobEvent) => {
        if (e.jobId !== jobId || UNFINISHED.has(e.status) || results.has(agent)) return;
        const result = { thingName: agent.thingName, status: e.status, statusDetails: e.statusDetails };
        results.set(agent, result);
        options.onResult?.(result);
        if (results.size === agents.length) {
          finish();
          resolve(agents.map((a) => results.get(a)!));
        }
      };
      listeners.set(agent, listener);
      agent.on('job', listener);
    }
    if (agents.length === 0) return resolve([]);
    timer = setTimeout(() => {
      finish();
      const waiting = agents.filter((a) => !results.has(a)).map((a) => a.thingName);
      reject(new Error(`job ${jobId}: ${waiting.length} of ${agents.length} agents had not ended it after ${Math.round(timeoutMs / 1000)} s (${waiting.join(', ')})`));
    }, timeoutMs);
  });
  done.catch(() => undefined); // the caller awaits it later; a timeout before then must not crash the kernel
  return done;
}
