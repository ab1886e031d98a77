/**
 * Greengrass v2 component recipes (RecipeFormatVersion 2020-01-25), YAML or JSON, as both the cloud
 * (CreateComponentVersion) and the nucleus read them. Keys are case-insensitive, as in the AWS
 * component-common library; parseRecipe returns every problem at once, each naming the field, so a
 * bad recipe is refused with one clear message.
 */
import semver from 'semver';
import YAML from 'yaml';

/** The only recipe format version AWS defines. */
export const RECIPE_FORMAT_VERSION = '2020-01-25';

/** A lifecycle step: the script and its options (a bare string in the recipe means just the script). */
export interface LifecycleStep {
  script: string;
  /** Seconds; undefined = the step's default (see DEFAULT_TIMEOUTS). */
  timeoutSec?: number;
  setenv: Record<string, string>;
  /** `onpath <exe>` or `exists <file>`: the step is skipped when true. */
  skipIf?: string;
  requiresPrivilege: boolean;
}

/** The lifecycle steps the nucleus runs, in the order they can run. */
export const STEP_NAMES = ['install', 'startup', 'run', 'shutdown', 'recover'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** Default step timeouts in seconds (AWS recipe reference; run has none). */
export const DEFAULT_TIMEOUTS: Record<StepName, number | undefined> = { install: 120, startup: 120, run: undefined, shutdown: 15, recover: 60 };

/** A manifest's lifecycle: environment for every step and the steps present. */
export interface Lifecycle {
  setenv: Record<string, string>;
  steps: Partial<Record<StepName, LifecycleStep>>;
}

/** An artifact of a manifest. */
export interface Artifact {
  uri: string;
  unarchive: 'NONE' | 'ZIP';
  /** Base64 digest of the file (set by the cloud at CreateComponentVersion). */
  digest?: string;
  algorithm?: string;
  permission: { read: 'NONE' | 'OWNER' | 'ALL'; execute: 'NONE' | 'OWNER' | 'ALL' };
}

/** A platform selector: each value exact, `*`, or `/regex/`. */
export type Platform = Record<string, string>;

/** One manifest: the first whose platform matches the device is used. */
export interface Manifest {
  platform: Platform;
  lifecycle?: Lifecycle;
  selections: string[];
  artifacts: Artifact[];
}

/** A dependency on another component. */
export interface Dependency {
  versionRequirement: string;
  dependencyType: 'HARD' | 'SOFT';
}

/** A parsed, validated recipe. */
export interface Recipe {
  name: string;
  version: string;
  type: string;
  description?: string;
  publisher?: string;
  defaultConfiguration: Record<string, unknown>;
  dependencies: Record<string, Dependency>;
  manifests: Manifest[];
  /** The recipe as written (key case kept), for GetComponent. */
  raw: Record<string, unknown>;
}

/** A field that is wrong, as ValidationException's fields list it. */
export interface RecipeProblem {
  name: string;
  message: string;
}

/** Thrown by parseRecipe with every problem found. */
export class RecipeError extends Error {
  constructor(readonly problems: RecipeProblem[]) {
    super(`invalid recipe: ${problems.map((p) => `${p.name}: ${p.message}`).join('; ')}`);
    this.name = 'RecipeError';
  }
}

const NAME = /^[a-zA-Z0-9-_.]{1,128}$/;
const COMPONENT_TYPES = new Set(['aws.greengrass.generic', 'aws.greengrass.lambda', 'aws.greengrass.plugin', 'aws.greengrass.nucleus']);

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value of a key, matched without regard to case. */
export function field(obj: Obj, key: string): unknown {
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/** Parse recipe text: JSON when it starts with `{`, else YAML. Throws RecipeError on syntax errors. */
export function parseRecipeText(text: string): Obj {
  let doc: unknown;
  try {
    doc = text.trimStart().startsWith('{') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new RecipeError([{ name: 'recipe', message: `not valid JSON or YAML (${(err as Error).message.split('\n')[0]})` }]);
  }
  if (!isObj(doc)) throw new RecipeError([{ name: 'recipe', message: 'must be a JSON or YAML object' }]);
  return doc;
}

/** True when text is a version range semver understands the npm way (as the nucleus's semver4j does). */
export function isValidRange(range: string): boolean {
  return semver.validRange(range) !== null;
}

function stringMap(v: unknown, where: string, problems: RecipeProblem[]): Record<string, string> {
  if (v === undefined) return {};
  if (!isObj(v)) {
    problems.push({ name: where, message: 'must be a map of names to strings' });
    return {};
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

function parseStep(v: unknown, where: string, problems: RecipeProblem[]): LifecycleStep | undefined {
  if (typeof v === 'string') return { script: v, setenv: {}, requiresPrivilege: false };
  if (!isObj(v)) {
    problems.push({ name: where, message: 'must be a script string or an object with Script' });
    return undefined;
  }
  const script = field(v, 'Script');
  if (typeof script !== 'string' || script.trim() === '') {
    problems.push({ name: `${where}.Script`, message: 'is required and must be a non-empty string' });
    return undefined;
  }
  const timeout = field(v, 'Timeout');
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0)) {
    problems.push({ name: `${where}.Timeout`, message: `must be a positive number of seconds, got ${JSON.stringify(timeout)}` });
  }
  const skipIf = field(v, 'Skipif');
  if (skipIf !== undefined && (typeof skipIf !== 'string' || !/^(onpath|exists) \S/.test(skipIf))) {
    problems.push({ name: `${where}.Skipif`, message: 'must be "onpath <executable>" or "exists <file>"' });
  }
  return {
    script,
    timeoutSec: typeof timeout === 'number' ? timeout : undefined,
    setenv: stringMap(field(v, 'Setenv'), `${where}.Setenv`, problems),
    skipIf: typeof skipIf === 'string' ? skipIf : undefined,
    requiresPrivilege: field(v, 'RequiresPrivilege') === true,
  };
}

/** Parse a Lifecycle map (steps and Setenv); unknown keys are problems so typos do not pass silently. */
function parseLifecycle(v: unknown, where: string, problems: RecipeProblem[]): Lifecycle | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) {
    problems.push({ name: where, message: 'must be a map of lifecycle steps' });
    return undefined;
  }
  const lifecycle: Lifecycle = { setenv: {}, steps: {} };
  for (const [key, value] of Object.entries(v)) {
    const lower = key.toLowerCase();
    if (lower === 'setenv') lifecycle.setenv = stringMap(value, `${where}.Setenv`, problems);
    else if ((STEP_NAMES as readonly string[]).includes(lower)) {
      const step = parseStep(value, `${where}.${key}`, problems);
      if (step) lifecycle.steps[lower as StepName] = step;
    } else if (lower === 'bootstrap') problems.push({ name: `${where}.${key}`, message: 'Bootstrap (nucleus restart) is not supported by this runtime' });
    else problems.push({ name: `${where}.${key}`, message: `unknown lifecycle step (known: ${STEP_NAMES.join(', ')}, Setenv)` });
  }
  if (lifecycle.steps.startup && lifecycle.steps.run) problems.push({ name: where, message: 'has both Startup and Run; a component has one or the other' });
  return lifecycle;
}

