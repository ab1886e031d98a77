/**
 * Device Shadow documents as AWS IoT keeps them: desired/reported merge with null deletion, per-leaf
 * metadata timestamps, delta, versions, and the request validation with AWS's error codes and messages.
 * Pure: the caller passes the stored shadow and the time, and stores what comes back.
 */

/** A JSON object as shadows hold it. */
export type JsonObject = { [key: string]: JsonValue };
/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** What the store keeps per shadow (classic: shadowName ''). A deleted shadow keeps its version. */
export interface StoredShadow {
  thingName: string;
  shadowName: string;
  desired?: JsonObject;
  reported?: JsonObject;
  metadata: { desired?: JsonObject; reported?: JsonObject };
  version: number;
  /** False after a delete: the version survives so a re-created shadow continues it. */
  exists: boolean;
}

/** A rejected request, as published on …/rejected: HTTP-style code and AWS's message. */
export class ShadowError extends Error {
  constructor(
    readonly code: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500,
    message: string,
  ) {
    super(message);
    this.name = 'ShadowError';
  }
}

/** AWS IoT shadow limits. */
export const SHADOW_LIMITS = {
  /** Bytes of desired + reported (metadata not counted). */
  maxStateBytes: 8 * 1024,
  /** Levels of nesting within desired or reported. */
  maxDepth: 6,
  maxClientTokenBytes: 64,
  maxShadowNameLength: 64,
  maxThingNameLength: 128,
};

const SHADOW_NAME = /^[$a-zA-Z0-9:_-]+$/;
const THING_NAME = /^[a-zA-Z0-9:_-]+$/;

/** Why a thing or shadow name is invalid, or undefined when valid. */
export function shadowNameProblem(thingName: string, shadowName: string): string | undefined {
  if (!THING_NAME.test(thingName) || thingName.length > SHADOW_LIMITS.maxThingNameLength) return `Invalid thing name: '${thingName}'`;
  if (shadowName !== '' && (!SHADOW_NAME.test(shadowName) || shadowName.length > SHADOW_LIMITS.maxShadowNameLength)) {
    return `Invalid shadow name: '${shadowName}'`;
  }
  return undefined;
}

/** The name AWS puts in "No shadow exists" messages: thing, or thing~shadow for a named shadow. */
function displayName(thingName: string, shadowName: string): string {
  return shadowName ? `${thingName}~${shadowName}` : thingName;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse a request payload; an empty payload is {}. Throws ShadowError 400 on anything else than a JSON object. */
export function parseShadowRequest(payload: Buffer | string): JsonObject {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ShadowError(400, 'Invalid JSON');
  }
  if (!isObject(value)) throw new ShadowError(400, 'Invalid JSON');
  return value;
}

/** The request's clientToken (to echo), validated: a string of at most 64 bytes. */
export function clientTokenOf(request: JsonObject): string | undefined {
  const token = request.clientToken;
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || Buffer.byteLength(token) > SHADOW_LIMITS.maxClientTokenBytes) {
    throw new ShadowError(400, 'Invalid clientToken');
  }
  return token;
}

function depth(v: JsonValue): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depth));
  if (isObject(v)) return 1 + Math.max(0, ...Object.values(v).map(depth));
  return 0;
}

/** Merge patch into target (copies): objects recursively, arrays and scalars replaced, null deletes. */
function merge(target: JsonObject | undefined, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...(target ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isObject(v)) {
      const merged = merge(isObject(out[k]) ? (out[k] as JsonObject) : undefined, v);
      // An object emptied by null deletions goes away with its last key.
      if (Object.keys(merged).length === 0 && Object.keys(v).length > 0) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  return out;
}

/** Metadata mirroring value: {timestamp} at each leaf, arrays of them for arrays; null stays null (deletion). */
function metadataFor(value: JsonValue, timestamp: number): JsonValue {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((v) => metadataFor(v, timestamp));
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = metadataFor(v, timestamp);
    return out;
  }
  return { timestamp };
}

