/**
 * Fault: hostile and random input, by property-based fuzzing (fast-check, seeded) over the parsers a
 * stranger reaches: the local cloud's HTTP API (real server on loopback, unsigned and SigV4-signed requests
 * with random paths, headers, JSON and XML bodies), the IoT policy engine, the agent's frame parser and
 * the package verifier. Properties: no crash (only the component's own error type is thrown), no 5xx, no
 * request left unanswered. The figure counts the runs, the requests refused (4xx) and any failure.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import type { LocalCloud } from '../cloud';
import { AwsError } from '../cloud/http/errors';
import { canonicalPath, parseSigV4, safeDecode } from '../cloud/http/sigv4';
import { decodeAwsChunked } from '../cloud/http/aws-chunked';
import { parseQuery } from '../cloud/http/server';
import { signedFetch } from '../cloud/http/signing-testing';
import { evaluate, isAllowed, parsePolicyDocument, PolicyDocumentError } from '../cloud/iot/policy';
import { parseFrameLine } from '../edge/frame-input';
import { signedTestPackage, testSigningKey } from '../edge/package-testing';
import { PackageVerificationError, verifyPackage } from '../packaging';
import { putObjects, startTestCloud, tempDir } from '../edge/agent-testing';
import { recordFigure, scaled } from './figures';

const SEED = 20261203;
const PURE_RUNS = scaled(300, 5000);
const HTTP_RUNS = scaled(60, 1500);
/** A request unanswered for this long counts as a hang. */
const HANG_MS = 15_000;

type Tally = { runs: number; refused: number; failures: string[]; ms: number };
const tallies: Record<string, Tally> = {};
const tally = (name: string): Tally => (tallies[name] ??= { runs: 0, refused: 0, failures: [], ms: 0 });

/** Runs a fast-check property, tallies it under name, and rethrows fast-check's report on failure. */
async function check(name: string, property: fc.IAsyncProperty<never> | fc.IProperty<never>, runs: number): Promise<void> {
  const t = tally(name);
  const started = Date.now();
  try {
    await fc.assert(property as fc.IAsyncProperty<never>, { seed: SEED, numRuns: runs });
  } catch (err) {
    t.failures.push((err as Error).message.split('\n').slice(0, 3).join(' '));
    throw err;
  } finally {
    t.ms += Date.now() - started;
  }
}

/** Calls fn; an error of the allowed type counts as refused, any other error fails the property. */
function onlyThrows(name: string, allowed: (err: unknown) => boolean, fn: () => unknown): void {
  const t = tally(name);
  t.runs++;
  try {
    fn();
  } catch (err) {
    if (!allowed(err)) throw err;
    t.refused++;
  }
}

// Text with the characters parsers trip on.
const nasty = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('%', '/', '.', '*', '+', '#', '$', '{', '}', '&', ';', '=', ',', '"', '\\', '\u0000', '\u0001', '\n', 'a', '0', ' '), maxLength: 40 }),
);
const xmlish = fc
  .array(fc.constantFrom('<?xml version="1.0"?>', '<Delete>', '</Delete>', '<Object>', '</Object>', '<Key>', '</Key>', 'k', '&#1114112;', '&#x110000;', '&#0;', '&amp;', '&bogus;', '&#65;', '<![CDATA[', ']]>', '<!--', '-->', '<!DOCTYPE x [<!ENTITY a "aa">]>', '&a;', '<Quiet>true</Quiet>', '<', '>', '"'), { maxLength: 40 })
  .map((parts) => parts.join(''));
// Well-formed DeleteObjects bodies whose keys hold entity and character references.
const deleteBody = fc
  .array(fc.array(fc.constantFrom('k', '&#1114112;', '&#x110000;', '&#xD800;', '&#0;', '&amp;', '&lt;', '&#65;', '&#x41;', '&bogus;', '/', '..'), { maxLength: 6 }).map((k) => `<Object><Key>${k.join('')}</Key></Object>`), { maxLength: 4 })
  .map((objects) => `<?xml version="1.0" encoding="UTF-8"?><Delete>${objects.join('')}<Quiet>false</Quiet></Delete>`);
const jsonish = fc.oneof(fc.json({ maxDepth: 3 }), nasty, fc.constantFrom('{', '[', '{"a":', '{"__proto__":{"x":1}}', 'null', '1e999'));

let cloud: LocalCloud;
let removeTmp: () => Promise<void>;
before(async () => {
  const tmp = await tempDir('faults-fuzz-');
  removeTmp = tmp.remove;
  cloud = await startTestCloud(join(tmp.dir, 'cloud'));
  // A bucket with an object, so S3 bodies reach their parsers instead of NoSuchBucket.
  await putObjects(cloud, 'fuzz-bucket', { key: Buffer.from('x') });
});
after(async () => {
  await cloud?.stop();
  await removeTmp?.();
  const names = Object.keys(tallies);
  const runs = names.reduce((n, k) => n + tallies[k].runs, 0);
  const refused = names.reduce((n, k) => n + tallies[k].refused, 0);
  const failures = names.flatMap((k) => tallies[k].failures.map((f) => `${k}: ${f}`));
  recordFigure({
    scenario: 'fuzz',
    injected: `${runs} property-based inputs (fast-check, seed ${SEED}): ${names.map((k) => `${k} ${tallies[k].runs}`).join(', ')}`,
    held: failures.length === 0 ? 'no crash (only the components\' own errors), no 5xx, no request left unanswered' : `failed: ${failures.join('; ')}`,
    ok: failures.length === 0,
    lost: 0,
    duplicated: 0,
    refused,
    durationsMs: Object.fromEntries(names.map((k) => [k, tallies[k].ms])),
    counts: Object.fromEntries(names.map((k) => [`${k} refused`, tallies[k].refused])),
  });
});

