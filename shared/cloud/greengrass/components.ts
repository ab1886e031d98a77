/**
 * Components of the Greengrass v2 control plane: CreateComponentVersion (inline recipe, artifacts in the
 * local S3), DescribeComponent, GetComponent, ListComponents, ListComponentVersions, DeleteComponent.
 *
 * A recipe is checked whole before anything is stored: syntax and fields (parseRecipe), version ranges,
 * dependency cycles through the stored versions, and every artifact, which must exist in S3 and match
 * the Digest the recipe gives; the service then writes each artifact's SHA-256 Digest into the recipe,
 * as AWS does, so the nucleus can verify what it downloads.
 */
import { createHash } from 'node:crypto';
import semver from 'semver';
import type { Clock, Collection } from '../contracts';
import { field, parseRecipe, parseS3Uri, RecipeError, renderRecipe, type Recipe } from '../../greengrass/recipe';
import { findCycle } from '../../greengrass/resolve';
import { conflict, notFound, validation } from './errors';
import { componentArn, componentVersionArn, parseComponentArn, type ComponentVersionRecord } from './model';

/** Streams an S3 object's bytes, or resolves undefined when the bucket or key does not exist. */
export type S3Reader = (bucket: string, key: string) => Promise<AsyncIterable<Uint8Array> | undefined>;

/** What the component operations need. */
export interface ComponentDeps {
  clock: Clock;
  region: string;
  accountId: string;
  components: Collection<ComponentVersionRecord>;
  readS3: S3Reader;
  /** True when an active deployment uses this component version (DeleteComponent refuses it). */
  inUse: (name: string, version: string) => boolean;
}

type Obj = Record<string, unknown>;

function recordId(name: string, version: string): string {
  return `${name}@${version}`;
}

/** The component versions the cloud holds, with their parsed recipes. */
export class ComponentCatalog {
  private readonly parsed = new Map<string, Recipe>();

  constructor(private readonly components: Collection<ComponentVersionRecord>) {}

  /** One stored version, or undefined. */
  get(name: string, version: string): ComponentVersionRecord | undefined {
    return this.components.get(recordId(name, version));
  }

  /** Parsed recipe of a stored version (cached). */
  recipe(record: ComponentVersionRecord): Recipe {
    const id = recordId(record.name, record.version);
    let r = this.parsed.get(id);
    if (!r) {
      r = parseRecipe(record.recipe);
      this.parsed.set(id, r);
    }
    return r;
  }

  /** Every stored version of a component, newest first. */
  versions(name: string): ComponentVersionRecord[] {
    return this.components
      .values()
      .filter((c) => c.name === name)
      .sort((a, b) => semver.rcompare(a.version, b.version));
  }

  /** Parsed recipes of every version of a component (the resolver's RecipeSource). */
  recipes = (name: string): Recipe[] => this.versions(name).map((r) => this.recipe(r));

  /** Forget a deleted version's parsed recipe. */
  forget(name: string, version: string): void {
    this.parsed.delete(recordId(name, version));
  }
}

/** SHA-256 (base64) of a stream. */
async function sha256Base64(body: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk);
  return hash.digest('base64');
}

/** Set a key on a recipe object, keeping the case of an existing key. */
function setField(obj: Obj, key: string, value: unknown): void {
  const existing = Object.keys(obj).find((k) => k.toLowerCase() === key.toLowerCase());
  obj[existing ?? key] = value;
}

/** Check every artifact in S3 and write its Digest into the recipe copy; throws ValidationException. */
async function digestArtifacts(raw: Obj, readS3: S3Reader): Promise<void> {
  const problems: { name: string; message: string }[] = [];
  const manifests = field(raw, 'Manifests');
  for (const [i, m] of (Array.isArray(manifests) ? manifests : []).entries()) {
    const artifacts = field(m as Obj, 'Artifacts');
    for (const [j, a] of (Array.isArray(artifacts) ? artifacts : []).entries()) {
      const where = `Manifests[${i}].Artifacts[${j}]`;
      const uri = field(a as Obj, 'URI') as string;
      const { bucket, key } = parseS3Uri(uri);
      const body = await readS3(bucket, key);
      if (!body) {
        problems.push({ name: `${where}.URI`, message: `artifact ${uri} does not exist in S3; upload it before creating the component version` });
        continue;
      }
      const digest = await sha256Base64(body);
      const given = field(a as Obj, 'Digest');
      if (given !== undefined && given !== digest) {
        problems.push({ name: `${where}.Digest`, message: `artifact ${uri} has SHA-256 ${digest}, the recipe says ${String(given)} (hash mismatch)` });
        continue;
      }
      setField(a as Obj, 'Digest', digest);
      setField(a as Obj, 'Algorithm', 'SHA-256');
    }
  }
  if (problems.length > 0) throw validation(`The recipe's artifacts are not usable: ${problems.map((p) => p.message).join('; ')}`, problems);
}

/** Component version ARN from a path parameter, or ValidationException. */
function versionArnParam(arn: string): { name: string; version: string } {
  const parsed = parseComponentArn(arn);
  if (!parsed?.version) throw validation(`${arn} is not a component version ARN (arn:aws:greengrass:<region>:<account>:components:<name>:versions:<version>)`, [{ name: 'arn', message: 'not a component version ARN' }]);
  return { name: parsed.name, version: parsed.version };
}

