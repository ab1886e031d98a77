/**
 * The device-side nucleus runtime: takes a deployment document, resolves the component graph, downloads
 * and verifies artifacts, computes each component's configuration (reset, defaults, merge), stops what
 * changes, installs and starts the new set in dependency order, and waits until every component runs.
 *
 * It fixes what Greengrass users most complain of: every phase has a deadline and a logged reason, so a
 * deployment never stays IN_PROGRESS; a cancel stops it at any phase (a half-applied set is rolled
 * back); and rollback goes to the last set that worked, which may be no component at all (a first
 * deployment that fails) or an older set when the previous one was itself broken. BROKEN components are
 * reinstalled by every deployment and by a rollback.
 *
 * State (applied set, last good set) lives in <root>/config/state.json, written atomically, so a restart
 * brings back the last good set.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downloadArtifact, unzipArtifact } from './artifacts';
import { writeFileDurably } from './durable-file';
import { ComponentInstance, type ComponentRunOptions, type LifecycleState } from './component';
import { applyConfigurationUpdate, type ConfigurationUpdate } from './configuration';
import type { ComponentPaths } from './interpolate';
import { IpcServer } from './ipc';
import { artifactFileName, hostPlatform, parseRecipe, selectManifest, type Recipe } from './recipe';
import { resolveComponents, ResolutionError } from './resolve';

type Obj = Record<string, unknown>;

/** The deployment document a device receives (AWS's fields plus the candidates' recipes and artifact URLs). */
export interface DeploymentDocument {
  deploymentId: string;
  configurationArn?: string;
  components: Record<string, { version: string; configurationUpdate?: ConfigurationUpdate; runWith?: Obj }>;
  failureHandlingPolicy?: 'ROLLBACK' | 'DO_NOTHING';
  componentUpdatePolicy?: { timeout?: number; action?: string };
  configurationValidationPolicy?: { timeout?: number };
  /** Candidate recipes per component (raw recipe objects). */
  recipes?: Record<string, Obj[]>;
  /** Download URL per s3:// artifact URI. */
  artifactUrls?: Record<string, string>;
}

/** detailed-deployment-status values (AWS DeploymentResult), plus CANCELED. */
export type DetailedStatus = 'SUCCESSFUL' | 'FAILED_NO_STATE_CHANGE' | 'FAILED_ROLLBACK_NOT_REQUESTED' | 'FAILED_ROLLBACK_COMPLETE' | 'FAILED_UNABLE_TO_ROLLBACK' | 'CANCELED';

/** How a deployment ended on the device. */
export interface DeploymentResult {
  deploymentId: string;
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELED';
  detailedStatus: DetailedStatus;
  /** Why it failed (the first failure), as deployment-failure-cause. */
  reason?: string;
  errorStack: string[];
  errorTypes: string[];
}

/** One component of an applied set, as persisted. */
interface AppliedComponent {
  version: string;
  configuration: Obj;
  isRoot: boolean;
}

/** A set of components the device ran (or runs). */
interface AppliedSet {
  deploymentId: string;
  components: Record<string, AppliedComponent>;
}

interface PersistedState {
  current?: AppliedSet;
  /** The last set every component of which ran: the rollback target. */
  lastGood?: AppliedSet;
  /** Set while a deployment is being applied (a restart then goes back to lastGood). */
  inFlight?: string;
}

/** Phase timeouts of a deployment (ms). */
export interface NucleusTimeouts {
  /** Per artifact download. */
  downloadMs: number;
  /** Whole deployment (download, stop, install, start, wait for RUNNING); the rollback gets the same again. */
  deploymentMs: number;
}

