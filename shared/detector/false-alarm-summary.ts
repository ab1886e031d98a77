/**
 * The false-alarm rate as it should be read: the count, the normal time, the point value, its 95 % Poisson
 * upper bound, and whether that much normal time can support the rate the thresholds were fitted for.
 */
import type { DetectionMetrics } from './evaluation';
import { exposureToSupport } from './poisson';

/** What the evaluation's normal time says about a target false-alarm rate. */
export interface FalseAlarmTargetCheck {
  per_turbine_day: number;
  /** Normal turbine-days with no false alarm needed before the 95 % upper bound reaches the target. */
  normal_turbine_days_needed: number;
  /** The measured 95 % upper bound is at or below the target. */
  supported: boolean;
  note: string;
}

/** Checks the measured rate's upper bound against a target rate (false alarms per turbine-day). */
export function checkFalseAlarmTarget(metrics: Pick<DetectionMetrics, 'false_alarms_per_turbine_day_upper95' | 'normal_turbine_days'>, target: number): FalseAlarmTargetCheck {
  const needed = exposureToSupport(target);
  const upper = metrics.false_alarms_per_turbine_day_upper95;
  const supported = upper !== null && upper <= target;
  const days = metrics.normal_turbine_days;
  let note: string;
  if (supported) note = `the 95 % upper bound ${upper!.toFixed(2)} is at or below the target ${target} per turbine-day`;
  else if (days < needed) {
    note = `too little normal time to support the target ${target} per turbine-day: ${days.toFixed(2)} normal turbine-days, and even with no false alarm at least ${needed.toFixed(1)} are needed`;
  } else note = `the 95 % upper bound ${upper === null ? 'is undefined' : upper.toFixed(2)} is above the target ${target} per turbine-day`;
  return { per_turbine_day: target, normal_turbine_days_needed: needed, supported, note };
}

/** One line: "false alarms: 2 in 3.10 normal turbine-days = 0.65 per turbine-day (95 % upper bound 2.03)". */
export function falseAlarmLine(metrics: Pick<DetectionMetrics, 'false_alarms' | 'normal_turbine_days' | 'false_alarms_per_turbine_day' | 'false_alarms_per_turbine_day_upper95'>): string {
  const upper = metrics.false_alarms_per_turbine_day_upper95;
  return (
    `false alarms: ${metrics.false_alarms} in ${metrics.normal_turbine_days.toFixed(2)} normal turbine-days = ${metrics.false_alarms_per_turbine_day.toFixed(2)} per turbine-day ` +
    `(95 % upper bound ${upper === null ? 'undefined: no normal time' : upper.toFixed(2)})`
  );
}
