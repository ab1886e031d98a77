/**
 * The evaluate step's threshold fitting: from a trained model and its prepared data, the default rule's
 * thresholds (error scale, budget, onset, stuck-sensor floor, fast rule) and the two baselines' thresholds.
 */
import * as tf from '@tensorflow/tfjs';
import type { CalibrationScoring } from './calibration-data';
import { type ErrorScale, fitErrorScale, normaliseErrors, operatingStates } from './conditioning';
import { reconstructionErrorsOver, windowVariation, zScoreErrors } from './scoring';
import { type BudgetOptions, DEFAULT_BUDGET, fitBudgetThresholds, originalThresholds, type Thresholds, VARIATION_STEPS, fastScores, withFast, withFlatline, withRecent } from './thresholds';
import type { PreparedData } from './training-data';
import { WINDOW_SIZE } from './windows';

/**
 * Thresholds of the three rules from a trained model and the prepared data. The default rule: the error
 * scale model fitted on all normal windows (training and held-out; conditioning.ts), budget thresholds on
 * the held-out windows' conditioned errors (whole window and newest steps), the stuck-sensor floor, then the
 * fast rule over the finished held-out scores.
 */
export function fitAllThresholds(model: tf.LayersModel, data: PreparedData, budget: Partial<BudgetOptions> = {}): { thresholds: Thresholds; originalThresholds: Thresholds; zScoreThresholds: Thresholds } {
  const o = { ...DEFAULT_BUDGET, ...budget };
  const recentSteps = stateSteps(o);
  const [heldOut, heldOutRecent] = reconstructionErrorsOver(model, data.holdout, [o.errorSteps, recentSteps]);
  const [trainErrors, trainRecent, trainWhole] = reconstructionErrorsOver(model, data.train, [o.errorSteps, recentSteps, WINDOW_SIZE / 6]);
  const heldOutStates = operatingStates(data.holdout, recentSteps);
  const heldOutVariation = windowVariation(data.holdout);
  const trainVariation = windowVariation(data.train);
  let scale: ErrorScale | undefined;
  let fitted = { full: heldOut, recent: heldOutRecent };
  if (o.conditioned) {
    scale = fitErrorScale(concatFloats(trainErrors, heldOut), concatFloats(trainRecent, heldOutRecent), [...operatingStates(data.train, recentSteps), ...heldOutStates], recentSteps);
    fitted = { full: normaliseErrors(heldOut, heldOutStates, scale, 'full'), recent: normaliseErrors(heldOutRecent, heldOutStates, scale, 'recent') };
  }
  let thresholds = withFlatline(fitBudgetThresholds(fitted.full, data.holdoutTurbine, o), concatFloats(trainVariation, heldOutVariation));
  if (o.recentSteps > 0) thresholds = withRecent(thresholds, fitted.recent, data.holdoutTurbine, o.recentSteps, o.recentMargin);
  if (scale) thresholds = { ...thresholds, scale };
  if (o.fastMargin > 0) {
    const scores = fastScores(heldOut, thresholds, heldOutVariation, o.recentSteps > 0 ? heldOutRecent : null, scale ? heldOutStates : null);
    thresholds = withFast(thresholds, scores, o.fastMargin);
  }
  return {
    thresholds,
    originalThresholds: originalThresholds(trainWhole),
    zScoreThresholds: fitBudgetThresholds(zScoreErrors(data.holdout), data.holdoutTurbine, { ...o, errorSteps: 100 }),
  };
}

function concatFloats(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * What calibrating the thresholds fitAllThresholds(model, data, budget) returns will score (calibrationScoring
 * of them), known before they are fitted so that a worker can score while they are.
 */
export function calibrationScoringFor(budget: Partial<BudgetOptions> = {}): CalibrationScoring {
  const o = { ...DEFAULT_BUDGET, ...budget };
  return { spans: [o.errorSteps, o.recentSteps > 0 ? o.recentSteps : o.errorSteps], variationSteps: VARIATION_STEPS, stateSteps: o.conditioned ? stateSteps(o) : null };
}

/** Steps the operating state's recent level is taken over: the onset rule's span (the stuck-sensor rule's when it is off). */
function stateSteps(o: BudgetOptions): number {
  return o.recentSteps > 0 ? o.recentSteps : VARIATION_STEPS;
}

