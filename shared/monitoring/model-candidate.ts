/**
 * A retrained model against the deployed one, on the same data: the held-out field windows (share of
 * normal windows over threshold, share of confirmed-fault windows over threshold) and the simulator's
 * labelled test set (event F1, recall, false alarms per turbine-day). The candidate is then registered in
 * the SageMaker model registry as a new version of the model package group, PendingManualApproval, with
 * both models' results in its customer metadata, so the approver sees the comparison on the version.
 */
import { CreateModelPackageCommand, CreateModelPackageGroupCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { S3Client } from '@aws-sdk/client-s3';
import { operatingStates } from '../detector/conditioning';
import { type Detector, evaluateOnFrames, windowScores, windowVariation, type WindowSet } from '../detector/index';
import type { FeatureStatistics } from '../features/statistics';
import { readFramesCsv } from '../turbine/csv';
import { readLabelsCsv } from '../turbine/labels';
import { ensureBucket, uploadModelDirectory } from '../workflows/sagemaker/edge-packaging';
import { type FieldTrainingSet, renormaliseWindows } from './field-training-set';

/** One model's results. */
export interface ModelResults {
  field: { heldOutWindows: number; overThresholdShare: number; faultWindows: number; faultOverThresholdShare: number | null };
  test: { eventF1: number; eventRecall: number; falseAlarmsPerTurbineDay: number } | null;
}

/** Window scores of a detector on windows normalised with `from` statistics. */
export function detectorScores(detector: Detector, set: WindowSet, from: Pick<FeatureStatistics, 'mean' | 'std'>): Float64Array {
  if (set.count === 0) return new Float64Array(0);
  const own = renormaliseWindows(set, from, detector.stats);
  const t = detector.thresholds;
  const [errors, recent] = detector.scoreWindowsOver(own, t.recent ? [t.errorSteps, t.recent.errorSteps] : [t.errorSteps]);
  const variation = t.flatline ? windowVariation(own, t.variationSteps) : null;
  const states = t.scale ? operatingStates(own, t.scale.recentSteps) : null;
  return windowScores(errors, t, variation, recent ?? null, states);
}

/** A detector's results on the held-out field windows and, if given, the simulator's labelled test set. */
export function modelResults(detector: Detector, field: FieldTrainingSet, fieldStats: Pick<FeatureStatistics, 'mean' | 'std'>, testSet?: { path: string; labelsPath: string }): ModelResults {
  const share = (scores: Float64Array): number => scores.filter((s) => s > 1).length / scores.length;
  const normal = detectorScores(detector, field.heldOut, fieldStats);
  const faults = detectorScores(detector, field.faults, fieldStats);
  let test: ModelResults['test'] = null;
  if (testSet) {
    const { report } = evaluateOnFrames(detector, readFramesCsv(testSet.path), readLabelsCsv(testSet.labelsPath));
    test = { eventF1: report.event_f1, eventRecall: report.event_recall, falseAlarmsPerTurbineDay: report.false_alarms_per_turbine_day };
  }
  return {
    field: { heldOutWindows: normal.length, overThresholdShare: normal.length ? share(normal) : Number.NaN, faultWindows: faults.length, faultOverThresholdShare: faults.length ? share(faults) : null },
    test,
  };
}

/** Customer metadata (string to string, at most 256 characters a value) of both models' results. */
export function comparisonMetadata(candidate: ModelResults, deployed: ModelResults, deployedVersion: string): Record<string, string> {
  const out: Record<string, string> = { 'compared-with': deployedVersion };
  const put = (who: string, r: ModelResults): void => {
    out[`${who}.field.over-threshold-share`] = r.field.overThresholdShare.toFixed(4);
    out[`${who}.field.held-out-windows`] = String(r.field.heldOutWindows);
    if (r.field.faultOverThresholdShare !== null) out[`${who}.field.fault-over-threshold-share`] = r.field.faultOverThresholdShare.toFixed(4);
    if (r.test) {
      out[`${who}.test.event-f1`] = r.test.eventF1.toFixed(4);
      out[`${who}.test.event-recall`] = r.test.eventRecall.toFixed(4);
      out[`${who}.test.false-alarms-per-turbine-day`] = r.test.falseAlarmsPerTurbineDay.toFixed(3);
    }
  };
  put('candidate', candidate);
  put('deployed', deployed);
  return out;
}

/** Uploads the candidate's model directory and registers it PendingManualApproval with the comparison; returns its ARN. */
export async function registerCandidate(
  sm: SageMakerClient,
  s3: S3Client,
  o: { group: string; bucket: string; key: string; modelDir: string; version: string; candidate: ModelResults; deployed: ModelResults; deployedVersion: string },
): Promise<string> {
  if (!/^\d+\.\d+\.\d+$/.test(o.version)) throw new Error(`version must be x.y.z, got ${JSON.stringify(o.version)}`);
  await ensureBucket(s3, o.bucket);
  const uri = await uploadModelDirectory(s3, o.modelDir, o.bucket, o.key);
  try {
    await sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: o.group }));
  } catch (err) {
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
  const out = await sm.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: o.group,
      ModelPackageDescription: `retrained on field data; compared with ${o.deployedVersion}`,
      ModelApprovalStatus: 'PendingManualApproval',
      InferenceSpecification: { Containers: [{ Image: 'edge-agent/onnxruntime-node', ModelDataUrl: uri }], SupportedContentTypes: ['application/json'], SupportedResponseMIMETypes: ['application/json'] },
      CustomerMetadataProperties: { semver: o.version, ...comparisonMetadata(o.candidate, o.deployed, o.deployedVersion) },
    }),
  );
  return out.ModelPackageArn as string;
}