function parseArtifact(v: unknown, where: string, problems: RecipeProblem[]): Artifact | undefined {
  if (!isObj(v)) {
    problems.push({ name: where, message: 'must be an object with URI' });
    return undefined;
  }
  const uri = field(v, 'URI');
  if (typeof uri !== 'string' || !/^s3:\/\/[^/]+\/.+/.test(uri)) {
    problems.push({ name: `${where}.URI`, message: `must be an s3://<bucket>/<key> URI, got ${JSON.stringify(uri)}` });
    return undefined;
  }
  const unarchive = String(field(v, 'Unarchive') ?? 'NONE').toUpperCase();
  if (unarchive !== 'NONE' && unarchive !== 'ZIP') problems.push({ name: `${where}.Unarchive`, message: 'must be NONE or ZIP' });
  const digest = field(v, 'Digest');
  if (digest !== undefined && (typeof digest !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(digest))) {
    problems.push({ name: `${where}.Digest`, message: 'must be the base64 SHA-256 of the artifact (44 characters)' });
  }
  const algorithm = field(v, 'Algorithm');
  if (algorithm !== undefined && algorithm !== 'SHA-256') problems.push({ name: `${where}.Algorithm`, message: 'only SHA-256 is supported' });
  const perm = field(v, 'Permission');
  const level = (x: unknown, def: 'NONE' | 'OWNER'): 'NONE' | 'OWNER' | 'ALL' => {
    const s = String(x ?? def).toUpperCase();
    if (s !== 'NONE' && s !== 'OWNER' && s !== 'ALL') {
      problems.push({ name: `${where}.Permission`, message: 'Read and Execute must be NONE, OWNER or ALL' });
      return def;
    }
    return s;
  };
  return {
    uri,
    unarchive: unarchive === 'ZIP' ? 'ZIP' : 'NONE',
    digest: typeof digest === 'string' ? digest : undefined,
    algorithm: typeof algorithm === 'string' ? algorithm : undefined,
    permission: { read: level(isObj(perm) ? field(perm, 'Read') : undefined, 'OWNER'), execute: level(isObj(perm) ? field(perm, 'Execute') : undefined, 'NONE') },
  };
}