/** How a nucleus is set up. */
export interface NucleusOptions {
  root: string;
  thingName: string;
  /** Device platform for manifest selection (default: this host). */
  platform?: Record<string, string>;
  timeouts?: Partial<NucleusTimeouts>;
  run?: Partial<Omit<ComponentRunOptions, 'log' | 'env'>>;
  /** Extra environment for every component step (IPC socket, region, ...). */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Called when any component changes state (health reports). */
  onComponentChange?: () => void;
  /** Called with a phase name as a deployment progresses (IoT job statusDetails). */
  onPhase?: (deploymentId: string, phase: string) => void;
}

/** A component as the fleet status reports it. */
export interface ComponentStatus {
  componentName: string;
  version: string;
  componentStatus: LifecycleState;
  isRoot: boolean;
  statusDetails: string;
  lastStatusChangeTimestamp: number;
}

class DeploymentFailure extends Error {
  constructor(
    message: string,
    readonly errorType: string,
    readonly stateChanged: boolean,
  ) {
    super(message);
  }
}

const DEFAULT_TIMEOUTS: NucleusTimeouts = { downloadMs: 10 * 60_000, deploymentMs: 10 * 60_000 };
const DEFAULT_RUN = { maxAttempts: 3, stableMs: 2000, stopGraceMs: 15_000, timeoutScale: 1 };

function sameConfig(a: Obj, b: Obj): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The nucleus of one device. */
export class Nucleus {
  private readonly running = new Map<string, ComponentInstance>();
  private readonly roots = new Set<string>();
  private state: PersistedState = {};
  private readonly timeouts: NucleusTimeouts;
  private readonly runOptions: ComponentRunOptions;
  private readonly platform: Record<string, string>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: (line: string) => void;
  private readonly tokens = new Map<string, string>();
  private readonly stopping = new AbortController();
  /** Local pub/sub and MQTT proxy for components (its cloud side is set by the device link). */
  ipc!: IpcServer;

