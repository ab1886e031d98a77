/**
 * Input checks for the Jobs APIs, with messages that name the field and the rule, thrown as
 * InvalidRequestException before anything changes.
 */
import { invalidRequest } from './errors';
import { checkDocument } from './document';
import type { AbortCriteria, JobSpec, RetryCriteria, RolloutConfig } from './records';

const JOB_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

type Json = Record<string, unknown>;

/** Throws unless jobId is 1–64 characters of [a-zA-Z0-9_-]. */
export function checkJobId(jobId: string): void {
  if (!JOB_ID.test(jobId)) throw invalidRequest(`jobId "${jobId}" is invalid: use 1-64 characters of a-z, A-Z, 0-9, _ and -`);
}

/** Throws unless thingName is 1–128 characters of [a-zA-Z0-9:_-]. */
export function checkThingName(thingName: string): void {
  if (!THING_NAME.test(thingName)) throw invalidRequest(`thingName "${thingName}" is invalid: use 1-128 characters of a-z, A-Z, 0-9, :, _ and -`);
}

/** Parses a request body as a JSON object (an empty body is {}). */
export function parseJsonBody(body: Buffer, action: string): Json {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw invalidRequest(`${action}: the request body is not valid JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidRequest(`${action}: the request body must be a JSON object`);
  return parsed as Json;
}

function isObject(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** An optional string field. */
export function optString(o: Json, field: string, max = Infinity): string | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidRequest(`${field} must be a string`);
  if (v.length > max) throw invalidRequest(`${field} is ${v.length} characters long; at most ${max} are allowed`);
  return v;
}

/** An optional number field within [min, max]; integer unless told otherwise. */
export function optNumber(o: Json, field: string, min: number, max: number, integer = true): number | undefined {
  let v = o[field];
  if (v === undefined || v === null) return undefined;
  // The MQTT API documents numeric strings for expectedVersion; accept them for every number.
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) v = Number(v);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidRequest(`${field} must be a number`);
  if (integer && !Number.isInteger(v)) throw invalidRequest(`${field} must be a whole number, got ${v}`);
  if (v < min || v > max) throw invalidRequest(`${field} must be between ${min} and ${max}, got ${v}`);
  return v;
}

/** An optional boolean field. */
export function optBoolean(o: Json, field: string): boolean | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalidRequest(`${field} must be true or false`);
  return v;
}

/** statusDetails: at most 10 entries, keys [a-zA-Z0-9:_-]{1,128}, string values of 1–1024 characters. */
export function optStatusDetails(o: Json, field = 'statusDetails'): Record<string, string> | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalidRequest(`${field} must be an object of string values`);
  const entries = Object.entries(v);
  if (entries.length > 10) throw invalidRequest(`${field} has ${entries.length} entries; at most 10 are allowed`);
  const out: Record<string, string> = {};
  for (const [k, val] of entries) {
    if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(k)) throw invalidRequest(`${field} key "${k}" is invalid: use 1-128 characters of a-z, A-Z, 0-9, :, _ and -`);
    if (typeof val !== 'string' || val.length < 1 || val.length > 1024) throw invalidRequest(`${field}.${k} must be a string of 1-1024 characters`);
    out[k] = val;
  }
  return out;
}

function rollout(v: unknown): RolloutConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalidRequest('jobExecutionsRolloutConfig must be an object');
  const out: RolloutConfig = {};
  const max = optNumber(v, 'maximumPerMinute', 1, 1000);
  if (max !== undefined) out.maximumPerMinute = max;
  const exp = v.exponentialRate;
  if (exp !== undefined && exp !== null) {
    if (!isObject(exp)) throw invalidRequest('jobExecutionsRolloutConfig.exponentialRate must be an object');
    const base = optNumber(exp, 'baseRatePerMinute', 1, 1000);
    const factor = optNumber(exp, 'incrementFactor', 1.1, 5, false);
    if (base === undefined) throw invalidRequest('jobExecutionsRolloutConfig.exponentialRate.baseRatePerMinute is required');
    if (factor === undefined) throw invalidRequest('jobExecutionsRolloutConfig.exponentialRate.incrementFactor is required');
    if (Math.round(factor * 10) !== factor * 10) throw invalidRequest(`jobExecutionsRolloutConfig.exponentialRate.incrementFactor allows one decimal place, got ${factor}`);
    const crit = exp.rateIncreaseCriteria;
    if (!isObject(crit)) throw invalidRequest('jobExecutionsRolloutConfig.exponentialRate.rateIncreaseCriteria is required');
    const notified = optNumber(crit, 'numberOfNotifiedThings', 1, Number.MAX_SAFE_INTEGER);
    const succeeded = optNumber(crit, 'numberOfSucceededThings', 1, Number.MAX_SAFE_INTEGER);
    if ((notified === undefined) === (succeeded === undefined)) {
      throw invalidRequest('rateIncreaseCriteria needs exactly one of numberOfNotifiedThings and numberOfSucceededThings');
    }
    out.exponentialRate = {
      baseRatePerMinute: base,
      incrementFactor: factor,
      rateIncreaseCriteria: notified !== undefined ? { numberOfNotifiedThings: notified } : { numberOfSucceededThings: succeeded },
    };
  }
  return out;
}

function abortConfig(v: unknown): { criteriaList: AbortCriteria[] } | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || !Array.isArray(v.criteriaList) || v.criteriaList.length === 0) {
    throw invalidRequest('abortConfig.criteriaList must be a non-empty list');
  }
  const criteriaList = v.criteriaList.map((c: unknown, i: number): AbortCriteria => {
    const where = `abortConfig.criteriaList[${i}]`;
    if (!isObject(c)) throw invalidRequest(`${where} must be an object`);
    if (!['FAILED', 'REJECTED', 'TIMED_OUT', 'ALL'].includes(c.failureType as string)) {
      throw invalidRequest(`${where}.failureType must be FAILED, REJECTED, TIMED_OUT or ALL`);
    }
    if (c.action !== 'CANCEL') throw invalidRequest(`${where}.action must be CANCEL`);
    const threshold = optNumber(c, 'thresholdPercentage', 0, 100, false);
    if (threshold === undefined) throw invalidRequest(`${where}.thresholdPercentage is required`);
    if (Math.abs(Math.round(threshold * 100) - threshold * 100) > 1e-6) {
      throw invalidRequest(`${where}.thresholdPercentage allows two decimal places, got ${threshold}`);
    }
    const min = optNumber(c, 'minNumberOfExecutedThings', 1, Number.MAX_SAFE_INTEGER);
    if (min === undefined) throw invalidRequest(`${where}.minNumberOfExecutedThings is required`);
    return { failureType: c.failureType as AbortCriteria['failureType'], action: 'CANCEL', thresholdPercentage: threshold, minNumberOfExecutedThings: min };
  });
  return { criteriaList };
}

function retryConfig(v: unknown): { criteriaList: RetryCriteria[] } | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || !Array.isArray(v.criteriaList) || v.criteriaList.length === 0 || v.criteriaList.length > 2) {
    throw invalidRequest('jobExecutionsRetryConfig.criteriaList must be a list of 1 or 2 criteria');
  }
  const seen = new Set<string>();
  let total = 0;
  const criteriaList = v.criteriaList.map((c: unknown, i: number): RetryCriteria => {
    const where = `jobExecutionsRetryConfig.criteriaList[${i}]`;
    if (!isObject(c)) throw invalidRequest(`${where} must be an object`);
    if (!['FAILED', 'TIMED_OUT', 'ALL'].includes(c.failureType as string)) throw invalidRequest(`${where}.failureType must be FAILED, TIMED_OUT or ALL`);
    if (seen.has(c.failureType as string)) throw invalidRequest(`${where}.failureType ${c.failureType} appears twice`);
    seen.add(c.failureType as string);
    const n = optNumber(c, 'numberOfRetries', 0, 10);
    if (n === undefined) throw invalidRequest(`${where}.numberOfRetries is required`);
    total += n;
    return { failureType: c.failureType as RetryFailureTypeName, numberOfRetries: n };
  });
  if (total > 10) throw invalidRequest(`jobExecutionsRetryConfig allows at most 10 retries in total, got ${total}`);
  if (seen.has('ALL') && seen.size > 1) throw invalidRequest('jobExecutionsRetryConfig: ALL cannot be combined with another failure type');
  return { criteriaList };
}
type RetryFailureTypeName = RetryCriteria['failureType'];

const UNSUPPORTED = ['jobTemplateArn', 'documentParameters', 'schedulingConfig', 'destinationPackageVersions'];

/** Validates a CreateJob body for jobId; throws InvalidRequestException naming the first problem. */
export function parseCreateJob(jobId: string, body: Json): JobSpec {
  checkJobId(jobId);
  for (const field of UNSUPPORTED) {
    if (body[field] !== undefined && body[field] !== null) throw invalidRequest(`CreateJob: ${field} is not supported by the local cloud`);
  }
  const targets = body.targets;
  if (!Array.isArray(targets) || targets.length === 0) throw invalidRequest('CreateJob: targets must be a non-empty list of thing or thing group ARNs');
  targets.forEach((t, i) => {
    if (typeof t !== 'string') throw invalidRequest(`CreateJob: targets[${i}] must be a string`);
  });
  const document = optString(body, 'document');
  const documentSource = optString(body, 'documentSource', 1350);
  if ((document === undefined) === (documentSource === undefined)) throw invalidRequest('CreateJob: give exactly one of document and documentSource');
  if (document !== undefined) checkDocument(document, 'CreateJob');
  const targetSelection = body.targetSelection ?? 'SNAPSHOT';
  if (targetSelection !== 'SNAPSHOT' && targetSelection !== 'CONTINUOUS') throw invalidRequest('CreateJob: targetSelection must be SNAPSHOT or CONTINUOUS');
  const spec: JobSpec = { jobId, targets: [...new Set(targets as string[])], targetSelection };
  if (document !== undefined) spec.document = document;
  if (documentSource !== undefined) spec.documentSource = documentSource;
  const description = optString(body, 'description', 2028);
  if (description !== undefined) spec.description = description;
  if (body.presignedUrlConfig !== undefined && body.presignedUrlConfig !== null) {
    if (!isObject(body.presignedUrlConfig)) throw invalidRequest('presignedUrlConfig must be an object');
    const expiresInSec = optNumber(body.presignedUrlConfig, 'expiresInSec', 60, 3600);
    const roleArn = optString(body.presignedUrlConfig, 'roleArn', 2048);
    spec.presignedUrlConfig = {};
    if (roleArn !== undefined) spec.presignedUrlConfig.roleArn = roleArn;
    if (expiresInSec !== undefined) spec.presignedUrlConfig.expiresInSec = expiresInSec;
  }
  const r = rollout(body.jobExecutionsRolloutConfig);
  if (r) spec.jobExecutionsRolloutConfig = r;
  const a = abortConfig(body.abortConfig);
  if (a) spec.abortConfig = a;
  if (body.timeoutConfig !== undefined && body.timeoutConfig !== null) {
    if (!isObject(body.timeoutConfig)) throw invalidRequest('timeoutConfig must be an object');
    const minutes = optNumber(body.timeoutConfig, 'inProgressTimeoutInMinutes', 1, 10080);
    spec.timeoutConfig = minutes === undefined ? {} : { inProgressTimeoutInMinutes: minutes };
  }
  const retry = retryConfig(body.jobExecutionsRetryConfig);
  if (retry) spec.jobExecutionsRetryConfig = retry;
  return spec;
}
