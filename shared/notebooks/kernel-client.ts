/**
 * A client for one tslab kernel process: starts it with a fresh connection file, speaks the Jupyter
 * messaging protocol over ZeroMQ (shell and control DEALER, iopub SUB, stdin DEALER, heartbeat REQ), executes code and
 * collects its outputs, and shuts the kernel down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dealer, Request, Subscriber } from 'zeromq';
import { createConnectionInfo, endpoint, RUNNER_PID_VARIABLE, type ConnectionInfo } from './connection';
import { createMessage, decodeMessage, encodeMessage, type JupyterMessage } from './wire';

/** One nbformat 4 output of a code cell. */
export type CellOutput =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { output_type: 'display_data'; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | { output_type: 'execute_result'; data: Record<string, unknown>; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

export interface ExecutionResult {
  status: 'ok' | 'error' | 'abort';
  executionCount: number | null;
  outputs: CellOutput[];
  /** Set when status is 'error': what went wrong, from the error message or tslab's report on stderr. */
  error?: { ename: string; evalue: string; traceback: string[] };
}

export interface KernelStartOptions {
  /** Working directory of the kernel: the notebook's folder, so relative paths and imports work. */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the kernel to answer kernel_info (default 60 s). */
  startTimeoutMs?: number;
  /** Aborting while the kernel starts stops it and rejects with an "interrupted" error. */
  signal?: AbortSignal;
}

/** Raised when a cell does not finish in time; the kernel is no longer usable afterwards. */
export class CellTimeoutError extends Error {}

/** Raised when the kernel process exits while it should be running. */
export class KernelDiedError extends Error {}

const KERNEL_ENTRY = join(__dirname, 'kernel.ts');

/** The node arguments that start the project kernel on a connection file. */
export function kernelCommand(connectionFile: string): string[] {
  return [process.execPath, '--require', require.resolve('tsx/cjs'), KERNEL_ENTRY, '--config-path', connectionFile];
}

interface Waiter {
  resolve: (msg: JupyterMessage) => void;
}

interface Collector {
  outputs: CellOutput[];
  stderrChunks: string[];
  idle: boolean;
  onIdle?: () => void;
}

/** A running tslab kernel and the sockets talking to it. */
export class TslabKernel {
  private readonly session = createMessage('', {}, '').header.msg_id;
  private readonly replies = new Map<string, Waiter>();
  private readonly collectors = new Map<string, Collector>();
  private readonly diedListeners = new Set<(err: KernelDiedError) => void>();
  private exited = false;
  private stopping = false;
  private logTail = '';

  private constructor(
    private readonly info: ConnectionInfo,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly shell: Dealer,
    private readonly control: Dealer,
    private readonly stdin: Dealer,
    private readonly iopub: Subscriber,
    private readonly hb: Request,
  ) {}

  /** Starts a kernel in options.cwd and waits until it answers on shell and publishes on iopub. */
  static async start(options: KernelStartOptions): Promise<TslabKernel> {
    const info = await createConnectionInfo();
    const dir = mkdtempSync(join(tmpdir(), 'notebook-kernel-'));
    const file = join(dir, 'connection.json');
    writeFileSync(file, JSON.stringify(info, null, 2), { mode: 0o600 });
    const [cmd, ...args] = kernelCommand(file);
    const child = spawn(cmd, args, { cwd: options.cwd, env: { ...(options.env ?? process.env), [RUNNER_PID_VARIABLE]: String(process.pid) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const socket = <T extends Dealer | Subscriber | Request>(s: T, port: number): T => {
      s.linger = 0;
      s.connect(endpoint(info, port));
      return s;
    };
    const iopub = socket(new Subscriber(), info.iopub_port);
    iopub.subscribe();
    const kernel = new TslabKernel(
      info,
      dir,
      child,
      socket(new Dealer(), info.shell_port),
      socket(new Dealer(), info.control_port),
      socket(new Dealer(), info.stdin_port),
      iopub,
      socket(new Request(), info.hb_port),
    );
    kernel.listen();
    try {
      await kernel.waitReady(options.startTimeoutMs ?? 60_000, options.signal);
      await kernel.heartbeat();
    } catch (err) {
      await kernel.shutdown();
      throw err;
    }
    return kernel;
  }

  /** Runs code in the kernel and resolves when it has replied and published all its outputs. */
  async execute(code: string, timeoutMs: number): Promise<ExecutionResult> {
    const request = createMessage(
      'execute_request',
      { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      this.session,
    );
    const collector: Collector = { outputs: [], stderrChunks: [], idle: false };
    this.collectors.set(request.header.msg_id, collector);
    const idle = new Promise<void>((resolve) => {
      collector.onIdle = resolve;
    });
    try {
      const reply = await this.withTimeout(
        Promise.all([this.request(this.shell, request), idle]).then(([r]) => r),
        timeoutMs,
        () => new CellTimeoutError(`did not finish within ${formatSeconds(timeoutMs)} (raise it with --timeout <seconds>)`),
      );
      const status = reply.content.status === 'ok' || reply.content.status === 'abort' ? reply.content.status : 'error';
      const count = typeof reply.content.execution_count === 'number' ? reply.content.execution_count : null;
      const result: ExecutionResult = { status, executionCount: count, outputs: collector.outputs };
      if (status === 'error') {
        result.error = errorFromReply(reply, collector);
        if (!collector.outputs.some((o) => o.output_type === 'error')) {
          // The error output replaces tslab's stderr report of it, as Jupyter shows errors.
          dropStderrTail(collector.outputs, errorReportText(collector.stderrChunks));
          collector.outputs.push({ output_type: 'error', ...result.error });
        }
      }
      return result;
    } finally {
      this.collectors.delete(request.header.msg_id);
    }
  }

  /** Asks the kernel to shut down, then makes sure the process is gone and the sockets closed. */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.exited) {
      const request = createMessage('shutdown_request', { restart: false }, this.session);
      await this.withTimeout(this.request(this.control, request), 2000, () => new Error('no shutdown_reply')).catch(() => undefined);
      await this.waitExit(2000);
      if (!this.exited) this.child.kill('SIGKILL');
      await this.waitExit(5000);
    }
    for (const s of [this.shell, this.control, this.stdin, this.iopub, this.hb]) s.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** One heartbeat round trip: the kernel echoes what it is sent on its hb port. */
  async heartbeat(timeoutMs = 5000): Promise<void> {
    const ping = Buffer.from(`ping-${Date.now()}`);
    await this.withTimeout(
      (async () => {
        await this.hb.send(ping);
        const [echo] = await this.hb.receive();
        if (!echo.equals(ping)) throw new Error('heartbeat answered with different bytes');
      })(),
      timeoutMs,
      () => new Error(`no heartbeat within ${formatSeconds(timeoutMs)}`),
    );
  }

  /** Recent output of the kernel process itself (not of cells), for error messages. */
  get processLog(): string {
    return this.logTail;
  }

  /** Calls listener if the kernel process exits before shutdown. */
  onDied(listener: (err: KernelDiedError) => void): void {
    this.diedListeners.add(listener);
  }

  private listen(): void {
    const keepTail = (chunk: Buffer) => {
      this.logTail = (this.logTail + chunk.toString('utf8')).slice(-4000);
    };
    this.child.stdout?.on('data', keepTail);
    this.child.stderr?.on('data', keepTail);
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      if (this.stopping) return;
      const err = new KernelDiedError(
        `kernel exited unexpectedly (${signal ?? `code ${code}`})${this.logTail ? `: ${this.logTail.trim().split('\n').slice(-5).join(' | ')}` : ''}`,
      );
      for (const l of this.diedListeners) l(err);
    });
    void this.receive(this.shell, (msg) => this.replies.get(msg.parent_header.msg_id ?? '')?.resolve(msg));
    void this.receive(this.control, (msg) => this.replies.get(msg.parent_header.msg_id ?? '')?.resolve(msg));
    void this.receive(this.iopub, (msg) => this.onIopub(msg));
  }

  private async receive(socket: Dealer | Subscriber, handle: (msg: JupyterMessage) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        let msg: JupyterMessage;
        try {
          msg = decodeMessage(this.info.key, frames);
        } catch {
          continue; // A message we cannot verify is not ours to act on.
        }
        handle(msg);
      }
    } catch {
      // The socket was closed during shutdown.
    }
  }

  private onIopub(msg: JupyterMessage): void {
    const collector = this.collectors.get(msg.parent_header.msg_id ?? '');
    if (!collector) return;
    const c = msg.content;
    switch (msg.header.msg_type) {
      case 'status':
        if (c.execution_state === 'idle') {
          collector.idle = true;
          collector.onIdle?.();
        }
        break;
      case 'stream': {
        const name = c.name === 'stderr' ? 'stderr' : 'stdout';
        const text = String(c.text ?? '');
        if (name === 'stderr') collector.stderrChunks.push(text);
        const last = collector.outputs[collector.outputs.length - 1];
        // Jupyter shows consecutive writes to one stream as one output.
        if (last?.output_type === 'stream' && last.name === name) last.text += text;
        else collector.outputs.push({ output_type: 'stream', name, text });
        break;
      }
      case 'display_data':
        collector.outputs.push({ output_type: 'display_data', data: asRecord(c.data), metadata: asRecord(c.metadata) });
        break;
      case 'execute_result':
        collector.outputs.push({
          output_type: 'execute_result',
          data: asRecord(c.data),
          metadata: asRecord(c.metadata),
          execution_count: typeof c.execution_count === 'number' ? c.execution_count : null,
        });
        break;
      case 'error':
        collector.outputs.push({
          output_type: 'error',
          ename: String(c.ename ?? 'Error'),
          evalue: String(c.evalue ?? ''),
          traceback: Array.isArray(c.traceback) ? c.traceback.map(String) : [],
        });
        break;
      case 'clear_output':
        collector.outputs.length = 0;
        break;
      default:
        break; // update_display_data, execute_input and comms do not change the saved outputs.
    }
  }

  private async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    // iopub is a PUB/SUB pair: messages published before our subscription reaches the kernel are lost.
    // Ask for kernel_info until a reply arrives AND its busy/idle status shows up on iopub.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (signal?.aborted) throw new Error('interrupted');
      if (this.exited) throw new KernelDiedError(`kernel exited during start-up: ${this.logTail.trim() || '(no output)'}`);
      if (Date.now() > deadline) {
        throw new Error(`kernel did not answer within ${formatSeconds(timeoutMs)}${this.logTail ? `: ${this.logTail.trim()}` : ''}`);
      }
      const request = createMessage('kernel_info_request', {}, this.session);
      const collector: Collector = { outputs: [], stderrChunks: [], idle: false };
      this.collectors.set(request.header.msg_id, collector);
      const seenOnIopub = new Promise<void>((resolve) => {
        collector.onIdle = resolve;
      });
      try {
        await this.withTimeout(Promise.all([this.request(this.shell, request), seenOnIopub]), 1000, () => new Error('retry'));
        return;
      } catch {
        // Not yet: try again with a new request.
      } finally {
        this.collectors.delete(request.header.msg_id);
        this.replies.delete(request.header.msg_id);
      }
    }
  }

  private async request(socket: Dealer, msg: JupyterMessage): Promise<JupyterMessage> {
    const reply = new Promise<JupyterMessage>((resolve) => {
      this.replies.set(msg.header.msg_id, { resolve });
    });
    await socket.send(encodeMessage(this.info.key, msg));
    try {
      return await reply;
    } finally {
      this.replies.delete(msg.header.msg_id);
    }
  }

  /** Races work against a timer and against the kernel dying. */
  private withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const died = (err: KernelDiedError) => finish(() => reject(err));
      const timer = setTimeout(() => finish(() => reject(onTimeout())), ms);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.diedListeners.delete(died);
        settle();
      };
      this.diedListeners.add(died);
      work.then(
        (v) => finish(() => resolve(v)),
        (e: unknown) => finish(() => reject(e)),
      );
    });
  }

  private waitExit(ms: number): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The line of an error report that names it: `TypeError: boom`, `Error [ERR_X]: text`. */