const isAwsError = (e: unknown): boolean => e instanceof AwsError;

test('HTTP parsers (query, SigV4 header and presigned query, path canonicalisation, aws-chunked) throw only AwsError', async () => {
  await check(
    'http-parsers',
    fc.property(nasty, nasty, nasty, fc.uint8Array({ maxLength: 200 }), (auth, date, query, chunked) => {
      onlyThrows('http-parsers', isAwsError, () => parseQuery(query));
      onlyThrows('http-parsers', isAwsError, () => safeDecode(query));
      onlyThrows('http-parsers', isAwsError, () => canonicalPath(`/${query}`, 's3'));
      onlyThrows('http-parsers', isAwsError, () => parseSigV4(`AWS4-HMAC-SHA256 ${auth}`, date, new URLSearchParams(query)));
      onlyThrows('http-parsers', isAwsError, () => parseSigV4(undefined, undefined, new URLSearchParams(`X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${auth}&X-Amz-Date=${date}&${query}`)));
      onlyThrows('http-parsers', isAwsError, () => decodeAwsChunked(Buffer.concat([Buffer.from(`${auth.length.toString(16)};chunk-signature=${date}\r\n`), chunked])));
    }) as never,
    PURE_RUNS,
  );
});

/** Sends one request; returns its status, or throws naming a hang. */
async function send(what: string, request: () => Promise<Response>): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms: ${what}`)), HANG_MS)));
  try {
    const res = await Promise.race([request(), hang]);
    await res.arrayBuffer();
    return res.status;
  } finally {
    clearTimeout(timer);
  }
}

/** Fails on 5xx; counts 4xx as refused. */
function answered(name: string, status: number, what: string): void {
  const t = tally(name);
  t.runs++;
  if (status >= 400 && status < 500) t.refused++;
  assert.ok(status < 500, `HTTP ${status} for ${what}`);
}

test('the HTTP API answers random unsigned requests with no 5xx and no hang', { timeout: 600_000 }, async () => {
  const method = fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH');
  const path = fc.array(fc.oneof(nasty, fc.constantFrom('things', 'jobs', 'models', 'capture', '..', '%2e%2e', 'policies', 'shadow')), { maxLength: 5 }).map((p) => '/' + p.map((s) => encodeURIComponent(s)).join('/'));
  const headerValue = nasty.map((v) => v.replace(/[^\x20-\x7e]/g, ''));
  await check(
    'http-unsigned',
    fc.asyncProperty(method, path, nasty, fc.dictionary(fc.constantFrom('authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-target', 'content-type', 'x-amz-copy-source', 'content-encoding'), headerValue), fc.oneof(jsonish, xmlish), async (m, p, q, headers, body) => {
      const what = `${m} ${p}?${encodeURIComponent(q)}`;
      const status = await send(what, () => fetch(`${cloud.endpoints.http}${p}?${encodeURIComponent(q)}`, { method: m, headers, body: m === 'GET' || m === 'HEAD' ? undefined : body }));
      answered('http-unsigned', status, what);
    }) as never,
    HTTP_RUNS,
  );
});

test('the HTTP API answers random signed requests (JSON APIs, S3 XML bodies) with no 5xx and no hang', { timeout: 600_000 }, async () => {
  const s3 = fc.record({ service: fc.constant('s3'), method: fc.constantFrom('PUT', 'POST', 'GET', 'DELETE'), path: fc.constantFrom('/fuzz-bucket', '/fuzz-bucket?delete', '/fuzz-bucket/key', '/fuzz-bucket?uploads', '/fuzz-bucket/key?uploads'), body: xmlish, target: fc.constant(undefined) });
  const deletes = fc.record({ service: fc.constant('s3'), method: fc.constant('POST'), path: fc.constant('/fuzz-bucket?delete'), body: deleteBody, target: fc.constant(undefined) });
  const iot = fc.record({ service: fc.constant('iot'), method: fc.constantFrom('POST', 'PATCH', 'PUT', 'GET'), path: fc.constantFrom('/things/fuzz-thing', '/jobs/fuzz-job', '/policies/fuzz-policy', '/thing-groups/g', '/keys-and-certificate?setAsActive=true'), body: jsonish, target: fc.constant(undefined) });
  const sagemaker = fc.record({ service: fc.constant('sagemaker'), method: fc.constant('POST'), path: fc.constant('/'), body: jsonish, target: fc.constantFrom('SageMaker.CreateDeviceFleet', 'SageMaker.RegisterDevices', 'SageMaker.CreateModelPackage', 'SageMaker.ListDeviceFleets', 'SageMaker.Bogus') });
  await check(
    'http-signed',
    fc.asyncProperty(fc.oneof(s3, deletes, iot, sagemaker), async (r) => {
      const what = `signed ${r.service} ${r.method} ${r.path} ${JSON.stringify(r.body).slice(0, 80)}`;
      const headers: Record<string, string> = r.target ? { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': r.target } : { 'content-type': r.service === 's3' ? 'application/xml' : 'application/json' };
      const status = await send(what, () => signedFetch(cloud, { service: r.service, method: r.method, path: r.path, headers, body: r.method === 'GET' ? '' : r.body }));
      answered('http-signed', status, what);
    }) as never,
    HTTP_RUNS,
  );
});

test('the policy engine: random documents are parsed or refused with PolicyDocumentError; evaluation never throws', async () => {
  const resource = fc.oneof(nasty, fc.constant('arn:aws:iot:us-east-1:000000000000:topic/wind-turbine/${iot:ClientId}/*'), fc.constant('*'));
  const statement = fc.record({ Effect: fc.oneof(fc.constantFrom('Allow', 'Deny'), nasty), Action: fc.oneof(fc.constantFrom('iot:*', 'iot:Publish', 'iot:Connect', 'iot:Subscribe'), nasty, fc.array(nasty, { maxLength: 3 })), Resource: fc.oneof(resource, fc.array(resource, { maxLength: 3 })) }, { requiredKeys: [] });
  const doc = fc.oneof(fc.record({ Version: fc.constantFrom('2012-10-17', 'x'), Statement: fc.oneof(statement, fc.array(statement, { maxLength: 4 })) }).map((d) => JSON.stringify(d)), jsonish);
  await check(
    'policy',
    fc.property(doc, fc.constantFrom('iot:Publish', 'iot:Connect', 'iot:Receive', 'iot:Subscribe'), nasty, nasty, (text, action, topic, clientId) => {
      let parsed: ReturnType<typeof parsePolicyDocument> | undefined;
      onlyThrows('policy', (e) => e instanceof PolicyDocumentError, () => (parsed = parsePolicyDocument(text)));
      if (!parsed) return;
      const decision = evaluate([parsed], action, `arn:aws:iot:us-east-1:000000000000:topic/${topic}`, { 'iot:ClientId': clientId });
      assert.ok(['Allow', 'ExplicitDeny', 'ImplicitDeny'].includes(decision));
    }) as never,
    PURE_RUNS,
  );
});

test('the policy engine: a ${iot:ClientId} policy never lets a client id reach another device\'s topics', async () => {
  const policy = parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:us-east-1:000000000000:topic/wind-turbine/${iot:ClientId}/*' }] }));
  await check(
    'policy-isolation',
    fc.property(nasty, nasty, (clientId, suffix) => {
      tally('policy-isolation').runs++;
      const victim = `edge-device-${clientId.length}`;
      if (victim === clientId) return;
      assert.equal(isAllowed([policy], 'iot:Publish', `arn:aws:iot:us-east-1:000000000000:topic/wind-turbine/${victim}/${suffix}`, { 'iot:ClientId': clientId }), false, `client id ${JSON.stringify(clientId)} reached ${victim}'s topics`);
    }) as never,
    PURE_RUNS,
  );
});

