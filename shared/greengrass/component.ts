/**
 * One component on the device and its lifecycle, with the states AWS reports (NEW, INSTALLED, STARTING,
 * RUNNING, STOPPING, FINISHED, ERRORED, BROKEN): Install (timeout), then Startup (must exit 0 within its
 * timeout) or Run (a long-lived process; counts as running once it has stayed up for `stableMs`, so a
 * process that dies at once fails the deployment instead of passing it), Shutdown on stop, Recover after
 * an error. A failing step is retried (after Recover) until `maxAttempts` errors in a row make the
 * component BROKEN. Stopping a Run process sends SIGTERM to its process group and SIGKILL after the
 * Shutdown timeout when it ignores it.
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Lifecycle, LifecycleStep, Recipe, StepName } from './recipe';
import { DEFAULT_TIMEOUTS } from './recipe';
import { interpolate, type InterpolationContext } from './interpolate';
import { startStep, type RunningStep, type StepOutcome } from './step-process';

/** Lifecycle states as the API names them. */
export type LifecycleState = 'NEW' | 'INSTALLED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'FINISHED' | 'ERRORED' | 'BROKEN';

/** How the nucleus runs components (all times in ms). */
export interface ComponentRunOptions {
  /** Errors in a row before BROKEN (AWS: 3). */
  maxAttempts: number;
  /** How long a Run process must stay up to count as running. */
  stableMs: number;
  /** SIGTERM → SIGKILL grace when the recipe gives no Shutdown timeout. */
  stopGraceMs: number;
  /** Scale applied to recipe timeouts (tests shorten them; 1 in production). */
  timeoutScale: number;
  /** Environment every step gets (thing name, IPC socket, ...). */
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

/** Where a component lives on disk and what its variables resolve to. */
export interface ComponentSetup {
  recipe: Recipe;
  lifecycle: Lifecycle;
  interpolation: InterpolationContext;
  logPath: string;
}

function onPath(exe: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, exe), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A component version as the nucleus runs it. */
export class ComponentInstance {
  state: LifecycleState = 'NEW';
  /** Why the component is in its state (last step outcome). */
  stateDetails = '';
  lastStateChange = Date.now();
  private running: RunningStep | undefined;
  /** Process groups started by Startup steps (a daemon may outlive the step). */
  private startupGroups: number[] = [];
  private errors = 0;
  private stopping = false;
  private readonly listeners: ((c: ComponentInstance) => void)[] = [];
  private stableTimer: NodeJS.Timeout | undefined;
  private healthy = false;

  constructor(
    readonly setup: ComponentSetup,
    private readonly opts: ComponentRunOptions,
  ) {
    mkdirSync(setup.interpolation.workPath, { recursive: true });
  }

  get name(): string {
    return this.setup.recipe.name;
  }

  get version(): string {
    return this.setup.recipe.version;
  }

  /** Called on every state change. */
  onChange(listener: (c: ComponentInstance) => void): void {
    this.listeners.push(listener);
  }

  private setState(state: LifecycleState, details = ''): void {
    this.state = state;
    this.stateDetails = details;
    this.lastStateChange = Date.now();
    this.opts.log(`${this.name} ${this.version}: ${state}${details ? ` (${details})` : ''}`);
    for (const l of this.listeners) l(this);
  }

  private step(name: StepName): LifecycleStep | undefined {
    return this.setup.lifecycle.steps[name];
  }

  private timeoutMs(name: StepName): number | undefined {
    const sec = this.step(name)?.timeoutSec ?? DEFAULT_TIMEOUTS[name];
    return sec === undefined ? undefined : sec * 1000 * this.opts.timeoutScale;
  }

  private skipped(step: LifecycleStep): boolean {
    if (!step.skipIf) return false;
    const [kind, ...rest] = step.skipIf.split(' ');
    const arg = interpolate(rest.join(' '), this.setup.interpolation);
    return kind === 'onpath' ? onPath(arg) : existsSync(arg);
  }

  private launch(name: StepName, signal?: AbortSignal): RunningStep | undefined {
    const step = this.step(name);
    if (!step || this.skipped(step)) return undefined;
    const ctx = this.setup.interpolation;
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.opts.env };
    for (const [k, v] of Object.entries({ ...this.setup.lifecycle.setenv, ...step.setenv })) env[k] = interpolate(v, ctx);
    return startStep({
      label: `${this.name} ${name}`,
      script: interpolate(step.script, ctx),
      cwd: ctx.workPath,
      env,
      timeoutMs: this.timeoutMs(name),
      graceMs: this.timeoutMs('shutdown') ?? this.opts.stopGraceMs,
      logPath: this.setup.logPath,
      signal,
    });
  }