/** Merge metadata: like merge, but a patch leaf {timestamp} replaces, and an object patch over a leaf replaces it. */
function mergeMetadata(target: JsonObject | undefined, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...(target ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isObject(v) && !('timestamp' in v && Object.keys(v).length === 1)) {
      const merged = mergeMetadata(isObject(out[k]) && !isLeafMeta(out[k]) ? (out[k] as JsonObject) : undefined, v);
      if (Object.keys(merged).length === 0 && Object.keys(v).length > 0) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  return out;
}

function isLeafMeta(v: JsonValue): boolean {
  return isObject(v) && Object.keys(v).length === 1 && typeof v.timestamp === 'number';
}

function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The delta: desired fields missing from reported or different there. Nested objects keep only the paths
 * to differing leaves; arrays compare whole; reported-only keys are left out.
 */
export function computeDelta(desired: JsonObject | undefined, reported: JsonObject | undefined): JsonObject | undefined {
  if (!desired) return undefined;
  const out: JsonObject = {};
  for (const [k, d] of Object.entries(desired)) {
    const r = reported?.[k];
    if (isObject(d) && isObject(r)) {
      const inner = computeDelta(d, r);
      if (inner) out[k] = inner;
    } else if (!jsonEqual(d, r)) out[k] = d;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Metadata of the delta's fields, taken from the desired metadata. */
function deltaMetadata(delta: JsonObject, desiredMeta: JsonObject | undefined): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(delta)) {
    const m = desiredMeta?.[k];
    if (isObject(v) && isObject(m) && !isLeafMeta(m)) out[k] = deltaMetadata(v, m);
    else if (m !== undefined) out[k] = m;
  }
  return out;
}

function stateBytes(desired: JsonObject | undefined, reported: JsonObject | undefined): number {
  return Buffer.byteLength(JSON.stringify({ desired: desired ?? {}, reported: reported ?? {} }));
}

function stateOf(s: StoredShadow): { state: JsonObject; metadata: JsonObject } {
  const state: JsonObject = {};
  const metadata: JsonObject = {};
  if (s.desired) {
    state.desired = s.desired;
    metadata.desired = s.metadata.desired ?? {};
  }
  if (s.reported) {
    state.reported = s.reported;
    metadata.reported = s.metadata.reported ?? {};
  }
  return { state, metadata };
}

function withToken(doc: JsonObject, clientToken: string | undefined): JsonObject {
  if (clientToken !== undefined) doc.clientToken = clientToken;
  return doc;
}

/** A new, never-updated shadow record (version 0, not existing). */
export function emptyShadow(thingName: string, shadowName: string): StoredShadow {
  return { thingName, shadowName, metadata: {}, version: 0, exists: false };
}

/** The get/accepted document, or ShadowError 404 when the shadow does not exist (pass emptyShadow() for an unknown one). */
export function getShadow(stored: StoredShadow, clientToken: string | undefined, nowSeconds: number): JsonObject {
  if (!stored.exists) throw new ShadowError(404, `No shadow exists with name: '${displayName(stored.thingName, stored.shadowName)}'`);
  const { state, metadata } = stateOf(stored);
  const delta = computeDelta(stored.desired, stored.reported);
  if (delta) state.delta = delta;
  return withToken({ state, metadata, version: stored.version, timestamp: nowSeconds }, clientToken);
}

/** What an accepted update produces: the new record and the documents to publish. */
export interface ShadowUpdateResult {
  shadow: StoredShadow;
  accepted: JsonObject;
  /** Present when desired differs from reported after the update. */
  delta?: JsonObject;
  documents: JsonObject;
}

/** Apply an update request (parsed JSON) to a shadow; throws ShadowError with AWS's code and message. */
export function updateShadow(
  stored: StoredShadow,
  request: JsonObject,
  clientToken: string | undefined,
  nowSeconds: number,
): ShadowUpdateResult {
  if (!('state' in request)) throw new ShadowError(400, 'Missing required node: state');
  const state = request.state;
  if (state !== null && !isObject(state)) throw new ShadowError(400, 'State node must be an object');
  if (request.version !== undefined) {
    if (typeof request.version !== 'number' || !Number.isInteger(request.version) || request.version < 0) {
      throw new ShadowError(400, 'Invalid version');
    }
    if (request.version !== stored.version) throw new ShadowError(409, 'Version conflict');
  }
  let desired = stored.desired;
  let reported = stored.reported;
  let metaDesired = stored.metadata.desired;
  let metaReported = stored.metadata.reported;
  const acceptedState: JsonObject = {};
  const acceptedMeta: JsonObject = {};
  if (state === null) {
    // "state": null empties the shadow but keeps it (and bumps the version).
    desired = undefined;
    reported = undefined;
    metaDesired = undefined;
    metaReported = undefined;
  } else {
    for (const key of Object.keys(state)) {
      if (key !== 'desired' && key !== 'reported') throw new ShadowError(400, `State contains an invalid node: '${key}'`);
    }
    for (const section of ['desired', 'reported'] as const) {
      if (!(section in state)) continue;
      const patch = state[section];
      const label = section === 'desired' ? 'Desired' : 'Reported';
      if (patch !== null && !isObject(patch)) throw new ShadowError(400, `${label} node must be an object`);
      if (patch !== null && depth(patch) > SHADOW_LIMITS.maxDepth) {
        throw new ShadowError(400, `JSON contains too many levels of nesting; maximum is ${SHADOW_LIMITS.maxDepth}`);
      }
      acceptedState[section] = patch;
      const meta = patch === null ? null : (metadataFor(patch, nowSeconds) as JsonObject);
      acceptedMeta[section] = meta;
      if (section === 'desired') {
        desired = patch === null ? undefined : merge(desired, patch);
        metaDesired = meta === null ? undefined : mergeMetadata(metaDesired, meta);
      } else {
        reported = patch === null ? undefined : merge(reported, patch);
        metaReported = meta === null ? undefined : mergeMetadata(metaReported, meta);
      }
    }
  }
  if (stateBytes(desired, reported) > SHADOW_LIMITS.maxStateBytes) {
    throw new ShadowError(413, 'The payload exceeds the maximum size allowed');
  }
  const shadow: StoredShadow = {
    thingName: stored.thingName,
    shadowName: stored.shadowName,
    metadata: {},
    version: stored.version + 1,
    exists: true,
  };
  if (desired) {
    shadow.desired = desired;
    shadow.metadata.desired = metaDesired ?? {};
  }
  if (reported) {
    shadow.reported = reported;
    shadow.metadata.reported = metaReported ?? {};
  }
  const accepted = withToken(
    { state: state === null ? {} : acceptedState, metadata: acceptedMeta, version: shadow.version, timestamp: nowSeconds },
    clientToken,
  );
  const delta = computeDelta(shadow.desired, shadow.reported);
  const current = { ...stateOf(shadow), version: shadow.version };
  const documents: JsonObject = { current, timestamp: nowSeconds };
  // On creation there is no previous document.
  if (stored.exists) documents.previous = { ...stateOf(stored), version: stored.version };
  withToken(documents, clientToken);
  const result: ShadowUpdateResult = { shadow, accepted, documents };
  if (delta) {
    result.delta = withToken(
      { version: shadow.version, timestamp: nowSeconds, state: delta, metadata: deltaMetadata(delta, shadow.metadata.desired) },
      clientToken,
    );
  }
  return result;
}

/** Delete a shadow: the tombstone to store and the delete/accepted document; ShadowError 404 if none exists. */
export function deleteShadow(
  stored: StoredShadow,
  clientToken: string | undefined,
  nowSeconds: number,
): { shadow: StoredShadow; accepted: JsonObject } {
  if (!stored.exists) throw new ShadowError(404, `No shadow exists with name: '${displayName(stored.thingName, stored.shadowName)}'`);
  const shadow: StoredShadow = { thingName: stored.thingName, shadowName: stored.shadowName, metadata: {}, version: stored.version, exists: false };
  return { shadow, accepted: withToken({ version: stored.version, timestamp: nowSeconds }, clientToken) };
}

/** The …/rejected document. */
export function rejectedDocument(err: ShadowError, clientToken: string | undefined, nowSeconds: number): JsonObject {
  return withToken({ code: err.code, message: err.message, timestamp: nowSeconds }, clientToken);
}