function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** The component operations, keyed by action. */
export function componentOperations(deps: ComponentDeps, catalog: ComponentCatalog) {
  const { region, accountId } = deps;
  const found = (arn: string): ComponentVersionRecord => {
    const { name, version } = versionArnParam(arn);
    const record = catalog.get(name, version);
    if (!record) throw notFound(`Component ${name} version ${version} does not exist`, arn, 'COMPONENT_VERSION');
    return record;
  };
  const platformsOf = (recipe: Recipe): ComponentVersionRecord['platforms'] => recipe.manifests.map((m) => ({ attributes: { ...m.platform } }));
  const status = { componentState: 'DEPLOYABLE', message: 'NONE', errors: {} };

  return {
    /** CreateComponentVersion: validate everything, then store. */
    async createComponentVersion(body: Obj): Promise<Obj> {
      if (body.lambdaFunction !== undefined) throw validation('lambdaFunction components are not supported by the local cloud; give an inlineRecipe', [{ name: 'lambdaFunction', message: 'not supported' }]);
      if (typeof body.inlineRecipe !== 'string' || body.inlineRecipe === '') throw validation('inlineRecipe is required (the recipe, YAML or JSON)', [{ name: 'inlineRecipe', message: 'is required' }]);
      const text = Buffer.from(body.inlineRecipe, 'base64').toString('utf8');
      let recipe: Recipe;
      try {
        recipe = parseRecipe(text);
      } catch (err) {
        if (err instanceof RecipeError) throw validation(`The recipe is invalid: ${err.problems.map((p) => `${p.name} ${p.message}`).join('; ')}`, err.problems);
        throw err;
      }
      const arn = componentVersionArn(region, accountId, recipe.name, recipe.version);
      if (catalog.get(recipe.name, recipe.version)) throw conflict(`Component ${recipe.name} version ${recipe.version} already exists`, arn, 'COMPONENT_VERSION');
      const cycle = findCycle(recipe, catalog.recipes);
      if (cycle) throw validation(`The recipe's dependencies form a cycle: ${cycle}`, [{ name: 'ComponentDependencies', message: `dependency cycle ${cycle}` }]);
      const raw = JSON.parse(JSON.stringify(recipe.raw)) as Obj;
      await digestArtifacts(raw, deps.readS3);
      // Artifact checks were asynchronous: the same version may have been created meanwhile.
      if (catalog.get(recipe.name, recipe.version)) throw conflict(`Component ${recipe.name} version ${recipe.version} already exists`, arn, 'COMPONENT_VERSION');
      const tags = (body.tags ?? {}) as Record<string, string>;
      const createdAt = deps.clock.now();
      deps.components.put(recordId(recipe.name, recipe.version), {
        name: recipe.name,
        version: recipe.version,
        arn,
        recipe: raw,
        description: recipe.description,
        publisher: recipe.publisher,
        platforms: platformsOf(recipe),
        tags,
        createdAt,
      });
      return { arn, componentName: recipe.name, componentVersion: recipe.version, creationTimestamp: epochSeconds(createdAt), status };
    },

    /** DescribeComponent. */
    describeComponent(arn: string): Obj {
      const r = found(arn);
      return { arn: r.arn, componentName: r.name, componentVersion: r.version, creationTimestamp: epochSeconds(r.createdAt), publisher: r.publisher, description: r.description, status, platforms: r.platforms, tags: r.tags };
    },

    /** GetComponent: the recipe (with digests) as JSON or YAML, base64. */
    getComponent(arn: string, format: string | null): Obj {
      const r = found(arn);
      const out = (format ?? 'JSON').toUpperCase();
      if (out !== 'JSON' && out !== 'YAML') throw validation(`recipeOutputFormat must be JSON or YAML, got ${format}`, [{ name: 'recipeOutputFormat', message: 'must be JSON or YAML' }]);
      return { recipeOutputFormat: out, recipe: Buffer.from(renderRecipe(r.recipe, out)).toString('base64'), tags: r.tags };
    },

    /** ListComponents (private scope): each component with its latest version. */
    listComponents(scope: string | null): Obj[] {
      if (scope === 'PUBLIC') return [];
      if (scope !== null && scope !== 'PRIVATE') throw validation(`scope must be PRIVATE or PUBLIC, got ${scope}`, [{ name: 'scope', message: 'must be PRIVATE or PUBLIC' }]);
      const names = [...new Set(deps.components.values().map((c) => c.name))].sort();
      return names.map((name) => {
        const latest = catalog.versions(name)[0];
        return {
          arn: componentArn(region, accountId, name),
          componentName: name,
          latestVersion: { arn: latest.arn, componentVersion: latest.version, creationTimestamp: epochSeconds(latest.createdAt), description: latest.description, publisher: latest.publisher, platforms: latest.platforms },
        };
      });
    },

    /** ListComponentVersions, newest first. */
    listComponentVersions(arn: string): Obj[] {
      const parsed = parseComponentArn(arn);
      if (!parsed || parsed.version !== undefined) throw validation(`${arn} is not a component ARN (arn:aws:greengrass:<region>:<account>:components:<name>)`, [{ name: 'arn', message: 'not a component ARN' }]);
      const versions = catalog.versions(parsed.name);
      if (versions.length === 0) throw notFound(`Component ${parsed.name} does not exist`, arn, 'COMPONENT');
      return versions.map((v) => ({ componentName: v.name, componentVersion: v.version, arn: v.arn }));
    },

    /** DeleteComponent: refused while an active deployment uses the version. */
    deleteComponent(arn: string): void {
      const r = found(arn);
      if (deps.inUse(r.name, r.version)) throw conflict(`Component ${r.name} version ${r.version} is used by an active deployment; cancel or replace it first`, arn, 'COMPONENT_VERSION');
      deps.components.delete(recordId(r.name, r.version));
      catalog.forget(r.name, r.version);
    },
  };
}
