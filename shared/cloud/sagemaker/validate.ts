/**
 * Input checks for the SageMaker subset. The SDK validates nothing on the client side, so the emulator
 * checks required members, lengths, patterns and enums as the service model states them, and answers
 * the first violation in SageMaker's own wording:
 *   1 validation error detected: Value 'x' at 'deviceFleetName' failed to satisfy constraint: ...
 */
import { validationError } from './errors';

type Json = Record<string, unknown>;

/** NAME: fleets, devices, jobs, model package groups. */
export const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
/** VER: ModelVersion of an edge packaging job. */
export const MODEL_VERSION = /^[a-zA-Z0-9 _.]+$/;
/** S3 URIs (s3:// or https://). */
export const S3_URI = /^(https|s3):\/\/([^/]+)\/?(.*)$/;
/** IAM role ARN. */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
/** Free-text descriptions of fleets and devices. */
export const DESCRIPTION = /^[-a-zA-Z0-9_.,;:! ]*$/;
/** IoT thing names. */
export const THING_NAME = /^[a-zA-Z0-9:_-]+$/;

/** Lower-camel member path as SageMaker's messages print it (DeviceFleetName → deviceFleetName). */
function memberPath(path: string): string {
  return path
    .split('.')
    .map((p) => p.charAt(0).toLowerCase() + p.slice(1))
    .join('.');
}

/** A ValidationException in SageMaker's wording for one failed constraint. */
export function constraintError(path: string, value: unknown, constraint: string): Error {
  const shown = value === undefined || value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
  return validationError(`1 validation error detected: Value ${shown} at '${memberPath(path)}' failed to satisfy constraint: ${constraint}`);
}

export interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: RegExp;
  oneOf?: readonly string[];
}

export interface ListRule {
  required?: boolean;
  min?: number;
  max?: number;
}

/** Reads members of one JSON object of a request, checking each against its rule. */
export class Fields {
  constructor(
    readonly body: Json,
    private readonly prefix = '',
  ) {}

