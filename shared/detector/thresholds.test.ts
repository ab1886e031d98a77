import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlarmDebouncer, debouncedAlarms, fitBudgetThresholds, originalThresholds, windowScores, withFast, withFlatline, withRecent } from './thresholds';
import { featureRatios, type WindowEvidence } from './window-score';

const evidence = (e: Partial<WindowEvidence> & { errors: ArrayLike<number> }): WindowEvidence => ({ recent: null, variation: null, state: null, ...e });

/** count x 6 errors where feature f of window i is fn(i, f). */
function errors(count: number, fn: (i: number, f: number) => number): Float32Array {
  const out = new Float32Array(count * 6);
  for (let i = 0; i < count; i++) for (let f = 0; f < 6; f++) out[i * 6 + f] = fn(i, f);
  return out;
}

test('original rule: each feature\'s mean training error, no debouncing', () => {
  const t = originalThresholds(errors(4, (i, f) => i + f));
  assert.deepEqual(t.values, [1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
  assert.equal(t.debounceWindows, 1);
  assert.equal(t.rule, 'original');
});

test('budget rule: margin x the largest error a feature holds for debounceWindows consecutive windows of one turbine', () => {
  // Feature 0: a single spike of 10 at window 3 (ignored with debounce 2), a run of 4, 5 at windows 6-7.
  const e = errors(10, (i, f) => (f === 0 ? ([0, 1, 1, 10, 1, 1, 4, 5, 1, 1][i]) : 1));
  const t = fitBudgetThresholds(e, null, { margin: 1.5, debounceWindows: 2 });
  assert.equal(t.values[0], 4 * 1.5);
  assert.equal(t.values[1], 1.5);
  const t1 = fitBudgetThresholds(e, null, { margin: 1, debounceWindows: 1 });
  assert.equal(t1.values[0], 10);
  // A run that spans two turbines does not count.
  const groups = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
  assert.equal(fitBudgetThresholds(e, groups, { margin: 1, debounceWindows: 2 }).values[0], 1);
  // The fitted data, debounced the same way, raises no alarm.
  const scores = windowScores(e, t);
  assert.equal(debouncedAlarms(scores, t.debounceWindows).reduce((a, b) => a + b, 0), 0);
});

test('budget rule refuses bad options and non-finite errors', () => {
  const e = errors(3, () => 1);
  assert.throws(() => fitBudgetThresholds(e, null, { margin: 0.5 }), /margin must be a number >= 1/);
  assert.throws(() => fitBudgetThresholds(e, null, { debounceWindows: 0 }), /debounceWindows must be a positive integer/);
  assert.throws(() => fitBudgetThresholds(errors(3, (i) => (i === 1 ? Number.NaN : 1))), /window 1, feature 0 is NaN/);
  assert.throws(() => fitBudgetThresholds(new Float32Array(5)), /need count x 6 errors/);
});

test('debouncing: an alarm needs k consecutive windows over threshold on one turbine; the streaming form agrees', () => {
  const scores = [2, 0, 2, 2, 2, 0, 2, 2, 2, 2];
  const groups = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
  assert.deepEqual(Array.from(debouncedAlarms(scores, 2)), [0, 0, 0, 1, 1, 0, 0, 1, 1, 1]);
  assert.deepEqual(Array.from(debouncedAlarms(scores, 2, groups)), [0, 0, 0, 1, 1, 0, 0, 0, 1, 1]);
  const d = new AlarmDebouncer(3);
  assert.deepEqual(scores.map((s) => (d.push(s) ? 1 : 0)), Array.from(debouncedAlarms(scores, 3)));
  assert.throws(() => new AlarmDebouncer(0), /positive integer/);
});

test('stuck-sensor rule: half the smallest normal variation; a feature that is flat in normal data is left out', () => {
  const variation = errors(5, (i, f) => (f === 4 ? (i === 2 ? 0 : 1) : 0.2 + i * 0.1));
  const t = withFlatline(fitBudgetThresholds(errors(5, () => 1)), variation);
  const expected = [0.1, 0.1, 0.1, 0.1, 0, 0.1];
  t.flatline!.forEach((v, f) => assert.ok(Math.abs(v - expected[f]) < 1e-7, `feature ${f}: ${v}`));
  // A window with roll flat (variation 0) scores far above 1 on roll, and rps flat is not flagged.
  const ratios = featureRatios(evidence({ errors: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1], variation: [0, 0.3, 0.3, 0.3, 0, 0.3] }), t);
  assert.ok(ratios[0] > 1);
  assert.ok(ratios.slice(1).every((r) => r < 1));
});

test('onset rule: recent-error thresholds fitted like the budget rule; a window over either threshold scores > 1', () => {
  const full = errors(6, () => 1);
  const recent = errors(6, (i, f) => (f === 2 ? [1, 2, 2, 1, 1, 1][i] : 1));
  const base = fitBudgetThresholds(full, null, { margin: 1, debounceWindows: 2 });
  const t = withRecent(base, recent, null, 20, 1.5);
  assert.deepEqual(t.recent, { values: [1.5, 1.5, 3, 1.5, 1.5, 1.5], errorSteps: 20, margin: 1.5 });
  assert.deepEqual(t.values, base.values);
  // Whole-window errors at threshold (ratio 1), recent error of feature 2 at 4: only the onset rule fires.
  const e = errors(1, () => 1);
  const r = errors(1, (_, f) => (f === 2 ? 4 : 1));
  assert.equal(windowScores(e, t, null, r)[0], 4 / 3);
  assert.equal(featureRatios(evidence({ errors: e, recent: r }), t)[2], 4 / 3);
  // Without recent errors (or without the rule) the score is the whole-window one.
  assert.equal(windowScores(e, t)[0], 1);
  assert.equal(windowScores(e, base, null, r)[0], 1);
  assert.throws(() => withRecent(base, recent, null, 0, 1.5), /recent errorSteps must be an integer from 1 to 100, got 0/);
  assert.throws(() => windowScores(e, t, null, errors(2, () => 1)), /recent errors: 12 values for 6 errors/);
});

test('fast rule: one window over the fast threshold alarms at once; below it the debounce still applies (batch and streaming agree)', () => {
  const scores = [0.5, 3.1, 0.5, 1.5, 1.5, 1.5, 0.2, 2.9];
  const slow = debouncedAlarms(scores, 3);
  const fast = debouncedAlarms(scores, 3, null, 3);
  assert.deepEqual(Array.from(slow), [0, 0, 0, 0, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(fast), [0, 1, 0, 0, 0, 1, 0, 0]);
  const d = new AlarmDebouncer(3, 3);
  assert.deepEqual(scores.map((s) => (d.push(s) ? 1 : 0)), Array.from(fast));
  assert.throws(() => new AlarmDebouncer(3, 0.5), /fast-rule threshold must be over 1/);
});

test('withFast: margin x the largest held-out score; refuses a margin below 1 and non-finite scores', () => {
  const base = fitBudgetThresholds(errors(6, () => 1), null, { margin: 1, debounceWindows: 1 });
  assert.equal(withFast(base, [0.2, 0.9, 0.4], 2).fast, 1.8);
  assert.throws(() => withFast(base, [0.5], 0.9), /margin must be a number >= 1/);
  assert.throws(() => withFast(base, [0.5, Number.NaN], 2), /held-out score 1 is NaN/);
  assert.throws(() => withFast(base, [], 2), /no held-out scores/);
});

test('conditioned thresholds: errors are divided by the expected error of the window\'s state; a missing state is refused', () => {
  // Expected error of feature 0 = exp(0.5 x level) (coefficients [0, 0.5, 0, 0, 0]); others not conditioned.
  const scale = { full: [[0, 0.5, 0, 0, 0], null, null, null, null, null], recent: [null, null, null, null, null, null], recentSteps: 20, levelRange: [-3, 3] as [number, number], changeMax: 1 };
  const t = { ...fitBudgetThresholds(errors(3, () => 1), null, { margin: 1, debounceWindows: 1 }), scale };
  const e = errors(1, () => 1);
  const at = (level: number) => featureRatios(evidence({ errors: e, state: { level, recentLevel: level, change: 0 } }), t);
  assert.ok(Math.abs(at(0)[0] - 1) < 1e-12);
  assert.ok(Math.abs(at(2)[0] - Math.exp(-1)) < 1e-12); // the same error is less surprising at high rotor speed
  assert.equal(at(2)[1], 1); // feature 1 is not conditioned
  assert.ok(Math.abs(at(10)[0] - Math.exp(-1.5)) < 1e-12); // levels are clamped to the fitted range (3)
  assert.throws(() => featureRatios(evidence({ errors: e }), t), /conditioned on the operating state/);
});