const NAMED_ERROR = /^(?:Uncaught )?([A-Za-z_$][\w$]*(?:Error|Exception)|Error)(?: \[[^\]]*\])?: (.*)$/;

/** Drops the stack frames of the kernel's own machinery below the cell's frames. */
function cellFrames(lines: string[]): string[] {
  const end = lines.findIndex((l) => /\(?node:vm[:)]|[\\/]tslab[\\/]dist[\\/]/.test(l));
  return end < 0 ? lines : lines.slice(0, end);
}

/** A TypeScript diagnostic as tslab prints it: `[file ]line:col - message`. */
const DIAGNOSTIC = /^(?:\S+ )?\d+:\d+ - /;

/**
 * tslab answers a failed cell with status 'error' but no ename/evalue and no iopub error message: it prints
 * compile diagnostics or the thrown error to stderr instead. Recover the error from there.
 */
export function errorFromReply(reply: JupyterMessage, collector: { stderrChunks: string[] }): { ename: string; evalue: string; traceback: string[] } {
  const c = reply.content;
  if (typeof c.ename === 'string' && c.ename !== '') {
    return { ename: c.ename, evalue: String(c.evalue ?? ''), traceback: Array.isArray(c.traceback) ? c.traceback.map(String) : [] };
  }
  return errorFromStderr(collector.stderrChunks);
}

