/**
 * Lab 05's drift scenario and releases: the farm's anemometers recalibrated (reading `gain` times the wind),
 * a model's false alarms per turbine-day on a labelled simulated farm with that recalibration, and a model
 * directory released as a signed package in S3 (what `npm run package` builds), ready for a deploy job.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { evaluateOnFrames, loadDetector, readModelDir, writeModelDir } from '../detector/index';
import { packageModel, type SigningKey } from '../packaging/index';
import { ensureBucket } from '../workflows/sagemaker/edge-packaging';
import { simulateFarm } from '../turbine/farm';
import type { RawFrame } from '../turbine/schema';
import type { Release } from '../workflows/rollout/staged-rollout';

/** A recalibrated anemometer: its reading scaled by gain (a new calibration constant), everything else unchanged. */
export function recalibratedAnemometer(gain: number): (frame: RawFrame) => RawFrame {
  return (frame) => ({ ...frame, wind_speed_rps: frame.wind_speed_rps * gain });
}

/** A labelled simulated farm whose anemometers read gain times the wind: the drift scenario's test data. */
export function recalibratedFarm(o: { turbines: number; minutes: number; seed: number; gain: number }): ReturnType<typeof simulateFarm> {
  const farm = simulateFarm({ turbines: o.turbines, minutes: o.minutes, seed: o.seed, faults: true });
  const wind = farm.frames.columns.wind_speed_rps;
  for (let i = 0; i < wind.length; i++) wind[i] *= o.gain;
  return farm;
}

/** A model directory's false alarms per turbine-day, event recall and F1 on a farm. */
export async function farmScores(modelDir: string, farm: ReturnType<typeof simulateFarm>): Promise<{ falseAlarmsPerTurbineDay: number; eventRecall: number; eventF1: number }> {
  const detector = await loadDetector(modelDir);
  try {
    const { report } = evaluateOnFrames(detector, farm.frames, farm.labels);
    return { falseAlarmsPerTurbineDay: report.false_alarms_per_turbine_day, eventRecall: report.event_recall, eventF1: report.event_f1 };
  } finally {
    detector.dispose();
  }
}

/** Packages, signs and uploads a model directory as name/version; returns the release a deploy job names. */
export async function releaseModel(s3: S3Client, bucket: string, modelDir: string, name: string, version: string, key: SigningKey): Promise<Release> {
  const built = await packageModel({ modelDir, name, version, key });
  await ensureBucket(s3, bucket);
  const objectKey = `packages/${name}-${version}.tar.gz`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: built.bytes }));
  return { name, version, bucket, key: objectKey };
}

/** A deliberately worse copy of a model directory: every threshold divided by factor (it alarms on normal data). */
export function withLoweredThresholds(modelDir: string, outDir: string, factor: number): string {
  if (!(factor > 1)) throw new Error(`factor must be above 1, got ${factor}`);
  const read = readModelDir(modelDir);
  const t = read.description.thresholds;
  const lowered = { ...t, values: t.values.map((v) => v / factor), ...(t.recent ? { recent: { ...t.recent, values: t.recent.values.map((v) => v / factor) } } : {}) };
  writeModelDir(outDir, { model: read.model, description: { ...read.description, thresholds: lowered }, metrics: read.metrics, curve: read.curve });
  return outDir;
}
