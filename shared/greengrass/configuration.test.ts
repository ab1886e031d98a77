import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyConfigurationUpdate, parseConfigurationUpdate } from './configuration';

const defaults = { threshold: 3, window: { size: 64, step: 8 }, topics: ['a', 'b'] };

test('first install: defaults, then merge (objects key by key, lists replaced whole)', () => {
  const config = applyConfigurationUpdate(undefined, defaults, { merge: { window: { size: 128 }, topics: ['c'] } });
  assert.deepEqual(config, { threshold: 3, window: { size: 128, step: 8 }, topics: ['c'] });
});

test('a later deployment keeps what was merged before; defaults never overwrite', () => {
  const running = { threshold: 5, window: { size: 128, step: 8 }, topics: ['c'] };
  assert.deepEqual(applyConfigurationUpdate(running, defaults, {}), running);
  assert.deepEqual(applyConfigurationUpdate(running, { ...defaults, newKey: true }, {}), { ...running, newKey: true });
});

test('reset brings pointers back to their defaults, "" resets everything, merge applies after reset', () => {
  const running = { threshold: 5, window: { size: 128, step: 4 }, topics: ['c'], extra: 1 };
  assert.deepEqual(applyConfigurationUpdate(running, defaults, { reset: ['/window/size', '/topics'] }), { threshold: 5, window: { size: 64, step: 4 }, topics: ['a', 'b'], extra: 1 });
  assert.deepEqual(applyConfigurationUpdate(running, defaults, { reset: [''] }), defaults);
  assert.deepEqual(applyConfigurationUpdate(running, defaults, { reset: ['/threshold'], merge: { threshold: 9 } }).threshold, 9);
  assert.deepEqual(applyConfigurationUpdate({ 'a/b': 1, 'c~d': 2 }, {}, { reset: ['/a~1b', '/c~0d'] }), {});
  assert.throws(() => applyConfigurationUpdate(running, defaults, { reset: ['/topics/0'] }), /points into a list/);
});

test('the API form is checked: merge must be a JSON object text, reset a list of pointers', () => {
  assert.deepEqual(parseConfigurationUpdate({ merge: '{"a":1}', reset: ['/b'] }, 'u'), { merge: { a: 1 }, reset: ['/b'] });
  assert.match(parseConfigurationUpdate({ merge: '[1]' }, 'u') as string, /merge must be a JSON object/);
  assert.match(parseConfigurationUpdate({ merge: '{' }, 'u') as string, /merge is not valid JSON/);
  assert.match(parseConfigurationUpdate({ reset: ['nope'] }, 'u') as string, /is not a JSON pointer/);
});