  /** Run a finite step (install, startup, shutdown, recover); undefined when the recipe has none. */
  private async runStep(name: StepName, signal?: AbortSignal): Promise<StepOutcome | undefined> {
    const running = this.launch(name, signal);
    if (!running) return undefined;
    if (name === 'startup' && running.pid !== undefined) this.startupGroups.push(running.pid);
    return running.done;
  }

  /** An error in a step: Recover, count it, BROKEN after maxAttempts in a row. Returns true to retry. */
  private async failed(outcome: StepOutcome, signal?: AbortSignal): Promise<boolean> {
    this.errors++;
    this.healthy = false;
    if (outcome.endedBy === 'canceled' || signal?.aborted) {
      this.setState('ERRORED', outcome.reason);
      return false;
    }
    if (this.errors >= this.opts.maxAttempts) {
      this.setState('BROKEN', `${outcome.reason}; ${this.errors} errors in a row`);
      return false;
    }
    this.setState('ERRORED', outcome.reason);
    await this.runStep('recover', signal);
    return true;
  }

  /** Install (with retries). Resolves true when INSTALLED. */
  async install(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const outcome = await this.runStep('install', signal);
      if (!outcome || outcome.ok) {
        this.setState('INSTALLED', outcome?.reason ?? 'no install step');
        return true;
      }
      if (!(await this.failed(outcome, signal))) return false;
    }
  }

  /** Start: Startup or Run (with retries). Resolves when started, or false when it gave up. */
  async start(signal?: AbortSignal): Promise<boolean> {
    this.stopping = false;
    for (;;) {
      if (signal?.aborted || this.stopping) return false;
      this.setState('STARTING');
      if (this.step('startup')) {
        const outcome = (await this.runStep('startup', signal)) as StepOutcome;
        if (outcome.ok) {
          this.healthy = true;
          this.errors = 0;
          this.setState('RUNNING', outcome.reason);
          return true;
        }
        if (!(await this.failed(outcome, signal))) return false;
        continue;
      }
      const run = this.launch('run');
      if (!run) {
        this.healthy = true;
        this.setState('FINISHED', 'no startup or run step');
        return true;
      }
      this.running = run;
      this.setState('RUNNING', `run started (pid ${run.pid})`);
      this.stableTimer = setTimeout(() => {
        if (this.running === run) {
          this.healthy = true;
          this.errors = 0;
          for (const l of this.listeners) l(this);
        }
      }, this.opts.stableMs);
      void run.done.then((outcome) => this.runEnded(run, outcome));
      return true;
    }
  }

  /** A Run process ended: FINISHED on exit 0, else ERRORED and a restart (BROKEN after too many). */
  private async runEnded(run: RunningStep, outcome: StepOutcome): Promise<void> {
    if (this.running !== run) return;
    this.running = undefined;
    clearTimeout(this.stableTimer);
    if (this.stopping) return;
    if (outcome.ok) {
      this.healthy = true;
      this.setState('FINISHED', outcome.reason);
      return;
    }
    if (await this.failed(outcome)) await this.start();
  }

  /**
   * Resolves 'healthy' once RUNNING (stable) or FINISHED, 'broken' when BROKEN, 'timeout' after ms,
   * 'canceled' when the signal fires.
   */
  waitHealthy(ms: number, signal?: AbortSignal): Promise<'healthy' | 'broken' | 'timeout' | 'canceled'> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const check = (): boolean => {
        if (signal?.aborted) return done('canceled');
        if (this.state === 'BROKEN') return done('broken');
        if (this.healthy && (this.state === 'RUNNING' || this.state === 'FINISHED')) return done('healthy');
        return false;
      };
      let settled = false;
      const done = (r: 'healthy' | 'broken' | 'timeout' | 'canceled'): boolean => {
        if (settled) return true;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
        return true;
      };
      const onAbort = (): void => void check();
      if (check()) return;
      this.listeners.push(() => void check());
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => done('timeout'), ms);
    });
  }

  /** True once the component counts as running or finished. */
  isHealthy(): boolean {
    return this.healthy && (this.state === 'RUNNING' || this.state === 'FINISHED');
  }

  /** Stop: Shutdown step, then SIGTERM the Run process (SIGKILL after the grace). Never hangs. */
  async stop(): Promise<void> {
    if (this.state === 'NEW' || this.state === 'INSTALLED') return;
    this.stopping = true;
    clearTimeout(this.stableTimer);
    this.setState('STOPPING');
    const shutdown = await this.runStep('shutdown');
    const run = this.running;
    this.running = undefined;
    const outcome = run ? await run.stop('canceled') : undefined;
    for (const pgid of this.startupGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // the group is gone
      }
    }
    this.startupGroups = [];
    this.healthy = false;
    this.setState('FINISHED', [shutdown?.reason, outcome?.reason].filter(Boolean).join('; ') || 'stopped');
  }
}
