/**
 * The local cloud in a child process (`npm run cloud` on free ports): a farm or a bench that runs beside
 * it then does not share its event loop with the broker, the HTTP APIs and the stores, as a real
 * deployment would not. Resolves once the child printed its endpoints; `cpuSeconds()` and `rssBytes()`
 * read the child's usage from /proc (Linux; NaN elsewhere) so a bench can count it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type CloudJson, readCloudJson } from './local-cloud';

/** A local cloud running in a child process. */
export interface CloudProcess {
  readonly dir: string;
  readonly pid: number;
  /** The child's cloud.json, read once it was up. */
  readonly json: CloudJson;
  /** CPU seconds (user + system) the child used so far; NaN where /proc is missing. */
  cpuSeconds(): number;
  /** The child's resident memory in bytes; NaN where /proc is missing. */
  rssBytes(): number;
  /** SIGTERM, then SIGKILL after 20 s; resolves when the child exited. */
  stop(): Promise<void>;
}

/** Options of startCloudProcess. */
export interface CloudProcessOptions {
  /** The cloud's state folder (reused: registry, certificates, objects). */
  dir: string;
  /** Receives each line the child prints. */
  log?: (line: string) => void;
  /** How long the child may take to come up (default 120 s). */
  startTimeoutMs?: number;
  /** Extra node flags for the child (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux architecture node runs on). */
const USER_HZ = 100;
const CLI = join(__dirname, '..', 'cli', 'cloud.ts');

/** Starts `npm run cloud -- --dir <dir> --port 0 --mqtt-port 0` as a child process; see the file comment. */
export async function startCloudProcess(options: CloudProcessOptions): Promise<CloudProcess> {
  const dir = resolve(options.dir);
  const log = options.log ?? (() => undefined);
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', CLI, '--dir', dir, '--port', '0', '--mqtt-port', '0'], {
    env: { ...process.env, CLOUD_MODE: 'local' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A parent that exits without stop() (an uncaught error) does not leave the cloud running.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      process.off('exit', killOnExit);
      r();
    }),
  );
  let output = '';
  const lines = (chunk: Buffer): void => {
    const text = chunk.toString();
    output = (output + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) log(`cloud: ${line}`);
  };
  child.stdout?.on('data', lines);
  child.stderr?.on('data', lines);
  try {
    await waitUntilUp(child, () => output, options.startTimeoutMs ?? 120_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const pid = child.pid as number;
  return {
    dir,
    pid,
    json: readCloudJson(dir),
    cpuSeconds: () => {
      const fields = procStatFields(pid);
      return fields ? (Number(fields[11]) + Number(fields[12])) / USER_HZ : Number.NaN;
    },
    rssBytes: () => {
      const status = readProc(pid, 'status');
      const kb = status?.match(/^VmRSS:\s+(\d+) kB/m)?.[1];
      return kb ? Number(kb) * 1024 : Number.NaN;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves when the child printed its endpoints; rejects when it exits or takes longer than timeoutMs. */
function waitUntilUp(child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  return new Promise((resolveUp, rejectUp) => {
    const timer = setTimeout(() => done(new Error(`the local cloud did not start in ${timeoutMs / 1000} s:\n${output()}`)), timeoutMs);
    const onData = (): void => {
      if (output().includes('Press Ctrl-C to stop.')) done();
    };
    const onExit = (code: number | null): void => done(new Error(`the local cloud exited with ${code} before it was up:\n${output()}`));
    const done = (err?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (err) rejectUp(err);
      else resolveUp();
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/stat fields after the command name (field 3, state, is index 0). */
function procStatFields(pid: number): string[] | undefined {
  const stat = readProc(pid, 'stat');
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
}