  private constructor(private readonly opts: NucleusOptions) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.log = opts.log ?? ((line) => process.stderr.write(`[nucleus ${opts.thingName}] ${line}\n`));
    this.runOptions = { ...DEFAULT_RUN, ...opts.run, env: { AWS_IOT_THING_NAME: opts.thingName, ...opts.env }, log: this.log };
    this.platform = opts.platform ?? hostPlatform();
    for (const d of ['config', 'packages/recipes', 'packages/artifacts', 'packages/artifacts-unarchived', 'work', 'logs']) mkdirSync(join(opts.root, d), { recursive: true });
  }

  /** Start a nucleus on its root folder: the last good set (if any) is started again. */
  static async start(opts: NucleusOptions): Promise<Nucleus> {
    const n = new Nucleus(opts);
    n.loadState();
    n.ipc = await IpcServer.start(ipcSocketPath(opts.root), n.log);
    const resume = n.state.inFlight ? n.state.lastGood : n.state.current;
    if (n.state.inFlight) n.log(`restarted during deployment ${n.state.inFlight}: going back to the last good set`);
    if (resume) {
      const target = n.targetFromSet(resume);
      const outcome = await n.apply(target, undefined, Date.now() + n.timeouts.deploymentMs);
      if (outcome) n.log(`restarting the components failed: ${outcome.message}`);
      n.state.current = resume;
    }
    n.state.inFlight = undefined;
    n.saveState();
    return n;
  }

  /** Components and their states, for the fleet status. */
  components(): ComponentStatus[] {
    return [...this.running.values()].map((c) => ({
      componentName: c.name,
      version: c.version,
      componentStatus: c.state,
      isRoot: this.roots.has(c.name),
      statusDetails: c.stateDetails,
      lastStatusChangeTimestamp: c.lastStateChange,
    }));
  }

  /** HEALTHY unless a component is BROKEN or ERRORED. */
  overallStatus(): 'HEALTHY' | 'UNHEALTHY' {
    return [...this.running.values()].some((c) => c.state === 'BROKEN' || c.state === 'ERRORED') ? 'UNHEALTHY' : 'HEALTHY';
  }

  /** The deployment id of the set the device runs now. */
  currentDeploymentId(): string | undefined {
    return this.state.current?.deploymentId;
  }

  /** Apply a deployment (queued behind any running one); never throws, never hangs. */
  deploy(doc: DeploymentDocument, signal?: AbortSignal): Promise<DeploymentResult> {
    // stop() cancels whatever deployment is running, so stopping never waits for a deployment to end.
    const combined = signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
    const next = this.queue.then(() => this.runDeployment(doc, combined));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Stop every component (dependers first). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.queue;
    for (const c of [...this.running.values()].reverse()) await this.stopComponent(c);
    await this.ipc.stop();
  }

  // ------------------------------------------------------------------ deployment

  private phase(doc: DeploymentDocument, phase: string): void {
    this.log(`deployment ${doc.deploymentId}: ${phase}`);
    this.opts.onPhase?.(doc.deploymentId, phase);
  }

  private async runDeployment(doc: DeploymentDocument, signal?: AbortSignal): Promise<DeploymentResult> {
    const deadline = Date.now() + this.timeouts.deploymentMs;
    const policy = doc.failureHandlingPolicy ?? 'ROLLBACK';
    const result = (status: DeploymentResult['status'], detailedStatus: DetailedStatus, err?: DeploymentFailure | Error): DeploymentResult => ({
      deploymentId: doc.deploymentId,
      status,
      detailedStatus,
      reason: err?.message,
      errorStack: err ? ['DEPLOYMENT_FAILURE', err instanceof DeploymentFailure ? err.errorType : 'NUCLEUS_ERROR'] : [],
      errorTypes: err ? [err instanceof DeploymentFailure && err.errorType.startsWith('COMPONENT') ? 'COMPONENT_ERROR' : 'DEVICE_ERROR'] : [],
    });
    let target: Map<string, { recipe: Recipe; configuration: Obj; isRoot: boolean }>;
    try {
      this.phase(doc, 'resolving components');
      target = this.resolve(doc);
      this.phase(doc, 'downloading artifacts');
      await this.download(doc, target, signal);
    } catch (err) {
      if (signal?.aborted) {
        this.log(`deployment ${doc.deploymentId} canceled before any change: ${(err as Error).message}`);
        return result('CANCELED', 'CANCELED', new DeploymentFailure(`canceled: ${(err as Error).message}`, 'CANCELED', false));
      }
      this.log(`deployment ${doc.deploymentId} failed, nothing changed: ${(err as Error).message}`);
      return result('FAILED', 'FAILED_NO_STATE_CHANGE', err as Error);
    }

    this.state.inFlight = doc.deploymentId;
    this.saveState();
    this.phase(doc, 'applying');
    const failure = await this.apply(target, signal, deadline);
    const applied: AppliedSet = { deploymentId: doc.deploymentId, components: Object.fromEntries([...target].map(([n, t]) => [n, { version: t.recipe.version, configuration: t.configuration, isRoot: t.isRoot }])) };
    if (!failure) {
      this.state = { current: applied, lastGood: applied };
      this.saveState();
      this.phase(doc, 'succeeded');
      return result('SUCCEEDED', 'SUCCESSFUL');
    }
    const canceled = signal?.aborted === true;
    this.log(`deployment ${doc.deploymentId} ${canceled ? 'canceled' : 'failed'} while applying: ${failure.message}`);
    if (policy === 'DO_NOTHING' && !canceled) {
      this.state = { current: applied, lastGood: this.state.lastGood };
      this.saveState();
      return result('FAILED', 'FAILED_ROLLBACK_NOT_REQUESTED', failure);
    }
    const back = this.state.lastGood;
    this.phase(doc, `rolling back to ${back ? `deployment ${back.deploymentId}` : 'no components (first deployment)'}`);
    const rollbackFailure = await this.apply(back ? this.targetFromSet(back) : new Map(), undefined, Date.now() + this.timeouts.deploymentMs);
    this.state = { current: back, lastGood: back };
    if (rollbackFailure) {
      this.log(`rollback failed: ${rollbackFailure.message}; stopping the components that do not run`);
      for (const c of [...this.running.values()].reverse()) {
        if (!c.isHealthy()) {
          await this.stopComponent(c);
        }
      }
      this.state.current = { deploymentId: back?.deploymentId ?? '', components: Object.fromEntries([...this.running.values()].map((c) => [c.name, { version: c.version, configuration: c.setup.interpolation.configuration, isRoot: this.roots.has(c.name) }])) };
    }
    this.saveState();
    if (canceled) return result('CANCELED', 'CANCELED', new DeploymentFailure(`canceled while applying (${failure.message}); ${rollbackFailure ? 'rollback failed' : 'rolled back'}`, 'CANCELED', true));
    if (rollbackFailure) return result('FAILED', 'FAILED_UNABLE_TO_ROLLBACK', new DeploymentFailure(`${failure.message}; rollback failed: ${rollbackFailure.message}`, failure.errorType, true));
    return result('FAILED', 'FAILED_ROLLBACK_COMPLETE', failure);
  }

  /** Resolve the document's roots into recipes and configurations; throws DeploymentFailure. */
  private resolve(doc: DeploymentDocument): Map<string, { recipe: Recipe; configuration: Obj; isRoot: boolean }> {
    const offered = new Map<string, Recipe[]>();
    for (const [name, list] of Object.entries(doc.recipes ?? {})) {
      offered.set(
        name,
        list.map((raw) => {
          try {
            return parseRecipe(raw);
          } catch (err) {
            throw new DeploymentFailure(`recipe of ${name} in the deployment is invalid: ${(err as Error).message}`, 'INVALID_RECIPE', false);
          }
        }),
      );
    }
    const roots = Object.fromEntries(Object.entries(doc.components).map(([n, c]) => [n, c.version]));
    let order: Recipe[];
    try {
      order = resolveComponents(roots, (name) => offered.get(name) ?? this.localRecipes(name));
    } catch (err) {
      if (err instanceof ResolutionError) throw new DeploymentFailure(`cannot resolve the components: ${err.message}`, 'NO_AVAILABLE_COMPONENT_VERSION', false);
      throw err;
    }
    const target = new Map<string, { recipe: Recipe; configuration: Obj; isRoot: boolean }>();
    for (const recipe of order) {
      if (!selectManifest(recipe, this.platform)) throw new DeploymentFailure(`${recipe.name} ${recipe.version} has no manifest for this device (${JSON.stringify(this.platform)})`, 'COMPONENT_RECIPE_ERROR', false);
      const current = this.state.current?.components[recipe.name]?.configuration;
      let configuration: Obj;
      try {
        configuration = applyConfigurationUpdate(current, recipe.defaultConfiguration, doc.components[recipe.name]?.configurationUpdate);
      } catch (err) {
        throw new DeploymentFailure(`configuration of ${recipe.name}: ${(err as Error).message}`, 'INVALID_CONFIGURATION', false);
      }
      target.set(recipe.name, { recipe, configuration, isRoot: recipe.name in doc.components });
    }
    for (const recipe of order) writeFileSync(this.recipePath(recipe.name, recipe.version), JSON.stringify(recipe.raw));
    return target;
  }

  /** Download every artifact of the target that is not on the device yet. */
  private async download(doc: DeploymentDocument, target: Map<string, { recipe: Recipe }>, signal?: AbortSignal): Promise<void> {
    for (const { recipe } of target.values()) {
      const manifest = selectManifest(recipe, this.platform);
      for (const artifact of manifest?.artifacts ?? []) {
        if (signal?.aborted) throw new DeploymentFailure('canceled', 'CANCELED', false);
        const dest = join(this.artifactsPath(recipe), artifactFileName(artifact.uri));
        const url = doc.artifactUrls?.[artifact.uri];
        if (!url) throw new DeploymentFailure(`no download URL for artifact ${artifact.uri} of ${recipe.name}`, 'ARTIFACT_DOWNLOAD_ERROR', false);
        try {
          const how = await downloadArtifact({ url, dest, digest: artifact.digest, timeoutMs: this.timeouts.downloadMs, signal });
          this.log(`${recipe.name} ${recipe.version}: artifact ${artifactFileName(artifact.uri)} ${how}`);
          if (artifact.unarchive === 'ZIP') await unzipArtifact(dest, join(this.decompressedPath(recipe), artifactFileName(artifact.uri).replace(/\.zip$/i, '')), this.timeouts.downloadMs);
        } catch (err) {
          throw new DeploymentFailure(`artifact ${artifact.uri} of ${recipe.name} ${recipe.version}: ${(err as Error).message}`, 'ARTIFACT_DOWNLOAD_ERROR', false);
        }
      }
    }
  }

  /**
   * Make the running set equal the target: stop what is removed or changed (or BROKEN), then install and
   * start the rest in dependency order, waiting for each to run. Returns the first failure, or undefined.
   */
  private async apply(target: Map<string, { recipe: Recipe; configuration: Obj; isRoot: boolean }>, signal: AbortSignal | undefined, deadline: number): Promise<DeploymentFailure | undefined> {
    // A component is kept only when it, and every dependency it reaches, runs unchanged: its scripts
    // resolved a dependency's paths and configuration, so a changed dependency restarts it (as AWS
    // restarts HARD dependers).
    const kept = new Set<string>();
    for (const [name, t] of target) {
      const c = this.running.get(name);
      const unchanged = !!c && t.recipe.version === c.version && sameConfig(t.configuration, c.setup.interpolation.configuration) && c.isHealthy();
      if (unchanged && Object.keys(t.recipe.dependencies).every((d) => kept.has(d) || !target.has(d))) kept.add(name);
    }
    for (const c of [...this.running.values()].reverse()) {
      if (kept.has(c.name)) continue;
      await this.stopComponent(c);
    }
    this.roots.clear();
    for (const [name, t] of target) if (t.isRoot) this.roots.add(name);
    for (const [name, t] of target) {
      if (this.running.has(name)) continue;
      if (signal?.aborted) return new DeploymentFailure(`canceled before ${name} started`, 'CANCELED', true);
      const instance = this.instantiate(t.recipe, t.configuration, target);
      this.running.set(name, instance);
      instance.onChange(() => this.opts.onComponentChange?.());
      this.opts.onComponentChange?.();
      if (!(await instance.install(signal))) return new DeploymentFailure(`${name} ${t.recipe.version} install: ${instance.stateDetails}`, 'COMPONENT_BROKEN', true);
      if (!(await instance.start(signal))) return new DeploymentFailure(`${name} ${t.recipe.version} start: ${instance.stateDetails}`, 'COMPONENT_BROKEN', true);
      const outcome = await instance.waitHealthy(Math.max(0, deadline - Date.now()), signal);
      if (outcome === 'canceled') return new DeploymentFailure(`canceled while ${name} was starting`, 'CANCELED', true);
      if (outcome === 'broken') return new DeploymentFailure(`${name} ${t.recipe.version} is BROKEN: ${instance.stateDetails}`, 'COMPONENT_BROKEN', true);
      if (outcome === 'timeout') return new DeploymentFailure(`${name} ${t.recipe.version} did not reach RUNNING before the deployment timeout (${this.timeouts.deploymentMs / 1000} s); state ${instance.state}`, 'COMPONENT_TIMEOUT', true);
    }
    return undefined;
  }

  /** Stop a component, forget it and revoke its IPC token. */
  private async stopComponent(c: ComponentInstance): Promise<void> {
    await c.stop();
    this.running.delete(c.name);
    const token = this.tokens.get(c.name);
    this.tokens.delete(c.name);
    if (token) this.ipc.revokeToken(token);
  }

  private instantiate(recipe: Recipe, configuration: Obj, target: Map<string, { recipe: Recipe; configuration: Obj }>): ComponentInstance {
    const manifest = selectManifest(recipe, this.platform);
    const paths = (r: Recipe, config: Obj): ComponentPaths => ({ configuration: config, artifactsPath: this.artifactsPath(r), decompressedPath: this.decompressedPath(r) });
    const dependencies: Record<string, ComponentPaths> = {};
    for (const dep of Object.keys(recipe.dependencies)) {
      const t = target.get(dep);
      if (t) dependencies[dep] = paths(t.recipe, t.configuration);
    }
    // {iot:thingName} in accessControl resources names this device (AWS nucleus 2.6.0 and later).
    const thing = this.opts.thingName;
    const token = this.ipc.issueToken(recipe.name, () => (configuration.accessControl === undefined ? undefined : JSON.parse(JSON.stringify(configuration.accessControl).split('{iot:thingName}').join(thing))));
    this.tokens.set(recipe.name, token);
    return new ComponentInstance(
      {
        recipe,
        lifecycle: manifest?.lifecycle ?? { setenv: {}, steps: {} },
        interpolation: { ...paths(recipe, configuration), workPath: join(this.opts.root, 'work', recipe.name), rootPath: this.opts.root, thingName: this.opts.thingName, dependencies },
        logPath: join(this.opts.root, 'logs', `${recipe.name}.log`),
      },
      { ...this.runOptions, env: { ...this.runOptions.env, SVCUID: token, AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: this.ipc.socketPath } },
    );
  }

  private targetFromSet(set: AppliedSet): Map<string, { recipe: Recipe; configuration: Obj; isRoot: boolean }> {
    const recipes = new Map<string, Recipe>();
    for (const [name, c] of Object.entries(set.components)) recipes.set(name, parseRecipe(readFileSync(this.recipePath(name, c.version), 'utf8')));
    const order = resolveComponents(Object.fromEntries(Object.entries(set.components).map(([n, c]) => [n, c.version])), (name) => (recipes.has(name) ? [recipes.get(name) as Recipe] : []));
    return new Map(order.map((r) => [r.name, { recipe: r, configuration: set.components[r.name].configuration, isRoot: set.components[r.name].isRoot }]));
  }

  // ------------------------------------------------------------------ disk

  private localRecipes(name: string): Recipe[] {
    const out: Recipe[] = [];
    for (const set of [this.state.current, this.state.lastGood]) {
      const c = set?.components[name];
      if (c && !out.some((r) => r.version === c.version)) out.push(parseRecipe(readFileSync(this.recipePath(name, c.version), 'utf8')));
    }
    return out;
  }

  private recipePath(name: string, version: string): string {
    return join(this.opts.root, 'packages', 'recipes', `${name}@${version}.json`);
  }

  private artifactsPath(r: Recipe): string {
    return join(this.opts.root, 'packages', 'artifacts', r.name, r.version);
  }

  private decompressedPath(r: Recipe): string {
    return join(this.opts.root, 'packages', 'artifacts-unarchived', r.name, r.version);
  }

  private statePath(): string {
    return join(this.opts.root, 'config', 'state.json');
  }

  private loadState(): void {
    try {
      this.state = JSON.parse(readFileSync(this.statePath(), 'utf8')) as PersistedState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${this.statePath()} is unreadable: ${(err as Error).message}`);
    }
  }

  private saveState(): void {
    writeFileDurably(this.statePath(), JSON.stringify(this.state, null, 2));
  }
}

/** The IPC socket of a root: inside it when the path fits a Unix socket name (107 bytes), else in the temp folder. */
function ipcSocketPath(root: string): string {
  const inRoot = join(root, 'ipc.socket');
  if (Buffer.byteLength(inRoot) <= 100) return inRoot;
  return join(tmpdir(), `gg-ipc-${createHash('sha256').update(root).digest('hex').slice(0, 16)}.socket`);
}
