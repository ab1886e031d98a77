/**
 * The AWS IoT policy language: parse and validate a policy document, and evaluate a set of attached
 * policies for one action on one resource ARN, with policy variables substituted.
 *
 * Evaluation is IAM's: default deny, any matching Allow grants, any matching Deny wins. Resource and
 * Action patterns use `*` (any characters, `/` included) and `?` (one character); the MQTT wildcards `+`
 * and `#` are literal characters, so `topicfilter/a/+` permits exactly the filter "a/+".
 * `$(*)`, `$(?)` and `$($)` stand for a literal `*`, `?` and `$`.
 */

/** A policy statement after validation; every list holds at least one entry. */
export interface PolicyStatement {
  sid?: string;
  effect: 'Allow' | 'Deny';
  /** Action patterns (e.g. "iot:Publish", "iot:*"); exactly one of actions / notActions is set. */
  actions?: string[];
  notActions?: string[];
  /** Resource ARN patterns; exactly one of resources / notResources is set. */
  resources?: string[];
  notResources?: string[];
  conditions: PolicyCondition[];
}

/** One condition test: operator (without IfExists), key, the values any of which must match. */
export interface PolicyCondition {
  operator: ConditionOperator;
  ifExists: boolean;
  key: string;
  values: string[];
}

/** A validated policy document. */
export interface PolicyDocument {
  version: string;
  statements: PolicyStatement[];
}

/** Values of policy variables for one connection, keyed without `${}`: `iot:ClientId`, ... */
export type PolicyVariables = Readonly<Record<string, string | undefined>>;

/** Outcome of evaluate(): an explicit Deny, an Allow, or no matching statement (denied by default). */
export type PolicyDecision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/** Thrown by parsePolicyDocument; the message names what is wrong and where (the registry maps it to MalformedPolicyException). */
export class PolicyDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyDocumentError';
  }
}

const SUPPORTED_VERSION = '2012-10-17';
/** AWS IoT limit: 2048 characters excluding whitespace. */
export const MAX_POLICY_CHARS = 2048;