/** The trailing stderr text that is tslab's report of the failure (diagnostics, or the last write). */
export function errorReportText(chunks: readonly string[]): string {
  let i = chunks.length;
  while (i > 0 && chunks[i - 1].trim() === '') i--;
  let start = i;
  while (start > 0 && DIAGNOSTIC.test(chunks[start - 1].trim())) start--;
  if (start === i && i > 0) start = i - 1;
  return chunks.slice(start).join('');
}

/** Removes text from the end of the last stderr output, dropping that output if nothing remains. */
function dropStderrTail(outputs: CellOutput[], text: string): void {
  const last = outputs[outputs.length - 1];
  if (text === '' || last?.output_type !== 'stream' || last.name !== 'stderr' || !last.text.endsWith(text)) return;
  last.text = last.text.slice(0, last.text.length - text.length);
  if (last.text === '') outputs.pop();
}

/** Splits tslab's stderr report of a failed cell into ename, evalue and traceback lines. */
export function errorFromStderr(chunks: readonly string[]): { ename: string; evalue: string; traceback: string[] } {
  const lines = chunks.join('').split('\n').filter((l) => l.trim() !== '');
  // Compile errors: one diagnostic per write, at the end of stderr.
  const diagnostics: string[] = [];
  for (let i = lines.length - 1; i >= 0 && DIAGNOSTIC.test(lines[i]); i--) diagnostics.unshift(lines[i]);
  if (diagnostics.length > 0) {
    return { ename: 'TypeScript compile error', evalue: diagnostics.join('; '), traceback: diagnostics };
  }
  // Runtime errors: tslab console.error()s the thrown value as the last write.
  const last = chunks.filter((c) => c.trim() !== '').pop() ?? '';
  const report = last.split('\n').filter((l) => l.trim() !== '');
  // Node prefixes a thrown error with the failing source line and a caret; the "Name: message" line follows.
  const at = report.findIndex((l) => NAMED_ERROR.test(l));
  if (at >= 0) {
    const [, ename, evalue] = NAMED_ERROR.exec(report[at]) as RegExpExecArray;
    return { ename, evalue, traceback: cellFrames(report.slice(at)) };
  }
  if (report.length > 0) return { ename: 'Error', evalue: report[0], traceback: cellFrames(report) };
  return { ename: 'Error', evalue: '(the kernel reported a failure without a message)', traceback: [] };
}
