import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { type AlarmWindow, ContingencyController, DEFAULT_CONTINGENCY, linkContingency, parseContingencyConfig } from './contingency';

const window = (alarm: boolean, score: number, overThreshold: string[]): AlarmWindow => ({ alarm, score, overThreshold, model: 'm', version: '1.0.0', endEventTime: '2021-03-01T12:00:05.000Z' });

function actuator(): { calls: string[]; brake(on: boolean): void; disconnectGenerator(on: boolean): void } {
  const calls: string[] = [];
  return { calls, brake: (on) => calls.push(`brake ${on}`), disconnectGenerator: (on) => calls.push(`disconnect ${on}`) };
}

test('rules pick the action by feature and severity, first match wins', () => {
  const c = new ContingencyController('t', DEFAULT_CONTINGENCY);
  assert.deepEqual(c.decide(window(true, 5, ['roll', 'voltage'])), { action: 'brake', feature: 'roll', severity: 'critical' });
  assert.deepEqual(c.decide(window(true, 1.5, ['roll'])), { action: 'report', feature: 'roll', severity: 'warning' });
  assert.deepEqual(c.decide(window(true, 1.5, ['wind_speed_rps', 'voltage'])), { action: 'disconnect', feature: 'voltage', severity: 'warning' });
  assert.deepEqual(c.decide(window(true, 9, [])), { action: 'report', feature: 'unknown', severity: 'critical' });
});

test('an episode that starts as a warning and turns critical is decided again: the growing fault brakes', () => {
  const a = actuator();
  const c = new ContingencyController('t', DEFAULT_CONTINGENCY, a);
  assert.equal(c.onWindow(window(true, 1.4, ['roll']))?.action, 'report', 'a warning is only reported');
  assert.equal(c.onWindow(window(true, 1.8, ['roll'])), null, 'still a warning: no second decision');
  const escalated = c.onWindow(window(true, 3, ['roll']));
  assert.equal(escalated?.action, 'brake');
  assert.equal(escalated?.severity, 'critical');
  assert.equal(c.onWindow(window(true, 5, ['roll'])), null, 'decided critical once');
  assert.deepEqual(a.calls, ['brake true']);
  assert.equal(c.state.decisions, 2);
  // A critical episode that was released is not re-decided, however high it goes.
  assert.equal(c.release('r1'), true);
  assert.equal(c.onWindow(window(true, 9, ['roll'])), null);
  assert.deepEqual(a.calls, ['brake true', 'brake false']);
});

test('one decision per alarm episode; the action holds until a release; a release holds for the episode', () => {
  const a = actuator();
  const c = new ContingencyController('t', DEFAULT_CONTINGENCY, a);
  assert.equal(c.onWindow(window(false, 0.5, [])), null);
  const alert = c.onWindow(window(true, 4, ['pitch']));
  assert.equal(alert?.action, 'brake');
  assert.match(alert?.message ?? '', /critical anomaly on pitch .* rotor braked, waiting for an operator release/);
  assert.equal(c.onWindow(window(true, 4, ['pitch'])), null, 'same episode');
  assert.deepEqual(a.calls, ['brake true']);
  assert.equal(c.state.engaged, true);
  // A new episode while engaged takes no second decision.
  c.onWindow(window(false, 0.1, []));
  assert.equal(c.onWindow(window(true, 4, ['voltage'])), null);
  assert.equal(c.release('r1'), true);
  assert.deepEqual(a.calls, ['brake true', 'brake false']);
  assert.equal(c.state.engaged, false);
  assert.equal(c.state.release, 'r1');
  assert.equal(c.release('r1'), false, 'the same release id is handled once');
  // Still in the episode the release happened in: no new brake until it ends.
  assert.equal(c.onWindow(window(true, 4, ['roll'])), null);
  c.onWindow(window(false, 0.1, []));
  assert.equal(c.onWindow(window(true, 4, ['voltage']))?.action, 'disconnect');
  assert.deepEqual(a.calls, ['brake true', 'brake false', 'disconnect true']);
  assert.equal(c.state.decisions, 2);
});

