/**
 * Input checks of the IoT registry, with the patterns and limits of the AWS IoT service model. Each check
 * throws InvalidRequestException naming the field and the value that was wrong.
 */
import { invalidRequest } from './registry-errors';

/** Thing, thing type and thing group names: 1..128 of [a-zA-Z0-9:_-]. */
const RESOURCE_NAME = /^[a-zA-Z0-9:_-]+$/;
/** Policy names: 1..128 of [\w+=,.@-]. */
const POLICY_NAME = /^[\w+=,.@-]+$/;
const ATTRIBUTE_NAME = /^[a-zA-Z0-9_.,@/:#-]+$/;
const ATTRIBUTE_VALUE = /^[a-zA-Z0-9_.,@/:#=[\]-]*$/;
const CERTIFICATE_ID = /^(0x)?[a-fA-F0-9]{64}$/;

/** Attributes a thing may have without a thing type, and with one (AWS IoT limits). */
export const MAX_ATTRIBUTES_WITHOUT_TYPE = 3;
export const MAX_ATTRIBUTES_WITH_TYPE = 50;
/** Thing groups a thing may belong to, and the deepest a group hierarchy may go. */
export const MAX_GROUPS_PER_THING = 10;
export const MAX_GROUP_DEPTH = 7;
/** Policies attached to one target, and versions one policy may have. */
export const MAX_POLICIES_PER_TARGET = 10;
export const MAX_POLICY_VERSIONS = 5;

/** Quotes a user value for an error message, shortened so a huge input cannot flood the log. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text === undefined ? 'undefined' : text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/** Checks a thing, thing type or thing group name; field names the input member. */
export function checkResourceName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 128 || !RESOURCE_NAME.test(value)) {
    throw invalidRequest(`${field} ${quote(value)} is invalid: it must be 1 to 128 characters of a-z, A-Z, 0-9, ':', '_' and '-'`);
  }
  return value;
}

/** Checks a policy name. */
export function checkPolicyName(value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 128 || !POLICY_NAME.test(value)) {
    throw invalidRequest(`policyName ${quote(value)} is invalid: it must be 1 to 128 characters of letters, digits and _+=,.@-`);
  }
  return value;
}

/** Checks a certificate id (64 hex digits, optionally after 0x) and returns it in lowercase without 0x. */
export function checkCertificateId(value: unknown): string {
  if (typeof value !== 'string' || !CERTIFICATE_ID.test(value)) {
    throw invalidRequest(`certificateId ${quote(value)} is invalid: it must be the 64 hexadecimal digits of the certificate's SHA-256`);
  }
  return value.replace(/^0x/, '').toLowerCase();
}

/** Checks an optional string member of a request body. */
export function optionalString(field: string, value: unknown, maxLength = 2048): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > maxLength) {
    throw invalidRequest(`${field} must be a string of at most ${maxLength} characters, got ${quote(value)}`);
  }
  return value;
}

/** Checks an optional boolean member. */
export function optionalBoolean(field: string, value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidRequest(`${field} must be true or false, got ${quote(value)}`);
  return value;
}

/** Checks an optional integer member (expectedVersion, maxResults...). */
export function optionalInteger(field: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidRequest(`${field} must be an integer from ${min} to ${max}, got ${quote(value)}`);
  }
  return value;
}

/** Checks an attribute map (names and values by AWS's patterns). */
export function checkAttributes(field: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest(`${field} must be an object of strings, got ${quote(value)}`);
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (name.length > 128 || !ATTRIBUTE_NAME.test(name)) {
      throw invalidRequest(`${field}: attribute name ${quote(name)} is invalid: it must be 1 to 128 characters of a-z, A-Z, 0-9 and _.,@/:#-`);
    }
    if (typeof v !== 'string' || v.length > 800 || !ATTRIBUTE_VALUE.test(v)) {
      throw invalidRequest(`${field}: value of attribute ${quote(name)} is invalid: it must be a string of at most 800 characters of a-z, A-Z, 0-9 and _.,@/:#=[]-, got ${quote(v)}`);
    }
    out[name] = v;
  }
  return out;
}

/** Checks an attributePayload member ({ attributes, merge }). */
export function checkAttributePayload(field: string, value: unknown): { attributes: Record<string, string>; merge: boolean } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest(`${field} must be an object, got ${quote(value)}`);
  const payload = value as Record<string, unknown>;
  return {
    attributes: checkAttributes(`${field}.attributes`, payload.attributes),
    merge: optionalBoolean(`${field}.merge`, payload.merge) ?? false,
  };
}

/** Checks a tags member ([{ Key, Value }]). */
export function checkTags(value: unknown): { Key: string; Value?: string }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidRequest(`tags must be a list of { Key, Value }, got ${quote(value)}`);
  return value.map((tag, i) => {
    const t = tag as Record<string, unknown> | null;
    if (!t || typeof t !== 'object' || typeof t.Key !== 'string' || t.Key.length < 1 || t.Key.length > 128) {
      throw invalidRequest(`tags[${i}].Key must be a string of 1 to 128 characters, got ${quote(tag)}`);
    }
    return { Key: t.Key, Value: optionalString(`tags[${i}].Value`, t.Value, 256) };
  });
}