  /** Parse a request body (empty = {}); anything but a JSON object is a ValidationException. */
  static parse(body: Buffer, action: string): Fields {
    const text = body.toString('utf8').trim();
    if (text === '') return new Fields({});
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw validationError(`${action}: the request body is not valid JSON (${(err as Error).message})`);
    }
    if (!isObject(parsed)) throw validationError(`${action}: the request body must be a JSON object`);
    return new Fields(parsed);
  }

  private path(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  private present(name: string, required: boolean | undefined): unknown {
    const v = this.body[name];
    if (v === undefined || v === null) {
      if (required) throw constraintError(this.path(name), undefined, 'Member must not be null');
      return undefined;
    }
    return v;
  }

  /** A string member. */
  string(name: string, rule: StringRule & { required: true }): string;
  string(name: string, rule?: StringRule): string | undefined;
  string(name: string, rule: StringRule = {}): string | undefined {
    const v = this.present(name, rule.required);
    if (v === undefined) return undefined;
    const path = this.path(name);
    if (typeof v !== 'string') throw constraintError(path, v, 'Member must be a string');
    if (rule.min !== undefined && v.length < rule.min) throw constraintError(path, v, `Member must have length greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && v.length > rule.max) throw constraintError(path, v, `Member must have length less than or equal to ${rule.max}`);
    if (rule.pattern && !rule.pattern.test(v)) throw constraintError(path, v, `Member must satisfy regular expression pattern: ${rule.pattern.source}`);
    if (rule.oneOf && !rule.oneOf.includes(v)) throw constraintError(path, v, `Member must satisfy enum value set: [${rule.oneOf.join(', ')}]`);
    return v;
  }

  /** An enum member. */
  enumOf<T extends string>(name: string, values: readonly T[], required?: boolean): T | undefined {
    return this.string(name, { required, oneOf: values }) as T | undefined;
  }

  /** A whole-number member within [min, max]. */
  integer(name: string, min: number, max: number, required?: boolean): number | undefined {
    const v = this.present(name, required);
    if (v === undefined) return undefined;
    const path = this.path(name);
    if (typeof v !== 'number' || !Number.isInteger(v)) throw constraintError(path, v, 'Member must be a whole number');
    if (v < min) throw constraintError(path, v, `Member must have value greater than or equal to ${min}`);
    if (v > max) throw constraintError(path, v, `Member must have value less than or equal to ${max}`);
    return v;
  }

  /** A boolean member. */
  boolean(name: string): boolean | undefined {
    const v = this.present(name, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw constraintError(this.path(name), v, 'Member must be a boolean');
    return v;
  }

  /** A timestamp member (epoch seconds on the wire), as epoch milliseconds. */
  time(name: string): number | undefined {
    const v = this.present(name, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw constraintError(this.path(name), v, 'Member must be a timestamp in epoch seconds');
    return v * 1000;
  }

  /** A nested structure member. */
  object(name: string, required: true): Fields;
  object(name: string, required?: boolean): Fields | undefined;
  object(name: string, required?: boolean): Fields | undefined {
    const v = this.present(name, required);
    if (v === undefined) return undefined;
    if (!isObject(v)) throw constraintError(this.path(name), v, 'Member must be a structure');
    return new Fields(v, this.path(name));
  }

  /** A list member whose elements are read by `each` (given the element and its path). */
  list<T>(name: string, rule: ListRule, each: (item: unknown, path: string) => T): T[] | undefined {
    const v = this.present(name, rule.required);
    if (v === undefined) return undefined;
    const path = this.path(name);
    if (!Array.isArray(v)) throw constraintError(path, v, 'Member must be a list');
    if (rule.min !== undefined && v.length < rule.min) throw constraintError(path, v, `Member must have length greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && v.length > rule.max) throw constraintError(path, v, `Member must have length less than or equal to ${rule.max}`);
    return v.map((item, i) => each(item, `${path}.${i + 1}`));
  }

  /** A list of structures. */
  structures<T>(name: string, rule: ListRule, each: (f: Fields) => T): T[] | undefined {
    return this.list(name, rule, (item, path) => {
      if (!isObject(item)) throw constraintError(path, item, 'Member must be a structure');
      return each(new Fields(item, path));
    });
  }

  /** A list of strings, each checked against rule. */
  strings(name: string, rule: ListRule, item: StringRule = {}): string[] | undefined {
    return this.list(name, rule, (v, path) => {
      const [parent, key] = [path.slice(0, path.lastIndexOf('.')), path.slice(path.lastIndexOf('.') + 1)];
      return new Fields({ [key]: v }, parent).string(key, { ...item, required: true });
    });
  }

  /** A string→string map member with 1..max entries. */
  stringMap(name: string, max: number, key: StringRule, value: StringRule): Record<string, string> | undefined {
    const v = this.present(name, false);
    if (v === undefined) return undefined;
    const path = this.path(name);
    if (!isObject(v)) throw constraintError(path, v, 'Member must be a map');
    const entries = Object.entries(v);
    if (entries.length < 1) throw constraintError(path, v, 'Member must have length greater than or equal to 1');
    if (entries.length > max) throw constraintError(path, v, `Member must have length less than or equal to ${max}`);
    const out: Record<string, string> = {};
    for (const [k, val] of entries) {
      new Fields({ key: k }, `${path}.${k}`).string('key', { ...key, required: true });
      out[k] = new Fields({ value: val }, `${path}.${k}`).string('value', { ...value, required: true });
    }
    return out;
  }

  /** Tags: ≤50 {Key 1–128, Value ≤256}. */
  tags(): { Key: string; Value: string }[] | undefined {
    return this.structures('Tags', { max: 50 }, (t) => ({
      Key: t.string('Key', { required: true, min: 1, max: 128 }),
      Value: t.string('Value', { required: true, max: 256 }),
    }));
  }
}

/** True for a plain JSON object. */
export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Split an s3:// or https:// URI into bucket and key (path-style https URLs: /bucket/key). */
export function parseS3Uri(uri: string, path: string): { bucket: string; key: string } {
  const m = S3_URI.exec(uri);
  if (!m) throw constraintError(path, uri, `Member must satisfy regular expression pattern: ${S3_URI.source}`);
  if (m[1] === 's3') return { bucket: m[2], key: m[3] };
  // Virtual-host style: https://<bucket>.s3[.<region>].amazonaws.com/<key>
  const vhost = /^(.+)\.s3[.-]/.exec(m[2]);
  if (vhost) return { bucket: vhost[1], key: m[3] };
  const rest = m[3].split('/');
  const bucket = rest.shift() ?? '';
  if (bucket === '') throw constraintError(path, uri, 'Member must name a bucket: https://<host>/<bucket>/<key>');
  return { bucket, key: rest.join('/') };
}
