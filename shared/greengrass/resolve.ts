/**
 * Component graph resolution: from the deployment's root components and their version requirements,
 * pick one version of every component reached through ComponentDependencies, the highest that satisfies
 * every requirement on it (npm range syntax, as the nucleus's semver4j reads it). A conflict names the
 * component, every range asked of it and who asked; a cycle names its path.
 */
import semver from 'semver';
import type { Recipe } from './recipe';

/** Every known version of a component (any order); empty when the component is unknown. */
export type RecipeSource = (name: string) => Recipe[];

/** One requirement on a component: the range and who asked for it. */
export interface Requirement {
  range: string;
  /** `deployment` for a root, else `<component> <version>`. */
  from: string;
}

/** Raised when no set of versions satisfies the requirements, or the graph has a cycle. */
export class ResolutionError extends Error {
  constructor(message: string, readonly component: string) {
    super(message);
    this.name = 'ResolutionError';
  }
}

const MAX_ROUNDS = 50;

function describe(name: string, reqs: Requirement[], available: Recipe[]): string {
  const asked = reqs.map((r) => `"${r.range}" (required by ${r.from})`).join(' and ');
  const have = available.length === 0 ? 'no version is known' : `available: ${available.map((r) => r.version).sort(semver.compare).join(', ')}`;
  return `component ${name}: no version satisfies ${asked}; ${have}`;
}

/** Requirements reached from the roots through the currently chosen versions. */
function collect(roots: Record<string, string>, chosen: Map<string, Recipe>): Map<string, Requirement[]> {
  const reqs = new Map<string, Requirement[]>();
  const add = (name: string, r: Requirement): void => {
    const list = reqs.get(name) ?? [];
    list.push(r);
    reqs.set(name, list);
  };
  const queue: string[] = [];
  for (const [name, range] of Object.entries(roots)) {
    add(name, { range, from: 'deployment' });
    queue.push(name);
  }
  const seen = new Set<string>();
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const recipe = chosen.get(name);
    if (!recipe) continue;
    for (const [dep, spec] of Object.entries(recipe.dependencies)) {
      add(dep, { range: spec.versionRequirement, from: `${recipe.name} ${recipe.version}` });
      queue.push(dep);
    }
  }
  return reqs;
}

/**
 * Resolve roots (component name → exact version or range) into one recipe per component, in start
 * order (dependencies first). Throws ResolutionError on a conflict or a cycle.
 */
export function resolveComponents(roots: Record<string, string>, source: RecipeSource): Recipe[] {
  let chosen = new Map<string, Recipe>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const reqs = collect(roots, chosen);
    const next = new Map<string, Recipe>();
    for (const [name, list] of reqs) {
      const available = source(name);
      const fits = available.filter((r) => list.every((q) => semver.satisfies(r.version, q.range, { includePrerelease: true })));
      if (fits.length === 0) throw new ResolutionError(describe(name, list, available), name);
      next.set(name, fits.sort((a, b) => semver.rcompare(a.version, b.version))[0]);
    }
    const settled = next.size === chosen.size && [...next].every(([n, r]) => chosen.get(n)?.version === r.version);
    chosen = next;
    if (settled) return startOrder(chosen);
  }
  throw new ResolutionError(`the versions did not settle after ${MAX_ROUNDS} rounds (requirements keep changing with the versions chosen)`, Object.keys(roots)[0] ?? '');
}

/** Chosen components with every dependency before its dependers; throws on a cycle, naming it. */
export function startOrder(chosen: Map<string, Recipe>): Recipe[] {
  const order: Recipe[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new ResolutionError(`dependency cycle: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`, name);
    const recipe = chosen.get(name);
    if (!recipe) return;
    state.set(name, 'visiting');
    for (const dep of Object.keys(recipe.dependencies).sort()) visit(dep, [...path, name]);
    state.set(name, 'done');
    order.push(recipe);
  };
  for (const name of [...chosen.keys()].sort()) visit(name, []);
  return order;
}

/**
 * A dependency cycle the new recipe would close with the stored versions: the path
 * `A 1.0.0 -> B 2.0.0 -> A` when some stored version reachable through the ranges requires the new
 * component in a range its version satisfies; undefined when there is none.
 */
export function findCycle(recipe: Recipe, source: RecipeSource): string | undefined {
  const seen = new Set<string>();
  const walk = (current: Recipe, path: string[]): string | undefined => {
    for (const [dep, spec] of Object.entries(current.dependencies)) {
      if (dep === recipe.name) {
        if (semver.satisfies(recipe.version, spec.versionRequirement, { includePrerelease: true })) return [...path, dep].join(' -> ');
        continue;
      }
      for (const candidate of source(dep)) {
        if (!semver.satisfies(candidate.version, spec.versionRequirement, { includePrerelease: true })) continue;
        const id = `${candidate.name} ${candidate.version}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const found = walk(candidate, [...path, id]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(recipe, [`${recipe.name} ${recipe.version}`]);
}
