import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createMessage, decodeMessage, DELIMITER, encodeMessage, signFrames } from './wire';

const KEY = 'a3f1c0de';

test('a message survives encode and decode, signed with HMAC-SHA256 over its four JSON frames', () => {
  const parent = createMessage('execute_request', { code: '1' }, 'session-1').header;
  const msg = createMessage('execute_reply', { status: 'ok', execution_count: 3 }, 'session-1', parent);
  const frames = encodeMessage(KEY, msg);
  assert.equal(frames[0], DELIMITER);
  const expected = createHmac('sha256', KEY).update(frames[2]).update(frames[3]).update(frames[4]).update(frames[5]).digest('hex');
  assert.equal(frames[1], expected);
  // A ROUTER on the other side prefixes routing identities: they must be skipped.
  const decoded = decodeMessage(KEY, [Buffer.from('identity'), ...frames.map((f) => Buffer.from(f))]);
  assert.deepEqual(decoded, msg);
  assert.equal(decoded.parent_header.msg_id, parent.msg_id);
});

test('tampered content, a wrong key, a missing delimiter or bad JSON are refused', () => {
  const frames = encodeMessage(KEY, createMessage('status', { execution_state: 'idle' }, 's')).map((f) => Buffer.from(f));
  const tampered = [...frames];
  tampered[5] = Buffer.from('{"execution_state":"busy"}');
  assert.throws(() => decodeMessage(KEY, tampered), /signature does not match/);
  assert.throws(() => decodeMessage('other-key', frames), /signature does not match/);
  assert.throws(() => decodeMessage(KEY, frames.slice(1)), /no <IDS\|MSG> delimiter/);
  assert.throws(() => decodeMessage(KEY, frames.slice(0, 4)), /expected at least 5/);
  const badJson = [frames[0], Buffer.from(signFrames(KEY, ['{', '{}', '{}', '{}'])), Buffer.from('{'), Buffer.from('{}'), Buffer.from('{}'), Buffer.from('{}')];
  assert.throws(() => decodeMessage(KEY, badJson), /frame header is not JSON/);
});

test('an empty key means unsigned messages, as the protocol allows', () => {
  const frames = encodeMessage('', createMessage('kernel_info_request', {}, 's'));
  assert.equal(frames[1], '');
  assert.equal(decodeMessage('', frames.map((f) => Buffer.from(f))).header.msg_type, 'kernel_info_request');
});
