/**
 * One lifecycle step as a child process: `sh -c <script>` in its own process group, output appended to
 * the component's log, ended by its timeout or a cancel with SIGTERM to the whole group and, if it does
 * not exit within the grace period, SIGKILL. Nothing waits forever: every outcome carries its reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

/** How a step ended. */
export interface StepOutcome {
  ok: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the step did not end by itself: 'timeout' or 'canceled'. */
  endedBy?: 'timeout' | 'canceled';
  /** One line saying what happened, for logs and deployment reports. */
  reason: string;
  /** True when SIGTERM was ignored and SIGKILL was needed. */
  killed: boolean;
}

/** What a step needs to run. */
export interface StepSpec {
  /** e.g. `com.example.App install`, for messages. */
  label: string;
  script: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** undefined = no timeout (a Run step). */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL. */
  graceMs: number;
  logPath: string;
  signal?: AbortSignal;
}

/** A started step: its outcome, and stop() to end it early (SIGTERM, then SIGKILL after the grace). */
export interface RunningStep {
  pid: number | undefined;
  done: Promise<StepOutcome>;
  stop(reason: 'timeout' | 'canceled'): Promise<StepOutcome>;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Start a step; the returned promise never rejects and always settles (timeout, cancel or exit). */
export function startStep(spec: StepSpec): RunningStep {
  const log: WriteStream = createWriteStream(spec.logPath, { flags: 'a' });
  log.write(`[${new Date().toISOString()}] ${spec.label}: start\n`);
  const child = spawn('sh', ['-c', spec.script], { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let endedBy: StepOutcome['endedBy'];
  let killed = false;
  let killTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;

  const done = new Promise<StepOutcome>((resolve) => {
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      clearTimeout(killTimer);
      clearTimeout(timeoutTimer);
      spec.signal?.removeEventListener('abort', onAbort);
      const seconds = spec.timeoutMs === undefined ? '' : ` (timeout ${spec.timeoutMs / 1000} s)`;
      let reason: string;
      if (spawnError) reason = `${spec.label} could not start: ${spawnError.message}`;
      else if (endedBy === 'timeout') reason = `${spec.label} timed out${seconds}${killed ? '; it ignored SIGTERM and was killed' : ''}`;
      else if (endedBy === 'canceled') reason = `${spec.label} was stopped${killed ? '; it ignored SIGTERM and was killed' : ''}`;
      else if (exitCode === 0) reason = `${spec.label} exited 0`;
      else reason = `${spec.label} failed with ${exitCode !== null ? `exit code ${exitCode}` : `signal ${signal}`}`;
      log.end(`[${new Date().toISOString()}] ${reason}\n`);
      resolve({ ok: !spawnError && endedBy === undefined && exitCode === 0, exitCode, signal, endedBy, reason, killed });
    };
    child.once('error', (err) => finish(null, null, err));
    // 'exit', not 'close': a Startup step may leave a daemon holding the pipes open.
    child.once('exit', (code, signal) => {
      child.stdout?.unpipe(log);
      child.stderr?.unpipe(log);
      finish(code, signal);
    });
  });

  const stop = (why: 'timeout' | 'canceled'): Promise<StepOutcome> => {
    if (endedBy === undefined && child.exitCode === null && child.signalCode === null) {
      endedBy = why;
      killGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => {
        killed = true;
        killGroup(child, 'SIGKILL');
      }, spec.graceMs);
    }
    return done;
  };
  const onAbort = (): void => void stop('canceled');
  if (spec.signal?.aborted) void stop('canceled');
  else spec.signal?.addEventListener('abort', onAbort, { once: true });
  if (spec.timeoutMs !== undefined) timeoutTimer = setTimeout(() => void stop('timeout'), spec.timeoutMs);
  return { pid: child.pid, done, stop };
}
