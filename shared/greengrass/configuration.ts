/**
 * Component configuration as the nucleus computes it for a deployment (AWS "update component
 * configurations"): start from the configuration the component runs with now, drop every `reset` JSON
 * pointer (`""` resets everything), let DefaultConfiguration fill what is missing (it never overwrites),
 * then apply `merge` (objects merged key by key, lists and scalars replaced whole).
 */

type Json = unknown;
type Obj = Record<string, Json>;

/** A deployment's configurationUpdate for one component. */
export interface ConfigurationUpdate {
  /** Object to merge (the API sends it as a JSON string; parseConfigurationUpdate turns it into this). */
  merge?: Obj;
  /** JSON pointers to reset to their defaults. */
  reset?: string[];
}

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Segments of an RFC 6901 JSON pointer; throws on a pointer that does not start with "/". */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`"${pointer}" is not a JSON pointer (it must be "" or start with "/")`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value at a JSON pointer, or undefined. */
export function getPointer(doc: Json, pointer: string): Json {
  let cur = doc;
  for (const seg of pointerSegments(pointer)) {
    if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
    else if (isObj(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

/** Remove the value at a pointer from an object (in place); list items cannot be reset, as in AWS. */
function removePointer(doc: Obj, pointer: string): void {
  const segs = pointerSegments(pointer);
  let cur: Json = doc;
  for (const seg of segs.slice(0, -1)) {
    if (Array.isArray(cur)) throw new Error(`reset pointer "${pointer}" points into a list; reset the whole list instead`);
    if (!isObj(cur)) return;
    cur = cur[seg];
  }
  if (Array.isArray(cur)) throw new Error(`reset pointer "${pointer}" points into a list; reset the whole list instead`);
  if (isObj(cur)) delete cur[segs[segs.length - 1]];
}

/** Fill keys missing in target from source, recursively; never overwrites (defaults). */
function fillGaps(target: Obj, source: Obj): void {
  for (const [k, v] of Object.entries(source)) {
    if (!(k in target)) target[k] = clone(v);
    else if (isObj(target[k]) && isObj(v)) fillGaps(target[k] as Obj, v);
  }
}

/** Merge source into target: objects key by key, everything else (lists too) replaced. */
function deepMerge(target: Obj, source: Obj): void {
  for (const [k, v] of Object.entries(source)) {
    if (isObj(v) && isObj(target[k])) deepMerge(target[k] as Obj, v);
    else target[k] = clone(v);
  }
}

/**
 * The configuration a component runs with after a deployment: current (undefined for a first install),
 * the recipe's defaults and the deployment's update. Pure; throws on a bad reset pointer.
 */
export function applyConfigurationUpdate(current: Obj | undefined, defaults: Obj, update: ConfigurationUpdate = {}): Obj {
  let config: Obj = clone(current) ?? {};
  for (const pointer of update.reset ?? []) {
    if (pointer === '') config = {};
    else removePointer(config, pointer);
  }
  fillGaps(config, defaults);
  if (update.merge) deepMerge(config, update.merge);
  return config;
}

/**
 * Validate and normalise a configurationUpdate as the API sends it (`merge` a JSON string, `reset` a
 * list of pointers); returns the problem as text, or the update.
 */
export function parseConfigurationUpdate(raw: unknown, where: string): ConfigurationUpdate | string {
  if (raw === undefined || raw === null) return {};
  if (!isObj(raw)) return `${where} must be an object with merge and/or reset`;
  const out: ConfigurationUpdate = {};
  if (raw.merge !== undefined) {
    let merge: Json = raw.merge;
    if (typeof merge === 'string') {
      try {
        merge = JSON.parse(merge);
      } catch (err) {
        return `${where}.merge is not valid JSON (${(err as Error).message})`;
      }
    }
    if (!isObj(merge)) return `${where}.merge must be a JSON object`;
    out.merge = merge;
  }
  if (raw.reset !== undefined) {
    if (!Array.isArray(raw.reset) || raw.reset.some((p) => typeof p !== 'string')) return `${where}.reset must be a list of JSON pointers`;
    for (const p of raw.reset as string[]) {
      try {
        pointerSegments(p);
      } catch (err) {
        return `${where}.reset: ${(err as Error).message}`;
      }
    }
    out.reset = raw.reset as string[];
  }
  return out;
}