/** Parse and validate a recipe object (or text); throws RecipeError listing every problem. */
export function parseRecipe(input: string | Obj): Recipe {
  const raw = typeof input === 'string' ? parseRecipeText(input) : input;
  const problems: RecipeProblem[] = [];
  const fmt = field(raw, 'RecipeFormatVersion');
  if (fmt === undefined) problems.push({ name: 'RecipeFormatVersion', message: 'is required' });
  else if (String(fmt) !== RECIPE_FORMAT_VERSION) problems.push({ name: 'RecipeFormatVersion', message: `must be ${RECIPE_FORMAT_VERSION}, got ${JSON.stringify(fmt)}` });
  const name = field(raw, 'ComponentName');
  if (name === undefined) problems.push({ name: 'ComponentName', message: 'is required' });
  else if (typeof name !== 'string' || !NAME.test(name)) problems.push({ name: 'ComponentName', message: 'must be 1-128 characters of a-z A-Z 0-9 - _ .' });
  const version = field(raw, 'ComponentVersion');
  if (version === undefined) problems.push({ name: 'ComponentVersion', message: 'is required' });
  else if (typeof version !== 'string' || version.length > 64 || semver.valid(version) === null) problems.push({ name: 'ComponentVersion', message: `must be a semantic version such as 1.0.0, got ${JSON.stringify(version)}` });
  const type = String(field(raw, 'ComponentType') ?? 'aws.greengrass.generic');
  if (!COMPONENT_TYPES.has(type)) problems.push({ name: 'ComponentType', message: `must be one of ${[...COMPONENT_TYPES].join(', ')}` });

  const configuration = field(raw, 'ComponentConfiguration');
  let defaultConfiguration: Obj = {};
  if (configuration !== undefined) {
    const def = isObj(configuration) ? field(configuration, 'DefaultConfiguration') : undefined;
    if (!isObj(configuration) || (def !== undefined && !isObj(def))) problems.push({ name: 'ComponentConfiguration.DefaultConfiguration', message: 'must be an object' });
    else if (isObj(def)) defaultConfiguration = def;
  }

  const dependencies: Record<string, Dependency> = {};
  const deps = field(raw, 'ComponentDependencies');
  if (deps !== undefined && !isObj(deps)) problems.push({ name: 'ComponentDependencies', message: 'must be a map of component names' });
  for (const [depName, spec] of Object.entries(isObj(deps) ? deps : {})) {
    const where = `ComponentDependencies.${depName}`;
    if (!NAME.test(depName)) problems.push({ name: where, message: 'is not a valid component name' });
    if (depName === name) problems.push({ name: where, message: 'a component cannot depend on itself (dependency cycle)' });
    const range = isObj(spec) ? field(spec, 'VersionRequirement') : undefined;
    if (typeof range !== 'string' || range.trim() === '') {
      problems.push({ name: `${where}.VersionRequirement`, message: 'is required' });
      continue;
    }
    if (!isValidRange(range)) problems.push({ name: `${where}.VersionRequirement`, message: `"${range}" is not a valid version range (npm syntax, e.g. ">=1.0.0 <2.0.0", "^1.2.0")` });
    const depType = String((isObj(spec) ? field(spec, 'DependencyType') : undefined) ?? 'HARD').toUpperCase();
    if (depType !== 'HARD' && depType !== 'SOFT') problems.push({ name: `${where}.DependencyType`, message: 'must be HARD or SOFT' });
    dependencies[depName] = { versionRequirement: range, dependencyType: depType === 'SOFT' ? 'SOFT' : 'HARD' };
  }

  const globalLifecycleRaw = field(raw, 'Lifecycle');
  const manifestsRaw = field(raw, 'Manifests');
  const manifests: Manifest[] = [];
  if (manifestsRaw !== undefined && !Array.isArray(manifestsRaw)) problems.push({ name: 'Manifests', message: 'must be a list' });
  (Array.isArray(manifestsRaw) ? manifestsRaw : []).forEach((m, i) => {
    const where = `Manifests[${i}]`;
    if (!isObj(m)) {
      problems.push({ name: where, message: 'must be an object' });
      return;
    }
    const platformRaw = field(m, 'Platform') ?? {};
    if (!isObj(platformRaw)) problems.push({ name: `${where}.Platform`, message: 'must be a map such as { os: linux }' });
    const platform = Object.fromEntries(Object.entries(isObj(platformRaw) ? platformRaw : {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    for (const [k, v] of Object.entries(platform)) {
      if (v.length > 1 && v.startsWith('/') && v.endsWith('/')) {
        try {
          new RegExp(v.slice(1, -1));
        } catch {
          problems.push({ name: `${where}.Platform.${k}`, message: `${v} is not a valid regular expression` });
        }
      }
    }
    const artifactsRaw = field(m, 'Artifacts') ?? [];
    if (!Array.isArray(artifactsRaw)) problems.push({ name: `${where}.Artifacts`, message: 'must be a list' });
    const artifacts = (Array.isArray(artifactsRaw) ? artifactsRaw : []).map((a, j) => parseArtifact(a, `${where}.Artifacts[${j}]`, problems)).filter((a): a is Artifact => a !== undefined);
    const selections = field(m, 'Selections');
    manifests.push({
      platform,
      lifecycle: parseLifecycle(field(m, 'Lifecycle'), `${where}.Lifecycle`, problems),
      selections: Array.isArray(selections) ? selections.map(String) : [],
      artifacts,
    });
  });
  // A recipe with only a global Lifecycle still runs everywhere: give it one catch-all manifest.
  if (manifests.length === 0 && globalLifecycleRaw !== undefined) manifests.push({ platform: {}, selections: [], artifacts: [] });
  for (const m of manifests) {
    if (m.lifecycle || globalLifecycleRaw === undefined) continue;
    m.lifecycle = selectGlobalLifecycle(globalLifecycleRaw, m.selections, problems);
  }
  if (problems.length > 0) throw new RecipeError(problems);
  const desc = field(raw, 'ComponentDescription');
  const publisher = field(raw, 'ComponentPublisher');
  return {
    name: name as string,
    version: version as string,
    type,
    description: typeof desc === 'string' ? desc : undefined,
    publisher: typeof publisher === 'string' ? publisher : undefined,
    defaultConfiguration,
    dependencies,
    manifests,
    raw,
  };
}

/**
 * The global Lifecycle for a manifest: the map itself when its keys are steps, else the entry of the
 * manifest's first selection that exists, else `all` (AWS's selection rules).
 */
function selectGlobalLifecycle(v: unknown, selections: string[], problems: RecipeProblem[]): Lifecycle | undefined {
  if (!isObj(v)) return parseLifecycle(v, 'Lifecycle', problems);
  const keys = Object.keys(v).map((k) => k.toLowerCase());
  if (keys.some((k) => k === 'setenv' || (STEP_NAMES as readonly string[]).includes(k))) return parseLifecycle(v, 'Lifecycle', problems);
  for (const s of [...selections, 'all']) {
    const chosen = field(v, s);
    if (chosen !== undefined) return parseLifecycle(chosen, `Lifecycle.${s}`, problems);
  }
  return undefined;
}

/** True when a platform selector matches the device's platform (os, architecture, ...). */
export function platformMatches(selector: Platform, device: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, want]) => {
    if (want === '*') return true;
    const have = device[key];
    if (have === undefined) return false;
    if (want.length > 1 && want.startsWith('/') && want.endsWith('/')) return new RegExp(want.slice(1, -1)).test(have);
    return want === have;
  });
}

/** The first manifest matching the device, or undefined (then the deployment fails, as in AWS). */
export function selectManifest(recipe: Recipe, device: Record<string, string>): Manifest | undefined {
  return recipe.manifests.find((m) => platformMatches(m.platform, device));
}

/** The device's platform in recipe terms (os linux/darwin/windows, architecture amd64/aarch64/arm/x86). */
export function hostPlatform(): Record<string, string> {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'aarch64', arm: 'arm', ia32: 'x86' };
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return { os, architecture: arch[process.arch] ?? process.arch };
}

/** Render a recipe object as JSON or YAML text. */
export function renderRecipe(raw: Record<string, unknown>, format: 'JSON' | 'YAML'): string {
  return format === 'JSON' ? JSON.stringify(raw, null, 2) : YAML.stringify(raw);
}

/** S3 bucket and key of an s3:// URI. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`${uri} is not an s3://<bucket>/<key> URI`);
  return { bucket: m[1], key: m[2] };
}

/** File name of an artifact on the device (the last segment of its URI). */
export function artifactFileName(uri: string): string {
  return uri.slice(uri.lastIndexOf('/') + 1);
}
