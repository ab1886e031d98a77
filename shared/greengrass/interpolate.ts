/**
 * Recipe variables in lifecycle scripts, as the nucleus resolves them: {configuration:/pointer},
 * {artifacts:path}, {artifacts:decompressedPath}, {work:path}, {kernel:rootPath}, {iot:thingName}, and
 * for direct dependencies {<Dependency>:configuration:/pointer} and {<Dependency>:artifacts:path}.
 * A configuration value that is an object or list becomes its JSON text; an unknown variable or a
 * missing value stays as written (AWS behaviour), so a typo shows in the component's log.
 */
import { getPointer } from './configuration';

/** What one component's variables resolve to. */
export interface ComponentPaths {
  configuration: Record<string, unknown>;
  artifactsPath: string;
  decompressedPath: string;
}

/** Everything the variables of one component can refer to. */
export interface InterpolationContext extends ComponentPaths {
  workPath: string;
  rootPath: string;
  thingName: string;
  /** Direct dependencies by name. */
  dependencies: Record<string, ComponentPaths>;
}

const VARIABLE = /\{(?:([a-zA-Z0-9-_.]+):)?(configuration|artifacts|work|kernel|iot):([^{}]*)\}/g;

/** Replace every recipe variable in text. */
export function interpolate(text: string, ctx: InterpolationContext): string {
  return text.replace(VARIABLE, (whole, dep: string | undefined, namespace: string, key: string) => {
    const target: ComponentPaths | undefined = dep === undefined ? ctx : ctx.dependencies[dep];
    if (!target) return whole;
    if (namespace === 'configuration') {
      const value = getPointer(target.configuration, key);
      if (value === undefined) return whole;
      return typeof value === 'string' ? value : JSON.stringify(value);
    }
    if (namespace === 'artifacts') {
      if (key === 'path') return target.artifactsPath;
      if (key === 'decompressedPath') return target.decompressedPath;
      return whole;
    }
    if (dep !== undefined) return whole; // work, kernel and iot have no per-dependency form
    if (namespace === 'work' && key === 'path') return ctx.workPath;
    if (namespace === 'kernel' && key === 'rootPath') return ctx.rootPath;
    if (namespace === 'iot' && key === 'thingName') return ctx.thingName;
    return whole;
  });
}