const CONDITION_OPERATORS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'Bool',
  'ArnEquals',
  'ArnNotEquals',
  'ArnLike',
  'ArnNotLike',
  'Null',
] as const;
/** Condition operators understood here (each may also carry the IfExists suffix, except Null). */
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const ACTION_PATTERN = /^(\*|[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+)$/;
// A resource is `*` or an ARN with at least six colon-separated parts (the last may hold colons).
const RESOURCE_PATTERN = /^(\*|arn:[^:]*:[^:]*:[^:]*:[^:]*:.+)$/;

/** Parse and validate a policy document (JSON text); throws PolicyDocumentError naming the problem. */
export function parsePolicyDocument(text: string): PolicyDocument {
  if (typeof text !== 'string') throw new PolicyDocumentError('policy document must be a JSON string');
  const nonWhitespace = text.replace(/\s/g, '').length;
  if (nonWhitespace === 0) throw new PolicyDocumentError('policy document is empty');
  if (nonWhitespace > MAX_POLICY_CHARS) {
    throw new PolicyDocumentError(
      `policy document has ${nonWhitespace} characters excluding whitespace; the maximum is ${MAX_POLICY_CHARS}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PolicyDocumentError(`policy document is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(raw)) throw new PolicyDocumentError('policy document must be a JSON object');
  for (const key of Object.keys(raw)) {
    if (key !== 'Version' && key !== 'Statement' && key !== 'Id') {
      throw new PolicyDocumentError(`policy document has an unknown top-level key "${key}" (expected Version, Statement, Id)`);
    }
  }
  if (raw.Version === undefined) throw new PolicyDocumentError(`policy document needs "Version": "${SUPPORTED_VERSION}"`);
  if (raw.Version !== SUPPORTED_VERSION) {
    throw new PolicyDocumentError(`Version must be "${SUPPORTED_VERSION}", got ${JSON.stringify(raw.Version)}`);
  }
  if (raw.Statement === undefined) throw new PolicyDocumentError('policy document needs a "Statement"');
  const isList = Array.isArray(raw.Statement);
  const rawStatements: unknown[] = isList ? (raw.Statement as unknown[]) : [raw.Statement];
  if (rawStatements.length === 0) throw new PolicyDocumentError('Statement must not be empty');
  const statements = rawStatements.map((s, i) => parseStatement(s, isList ? `Statement[${i}]` : 'Statement'));
  return { version: SUPPORTED_VERSION, statements };
}

function parseStatement(raw: unknown, where: string): PolicyStatement {
  if (!isPlainObject(raw)) throw new PolicyDocumentError(`${where} must be an object`);
  for (const key of Object.keys(raw)) {
    if (!STATEMENT_KEYS.has(key)) {
      throw new PolicyDocumentError(
        `${where} has an unknown key "${key}" (expected Sid, Effect, Action, NotAction, Resource, NotResource, Condition)`,
      );
    }
  }
  if (raw.Sid !== undefined && typeof raw.Sid !== 'string') throw new PolicyDocumentError(`${where}.Sid must be a string`);
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') {
    throw new PolicyDocumentError(`${where}.Effect must be "Allow" or "Deny", got ${JSON.stringify(raw.Effect)}`);
  }
  const statement: PolicyStatement = { effect: raw.Effect, conditions: [] };
  if (typeof raw.Sid === 'string') statement.sid = raw.Sid;

  if ((raw.Action === undefined) === (raw.NotAction === undefined)) {
    throw new PolicyDocumentError(`${where} needs exactly one of Action or NotAction`);
  }
  const actionKey = raw.Action !== undefined ? 'Action' : 'NotAction';
  const actions = stringList(raw[actionKey], `${where}.${actionKey}`);
  actions.forEach((a, i) => {
    if (!ACTION_PATTERN.test(a)) {
      throw new PolicyDocumentError(`${where}.${actionKey}[${i}] "${a}" is not an action (expected e.g. "iot:Publish" or "iot:*")`);
    }
  });
  if (actionKey === 'Action') statement.actions = actions;
  else statement.notActions = actions;

  if ((raw.Resource === undefined) === (raw.NotResource === undefined)) {
    throw new PolicyDocumentError(`${where} needs exactly one of Resource or NotResource`);
  }
  const resourceKey = raw.Resource !== undefined ? 'Resource' : 'NotResource';
  const resources = stringList(raw[resourceKey], `${where}.${resourceKey}`);
  resources.forEach((r, i) => {
    if (!RESOURCE_PATTERN.test(r)) {
      throw new PolicyDocumentError(
        `${where}.${resourceKey}[${i}] "${r}" is not a resource ARN (expected "*" or "arn:aws:iot:<region>:<account>:<type>/<name>")`,
      );
    }
    checkVariables(r, `${where}.${resourceKey}[${i}]`);
  });
  if (resourceKey === 'Resource') statement.resources = resources;
  else statement.notResources = resources;

  if (raw.Condition !== undefined) statement.conditions = parseConditions(raw.Condition, `${where}.Condition`);
  return statement;
}

function parseConditions(raw: unknown, where: string): PolicyCondition[] {
  if (!isPlainObject(raw)) throw new PolicyDocumentError(`${where} must be an object of operators`);
  const conditions: PolicyCondition[] = [];
  for (const [opText, block] of Object.entries(raw)) {
    const ifExists = opText.endsWith('IfExists');
    const op = (ifExists ? opText.slice(0, -'IfExists'.length) : opText) as ConditionOperator;
    if (!(CONDITION_OPERATORS as readonly string[]).includes(op) || (ifExists && op === 'Null')) {
      throw new PolicyDocumentError(`${where} has an unknown condition operator "${opText}"`);
    }
    if (!isPlainObject(block)) throw new PolicyDocumentError(`${where}.${opText} must be an object of condition keys`);
    for (const [key, value] of Object.entries(block)) {
      const values = (Array.isArray(value) ? value : [value]).map((v, i) => {
        if (typeof v === 'string') return v;
        if (typeof v === 'boolean' || typeof v === 'number') return String(v);
        throw new PolicyDocumentError(`${where}.${opText}.${key}[${i}] must be a string, number or boolean`);
      });
      if (values.length === 0) throw new PolicyDocumentError(`${where}.${opText}.${key} must not be empty`);
      values.forEach((v, i) => checkVariables(v, `${where}.${opText}.${key}[${i}]`));
      conditions.push({ operator: op, ifExists, key, values });
    }
  }
  return conditions;
}

function stringList(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new PolicyDocumentError(`${where} must not be empty`);
  list.forEach((v, i) => {
    if (typeof v !== 'string' || v.length === 0) {
      throw new PolicyDocumentError(`${where}${Array.isArray(value) ? `[${i}]` : ''} must be a non-empty string`);
    }
  });
  return list as string[];
}

/** Reject an unterminated `${` so a typo does not silently become a pattern that matches nothing. */
function checkVariables(text: string, where: string): void {
  let from = 0;
  for (;;) {
    const start = text.indexOf('${', from);
    if (start < 0) return;
    const end = text.indexOf('}', start);
    if (end < 0) throw new PolicyDocumentError(`${where} "${text}" has an unterminated policy variable "\${"`);
    if (end === start + 2) throw new PolicyDocumentError(`${where} "${text}" has an empty policy variable "\${}"`);
    from = end + 1;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

/** Evaluate attached policies for one action (e.g. "iot:Publish") on one resource ARN. */
export function evaluate(
  policies: readonly PolicyDocument[],
  action: string,
  resourceArn: string,
  variables: PolicyVariables,
): PolicyDecision {
  let allowed = false;
  for (const policy of policies) {
    for (const s of policy.statements) {
      if (!statementApplies(s, action, resourceArn, variables)) continue;
      if (s.effect === 'Deny') return 'ExplicitDeny';
      allowed = true;
    }
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}

/** True when evaluate() grants the action. */
export function isAllowed(
  policies: readonly PolicyDocument[],
  action: string,
  resourceArn: string,
  variables: PolicyVariables,
): boolean {
  return evaluate(policies, action, resourceArn, variables) === 'Allow';
}

function statementApplies(s: PolicyStatement, action: string, resource: string, vars: PolicyVariables): boolean {
  const actionHit = s.actions
    ? s.actions.some((p) => actionMatches(p, action))
    : !s.notActions!.some((p) => actionMatches(p, action));
  if (!actionHit) return false;
  const resourceHit = s.resources
    ? s.resources.some((p) => patternMatches(p, resource, vars, false))
    : !s.notResources!.some((p) => patternMatches(p, resource, vars, false));
  if (!resourceHit) return false;
  return s.conditions.every((c) => conditionHolds(c, vars));
}

// Action names are case-insensitive, as in IAM.
function actionMatches(pattern: string, action: string): boolean {
  return patternRegExp(pattern, {}, true)!.test(action);
}

/**
 * Match a pattern (with `${var}` substituted and `*`/`?` wildcards) against a value. A variable with no
 * value makes the pattern match nothing: AWS leaves it unreplaced, which can only match its own text.
 */
function patternMatches(pattern: string, value: string, vars: PolicyVariables, ignoreCase: boolean): boolean {
  const re = patternRegExp(pattern, vars, ignoreCase);
  return re !== undefined && re.test(value);
}

/**
 * A pattern split at its variables: the regular expression source of each piece of policy text (with
 * wildcards) and the variable names between them. A substituted value goes in escaped, kept apart from the
 * policy text (no in-band marks), so no character in a client id, control characters included, can turn
 * it into a wildcard.
 */
interface PatternTemplate {
  /** One more than variables: text before the first variable, between variables, after the last. */
  sources: string[];
  variables: string[];
  /** Compiled expressions by the substituted values (the one value itself, or the JSON of several), per case mode. */
  bySubstitution: { s: Map<string, RegExp>; i: Map<string, RegExp> };
}

// Templates and their expressions are cached: the broker evaluates the same few patterns for every message.
const templates = new Map<string, PatternTemplate>();
const MAX_CACHED = 10_000;
const MAX_SUBSTITUTIONS_PER_PATTERN = 1000;

function templateOf(pattern: string): PatternTemplate {
  let t = templates.get(pattern);
  if (t) return t;
  t = { sources: [], variables: [], bySubstitution: { s: new Map(), i: new Map() } };
  let from = 0;
  for (;;) {
    const start = pattern.indexOf('${', from);
    if (start < 0) break;
    const end = pattern.indexOf('}', start);
    t.sources.push(wildcardSource(pattern.slice(from, start)));
    t.variables.push(pattern.slice(start + 2, end));
    from = end + 1;
  }
  t.sources.push(wildcardSource(pattern.slice(from)));
  if (templates.size >= MAX_CACHED) templates.clear();
  templates.set(pattern, t);
  return t;
}

/** The pattern's regular expression with variables substituted as literals; undefined when one has no value. */
function patternRegExp(pattern: string, vars: PolicyVariables, ignoreCase: boolean): RegExp | undefined {
  const t = templateOf(pattern);
  const values: string[] = [];
  for (const name of t.variables) {
    const value = vars[name];
    if (value === undefined) return undefined;
    values.push(value);
  }
  const cache = ignoreCase ? t.bySubstitution.i : t.bySubstitution.s;
  const key = values.length === 1 ? values[0] : JSON.stringify(values);
  let re = cache.get(key);
  if (!re) {
    let src = t.sources[0];
    for (let i = 0; i < values.length; i++) src += escapeLiteral(values[i]) + t.sources[i + 1];
    re = new RegExp(`^${src}$`, ignoreCase ? 'is' : 's');
    if (cache.size >= MAX_SUBSTITUTIONS_PER_PATTERN) cache.clear();
    cache.set(key, re);
  }
  return re;
}

/** The text a condition value stands for with its variables substituted (for exact comparisons), or undefined. */
function substituteText(pattern: string, vars: PolicyVariables): string | undefined {
  if (!pattern.includes('${')) return pattern;
  let out = '';
  let from = 0;
  for (;;) {
    const start = pattern.indexOf('${', from);
    if (start < 0) return out + pattern.slice(from);
    const end = pattern.indexOf('}', start);
    const value = vars[pattern.slice(start + 2, end)];
    if (value === undefined) return undefined;
    out += pattern.slice(from, start) + value;
    from = end + 1;
  }
}

/** Regular expression source of policy text: `*` any characters, `?` one, `$(*)` `$(?)` `$($)` literal. */
function wildcardSource(text: string): string {
  let src = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '$' && text[i + 1] === '(' && text[i + 3] === ')' && '*?$'.includes(text[i + 2])) {
      src += escapeLiteral(text[i + 2]);
      i += 3;
    } else if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += escapeLiteral(ch);
  }
  return src;
}

/** A substituted value as regular expression source matching exactly that text. */
function escapeLiteral(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

function conditionHolds(c: PolicyCondition, vars: PolicyVariables): boolean {
  const actual = vars[c.key];
  if (c.operator === 'Null') {
    // "Null": "true" means the key must be absent.
    const wantAbsent = c.values.some((v) => v.toLowerCase() === 'true');
    return wantAbsent === (actual === undefined);
  }
  if (actual === undefined) return c.ifExists;
  // Values may hold variables too; an unresolved one matches nothing.
  const plain = c.values.map((v) => substituteText(v, vars)).filter((v): v is string => v !== undefined);
  switch (c.operator) {
    case 'StringEquals':
    case 'ArnEquals':
      return plain.includes(actual);
    case 'StringNotEquals':
    case 'ArnNotEquals':
      return !plain.includes(actual);
    case 'StringEqualsIgnoreCase':
      return plain.some((v) => v.toLowerCase() === actual.toLowerCase());
    case 'StringNotEqualsIgnoreCase':
      return !plain.some((v) => v.toLowerCase() === actual.toLowerCase());
    case 'StringLike':
    case 'ArnLike':
      return c.values.some((v) => patternMatches(v, actual, vars, false));
    case 'StringNotLike':
    case 'ArnNotLike':
      return !c.values.some((v) => patternMatches(v, actual, vars, false));
    case 'Bool':
      return plain.some((v) => v.toLowerCase() === actual.toLowerCase());
    default:
      return numericHolds(c.operator, Number(actual), plain.map(Number));
  }
}

function numericHolds(op: ConditionOperator, actual: number, expected: number[]): boolean {
  if (Number.isNaN(actual)) return false;
  switch (op) {
    case 'NumericEquals':
      return expected.includes(actual);
    case 'NumericNotEquals':
      return !expected.includes(actual);
    case 'NumericLessThan':
      return expected.some((e) => actual < e);
    case 'NumericLessThanEquals':
      return expected.some((e) => actual <= e);
    case 'NumericGreaterThan':
      return expected.some((e) => actual > e);
    case 'NumericGreaterThanEquals':
      return expected.some((e) => actual >= e);
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Variables and ARNs

/** What a connection knows about itself, to fill in policy variables. */
export interface ConnectionFacts {
  clientId: string;
  /** The thing the connection acts as, if resolved (see resolveConnectionThing in the broker). */
  thing?: { thingName: string; thingTypeName?: string; attributes: Record<string, string> };
  /** Whether the certificate is attached to the thing named by the client id (iot:Connection.Thing.IsAttached). */
  isAttached?: boolean;
  /** Subject fields of the client certificate, e.g. { CommonName: 'AWS IoT Certificate' }. */
  certificateSubject?: Record<string, string>;
  certificateIssuer?: Record<string, string>;
  certificateSerialNumber?: string;
  sourceIp?: string;
}

// AWS leaves certificate variables unreplaced when their value holds one of these or is too long.
const UNSAFE_CERT_VALUE = /[*$+?#]/;

/** Build the policy variables of a connection (iot:ClientId, iot:Connection.Thing.*, iot:Certificate.*). */
export function connectionVariables(facts: ConnectionFacts): Record<string, string> {
  const vars: Record<string, string> = { 'iot:ClientId': facts.clientId };
  if (facts.sourceIp) vars['aws:SourceIp'] = facts.sourceIp;
  vars['iot:Connection.Thing.IsAttached'] = facts.isAttached ? 'true' : 'false';
  if (facts.thing) {
    vars['iot:Connection.Thing.ThingName'] = facts.thing.thingName;
    if (facts.thing.thingTypeName) vars['iot:Connection.Thing.ThingTypeName'] = facts.thing.thingTypeName;
    for (const [k, v] of Object.entries(facts.thing.attributes)) vars[`iot:Connection.Thing.Attributes[${k}]`] = v;
  }
  const certFields: [string, Record<string, string> | undefined][] = [
    ['Subject', facts.certificateSubject],
    ['Issuer', facts.certificateIssuer],
  ];
  for (const [part, fields] of certFields) {
    for (const [k, v] of Object.entries(fields ?? {})) {
      if (!UNSAFE_CERT_VALUE.test(v) && v.length <= 1024) vars[`iot:Certificate.${part}.${k}`] = v;
    }
  }
  if (facts.certificateSerialNumber) vars['iot:Certificate.SerialNumber'] = facts.certificateSerialNumber;
  return vars;
}

// The one ARN builder lives in arn.ts; re-exported because policy callers build resource ARNs to check.
export { iotArn } from './arn';

// Parsed documents are cached by text: the registry hands the broker the same texts over and over.
const parsedByText = new Map<string, PolicyDocument>();

/** parsePolicyDocument with a cache keyed by the document text (for hot paths such as the broker). */
export function parsePolicyDocumentCached(text: string): PolicyDocument {
  let doc = parsedByText.get(text);
  if (!doc) {
    doc = parsePolicyDocument(text);
    if (parsedByText.size >= 1000) parsedByText.clear();
    parsedByText.set(text, doc);
  }
  return doc;
}
