import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFalseAlarmTarget, falseAlarmLine } from './false-alarm-summary';
import { rateUpperBound } from './poisson';

const metrics = (falseAlarms: number, days: number) => ({
  false_alarms: falseAlarms,
  normal_turbine_days: days,
  false_alarms_per_turbine_day: falseAlarms / days,
  false_alarms_per_turbine_day_upper95: rateUpperBound(falseAlarms, days),
});

test('too little normal time is said, with the time the target needs', () => {
  const check = checkFalseAlarmTarget(metrics(0, 1.54), 0.5);
  assert.equal(check.supported, false);
  assert.ok(Math.abs(check.normal_turbine_days_needed - 5.99) < 0.01);
  assert.match(check.note, /too little normal time to support the target 0.5 per turbine-day: 1.54 normal turbine-days, and even with no false alarm at least 6.0 are needed/);
});

test('a bound at or below the target supports it; enough time with too many alarms does not', () => {
  assert.equal(checkFalseAlarmTarget(metrics(0, 7), 0.5).supported, true);
  const over = checkFalseAlarmTarget(metrics(9, 10), 0.5);
  assert.equal(over.supported, false);
  assert.match(over.note, /upper bound 1.\d\d is above the target 0.5/);
});

test('the line puts the 95 % upper bound beside the point value', () => {
  assert.equal(falseAlarmLine(metrics(2, 4)), 'false alarms: 2 in 4.00 normal turbine-days = 0.50 per turbine-day (95 % upper bound 1.57)');
});