test('the frame parser never throws: a frame or the reason it is not one', async () => {
  await check(
    'frame-parser',
    fc.property(fc.oneof(nasty, jsonish.map((j) => (typeof j === 'string' ? j : JSON.stringify(j))), fc.array(fc.oneof(fc.double().map(String), nasty), { maxLength: 30 }).map((c) => c.join(','))), (line) => {
      tally('frame-parser').runs++;
      const r = parseFrameLine(line);
      assert.ok('frame' in r || (typeof r.problem === 'string' && r.problem.length > 0));
    }) as never,
    PURE_RUNS,
  );
});

test('the package verifier refuses every mutated package with PackageVerificationError and accepts the intact one', async () => {
  const key = testSigningKey();
  const good = signedTestPackage(key, '1.0.0');
  assert.equal(verifyPackage(good, key.publicKeyPem).manifest.version, '1.0.0');
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(good.length - 1), bits: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(good.length - 1), bits: fc.constant(0) }),
    fc.record({ kind: fc.constant('random' as const), at: fc.nat(4096), bits: fc.nat(255) }),
  );
  await check(
    'package-verifier',
    fc.property(mutation, (m) => {
      const bytes = Buffer.from(good);
      const pkg = m.kind === 'flip' ? (bytes[m.at] ^= m.bits, bytes) : m.kind === 'truncate' ? bytes.subarray(0, m.at) : Buffer.from(Array.from({ length: m.at }, (_, i) => (i * 31 + m.bits) & 255));
      onlyThrows('package-verifier', (e) => e instanceof PackageVerificationError, () => verifyPackage(pkg, key.publicKeyPem));
    }) as never,
    PURE_RUNS,
  );
});