test('bad configuration and release ids are refused with a clear error, state unchanged', () => {
  assert.throws(() => parseContingencyConfig(null), /contingency must be an object/);
  assert.throws(() => parseContingencyConfig({ rules: [] }), /contingency.rules must be a non-empty array/);
  assert.throws(() => parseContingencyConfig({ criticalScore: 0.5, rules: [{ action: 'report' }] }), /criticalScore must be a number above 1/);
  assert.throws(() => parseContingencyConfig({ rules: [{ action: 'explode' }] }), /rules\[0\]\.action must be one of brake, disconnect, report, got "explode"/);
  assert.throws(() => parseContingencyConfig({ rules: [{ action: 'brake', severity: 'bad' }] }), /rules\[0\]\.severity must be warning or critical/);
  assert.deepEqual(parseContingencyConfig({ rules: [{ feature: 'roll', action: 'brake' }] }), { criticalScore: DEFAULT_CONTINGENCY.criticalScore, rules: [{ feature: 'roll', action: 'brake' }] });
  const c = new ContingencyController('t');
  c.onWindow(window(true, 4, ['roll']));
  const before = c.state;
  assert.throws(() => c.release(''), /a release id must be a string of 1 to 128 characters/);
  assert.throws(() => c.release(7 as unknown as string), /got 7/);
  assert.deepEqual(c.state, before);
});

test('linked: the alert and the state are published, a desired release (delta or read at connect) frees the turbine', async () => {
  const published: { topic: string; payload: unknown }[] = [];
  const handlers = new Map<string, (t: string, p: ArrayBuffer) => void>();
  const link = Object.assign(new EventEmitter(), {
    isOnline: true,
    publish: async (topic: string, payload: string) => void published.push({ topic, payload: JSON.parse(payload) }),
    subscribe: async (topic: string, h: (t: string, p: ArrayBuffer) => void) => void handlers.set(topic, h),
  });
  const logs: string[] = [];
  const a = actuator();
  const c = new ContingencyController('t1', DEFAULT_CONTINGENCY, a);
  await linkContingency(c, link, '$aws/things/t1', 'wind-turbine/t1/alerts', (l) => logs.push(l));
  c.onWindow(window(true, 3, ['roll']));
  assert.equal(published[0].topic, 'wind-turbine/t1/alerts');
  assert.equal((published[0].payload as { action: string }).action, 'brake');
  assert.equal(published[1].topic, '$aws/things/t1/shadow/update');
  assert.equal((published[1].payload as { state: { reported: { contingency: { engaged: boolean } } } }).state.reported.contingency.engaged, true);
  const send = (topic: string, doc: unknown): void => (handlers.get(topic) as (t: string, p: ArrayBuffer) => void)(topic, new TextEncoder().encode(typeof doc === 'string' ? doc : JSON.stringify(doc)).buffer as ArrayBuffer);
  send('$aws/things/t1/shadow/update/delta', 'not json');
  send('$aws/things/t1/shadow/update/delta', { state: { contingency: { release: 42 } } });
  assert.equal(c.state.engaged, true, 'bad deltas change nothing');
  assert.match(logs.join('\n'), /not JSON[\s\S]*release refused: a release id must be a string/);
  send('$aws/things/t1/shadow/update/delta', { state: { contingency: { release: 'op-1' } } });
  assert.equal(c.state.engaged, false);
  assert.deepEqual(a.calls, ['brake true', 'brake false']);
  const last = published[published.length - 1].payload as { state: { reported: { contingency: { release: string } } } };
  assert.equal(last.state.reported.contingency.release, 'op-1');
  // Engaged again, then a release set while offline arrives with the shadow read at reconnection.
  c.onWindow(window(false, 0.1, []));
  c.onWindow(window(true, 3, ['roll']));
  link.emit('online');
  assert.equal(published[published.length - 2].topic, '$aws/things/t1/shadow/get');
  send('$aws/things/t1/shadow/get/accepted', { state: { desired: { contingency: { release: 'op-2' } }, delta: { contingency: { release: 'op-2' } } } });
  assert.equal(c.state.engaged, false);
  assert.equal(c.state.release, 'op-2');
});
