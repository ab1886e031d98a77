import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clientTokenOf,
  computeDelta,
  deleteShadow,
  emptyShadow,
  getShadow,
  parseShadowRequest,
  rejectedDocument,
  shadowNameProblem,
  ShadowError,
  updateShadow,
  type JsonObject,
  type StoredShadow,
} from './document';

const T0 = 1_700_000_000;

function update(stored: StoredShadow, request: JsonObject, now = T0) {
  return updateShadow(stored, request, clientTokenOf(request), now);
}

function rejects(fn: () => unknown, code: number, message: RegExp | string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ShadowError, `expected ShadowError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('the first update creates version 1 with metadata, no previous document, and a delta when desired differs', () => {
  const r = update(emptyShadow('t1', ''), { state: { desired: { color: 'red', speed: { max: 10 } } }, clientToken: 'tok' });
  assert.equal(r.shadow.version, 1);
  assert.equal(r.shadow.exists, true);
  assert.deepEqual(r.accepted, {
    state: { desired: { color: 'red', speed: { max: 10 } } },
    metadata: { desired: { color: { timestamp: T0 }, speed: { max: { timestamp: T0 } } } },
    version: 1,
    timestamp: T0,
    clientToken: 'tok',
  });
  assert.deepEqual(r.delta, {
    version: 1,
    timestamp: T0,
    state: { color: 'red', speed: { max: 10 } },
    metadata: { color: { timestamp: T0 }, speed: { max: { timestamp: T0 } } },
    clientToken: 'tok',
  });
  assert.equal(r.documents.previous, undefined);
  assert.deepEqual((r.documents.current as JsonObject).version, 1);
  assert.equal(r.documents.clientToken, 'tok');
});

test('reported catching up removes the delta; accepted carries only the fields sent', () => {
  const s1 = update(emptyShadow('t1', ''), { state: { desired: { color: 'red', on: true } } }).shadow;
  const r = update(s1, { state: { reported: { color: 'red' } } }, T0 + 5);
  assert.deepEqual(r.accepted.state, { reported: { color: 'red' } });
  assert.deepEqual(r.accepted.metadata, { reported: { color: { timestamp: T0 + 5 } } });
  assert.deepEqual((r.delta as JsonObject).state, { on: true });
  const r2 = update(r.shadow, { state: { reported: { on: true } } });
  assert.equal(r2.delta, undefined);
  assert.equal(r2.shadow.version, 3);
  assert.deepEqual((r2.documents.previous as JsonObject).version, 2);
  assert.deepEqual((r2.documents.previous as JsonObject).state, { desired: { color: 'red', on: true }, reported: { color: 'red' } });
  assert.deepEqual((r2.documents.current as JsonObject).state, { desired: { color: 'red', on: true }, reported: { color: 'red', on: true } });
});

test('merge: objects recursively, arrays replaced whole, null deletes a key or a section', () => {
  let s = update(emptyShadow('t', ''), { state: { desired: { a: { x: 1, y: 2 }, list: [1, 2, 3], keep: 'k' }, reported: { z: 1 } } }).shadow;
  s = update(s, { state: { desired: { a: { y: null, w: 3 }, list: [9] } } }, T0 + 1).shadow;
  assert.deepEqual(s.desired, { a: { x: 1, w: 3 }, list: [9], keep: 'k' });
  assert.deepEqual(s.metadata.desired, {
    a: { x: { timestamp: T0 }, w: { timestamp: T0 + 1 } },
    list: [{ timestamp: T0 + 1 }],
    keep: { timestamp: T0 },
  });
  s = update(s, { state: { desired: { a: { x: null, w: null } } } }).shadow;
  assert.deepEqual(s.desired, { list: [9], keep: 'k' }, 'an object emptied by deletions goes away');
  s = update(s, { state: { desired: null } }).shadow;
  assert.equal(s.desired, undefined);
  assert.deepEqual(s.reported, { z: 1 });
  const emptied = update(s, { state: null });
  assert.equal(emptied.shadow.exists, true);
  assert.equal(emptied.shadow.version, s.version + 1);
  assert.deepEqual(getShadow(emptied.shadow, undefined, T0).state, {});
});

test('delta keeps only differing nested leaves, compares arrays whole, ignores reported-only keys', () => {
  assert.deepEqual(
    computeDelta({ a: { b: 1, c: 2 }, l: [1, 2], same: 's', missing: 4 }, { a: { b: 1, c: 3 }, l: [1, 2], same: 's', extra: 9 }),
    { a: { c: 2 }, missing: 4 },
  );
  assert.deepEqual(computeDelta({ l: [1, 2] }, { l: [2, 1] }), { l: [1, 2] });
  assert.equal(computeDelta({ a: 1 }, { a: 1 }), undefined);
  assert.equal(computeDelta(undefined, { a: 1 }), undefined);
});

test('get returns state, metadata, delta, version and the clientToken; a missing shadow is 404', () => {
  const s = update(emptyShadow('t1', 'cfg'), { state: { desired: { a: 1 }, reported: { a: 0 } } }).shadow;
  assert.deepEqual(getShadow(s, 'c1', T0 + 9), {
    state: { desired: { a: 1 }, reported: { a: 0 }, delta: { a: 1 } },
    metadata: { desired: { a: { timestamp: T0 } }, reported: { a: { timestamp: T0 } } },
    version: 1,
    timestamp: T0 + 9,
    clientToken: 'c1',
  });
  rejects(() => getShadow(emptyShadow('t1', ''), undefined, T0), 404, "No shadow exists with name: 't1'");
  rejects(() => getShadow(emptyShadow('t1', 'cfg'), undefined, T0), 404, "No shadow exists with name: 't1~cfg'");
});

test('version: a matching version is accepted, another is 409, and delete keeps the number for the next update', () => {
  const s1 = update(emptyShadow('t', ''), { state: { reported: { a: 1 } } }).shadow;
  rejects(() => update(s1, { state: { reported: { a: 2 } }, version: 5 }), 409, 'Version conflict');
  const s2 = update(s1, { state: { reported: { a: 2 } }, version: 1 }).shadow;
  assert.equal(s2.version, 2);
  const del = deleteShadow(s2, 'd1', T0);
  assert.deepEqual(del.accepted, { version: 2, timestamp: T0, clientToken: 'd1' });
  assert.equal(del.shadow.exists, false);
  rejects(() => getShadow(del.shadow, undefined, T0), 404, /No shadow exists/);
  rejects(() => deleteShadow(del.shadow, undefined, T0), 404, /No shadow exists/);
  const again = update(del.shadow, { state: { reported: { b: 1 } } });
  assert.equal(again.shadow.version, 3);
  assert.deepEqual(again.shadow.reported, { b: 1 }, 'a re-created shadow starts empty');
  assert.equal(again.documents.previous, undefined);
});

test('bad requests get AWS codes and messages and change nothing', () => {
  const s = update(emptyShadow('t', ''), { state: { reported: { a: 1 } } }).shadow;
  const before = JSON.stringify(s);
  rejects(() => parseShadowRequest('{nope'), 400, 'Invalid JSON');
  rejects(() => parseShadowRequest('[1]'), 400, 'Invalid JSON');
  assert.deepEqual(parseShadowRequest(''), {});
  rejects(() => update(s, {}), 400, 'Missing required node: state');
  rejects(() => update(s, { state: 3 }), 400, 'State node must be an object');
  rejects(() => update(s, { state: { desired: 'x' } }), 400, 'Desired node must be an object');
  rejects(() => update(s, { state: { reported: [1] } }), 400, 'Reported node must be an object');
  rejects(() => update(s, { state: { delta: { a: 1 } } }), 400, "State contains an invalid node: 'delta'");
  rejects(() => update(s, { state: { reported: { a: 1 } }, version: 'one' }), 400, 'Invalid version');
  rejects(() => update(s, { state: { reported: { a: 1 } }, clientToken: 'x'.repeat(65) }), 400, 'Invalid clientToken');
  rejects(() => update(s, { state: { reported: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } } } }), 400, /too many levels of nesting; maximum is 6/);
  rejects(() => update(s, { state: { reported: { big: 'x'.repeat(8 * 1024) } } }), 413, 'The payload exceeds the maximum size allowed');
  assert.equal(JSON.stringify(s), before);
  // Six levels are fine.
  update(s, { state: { reported: { a: { b: { c: { d: { e: { f: 1 } } } } } } } });
});

test('rejected documents carry code, message, timestamp and the clientToken', () => {
  assert.deepEqual(rejectedDocument(new ShadowError(409, 'Version conflict'), 'ct', T0), {
    code: 409,
    message: 'Version conflict',
    timestamp: T0,
    clientToken: 'ct',
  });
});

test('thing and shadow names are validated', () => {
  assert.equal(shadowNameProblem('turbine-1', ''), undefined);
  assert.equal(shadowNameProblem('turbine-1', 'model$config'), undefined);
  assert.match(shadowNameProblem('turbine 1', '')!, /Invalid thing name/);
  assert.match(shadowNameProblem('t', 'x'.repeat(65))!, /Invalid shadow name/);
});
