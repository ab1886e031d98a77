/**
 * Operator labels: an operator confirms or rejects an alarm the field raised. The decision is stored with
 * the captured windows around the alarm at s3://<bucket>/labels/<thing>/<captureId>.json, so a labelled
 * set grows from the field. The key depends only on the alarm, and the object is written with
 * If-None-Match: * (a conditional create, supported by S3 and the local cloud), so repeating the same call
 * stores nothing new and a contradicting second decision is refused naming the first. On AWS S3 the
 * conditional create also settles two operators racing; the local cloud checks If-None-Match before it
 * writes the body, not atomically, so there a race can end with the later of two writes.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CaptureBatch, CaptureRecord } from '../edge/capture';
import { listObjectKeys, readCapturedBatches, readObjectText } from './field-data-reader';

/** What an operator decided about an alarm. */
export interface AlarmDecision {
  thingName: string;
  /** captureId of the captured record that raised the alarm. */
  captureId: string;
  decision: 'confirmed' | 'rejected';
  operator: string;
  note?: string;
}

/** A stored label: the decision, when it was made, and the captured windows around the alarm. */
export interface AlarmLabel extends AlarmDecision {
  decidedAt: string;
  model: string;
  version: string;
  /** The alarm's record and the same device's captured records within contextSeconds of it, by inference time. */
  windows: CaptureRecord[];
}

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The S3 key of an alarm's label. */
export function labelKey(thingName: string, captureId: string): string {
  return `labels/${thingName}/${captureId}.json`;
}

/** Checks a decision; throws naming the bad field. */
export function validateDecision(d: AlarmDecision): void {
  if (typeof d.thingName !== 'string' || !ID.test(d.thingName)) throw new Error(`thingName ${JSON.stringify(d.thingName)} must be 1-128 letters, digits, '_', '.', ':' or '-'`);
  if (typeof d.captureId !== 'string' || !ID.test(d.captureId)) throw new Error(`captureId ${JSON.stringify(d.captureId)} must be 1-128 letters, digits, '_', '.', ':' or '-'`);
  if (d.decision !== 'confirmed' && d.decision !== 'rejected') throw new Error(`decision must be "confirmed" or "rejected", got ${JSON.stringify(d.decision)}`);
  if (typeof d.operator !== 'string' || d.operator.trim() === '' || d.operator.length > 128) throw new Error('operator must name who decided (1-128 characters)');
  if (d.note !== undefined && (typeof d.note !== 'string' || d.note.length > 2000)) throw new Error('note must be text of at most 2000 characters');
}

/** The label of an alarm from a device's captured batches (pure); throws when the record is missing or no alarm. */
export function buildAlarmLabel(batches: readonly CaptureBatch[], d: AlarmDecision, decidedAt: number, contextSeconds = 30): AlarmLabel {
  validateDecision(d);
  const records = batches.filter((b) => b.thingName === d.thingName).flatMap((b) => b.records);
  const alarm = records.find((r) => r.captureId === d.captureId);
  if (!alarm) throw new Error(`no captured record ${d.captureId} of ${d.thingName}`);
  if (!alarm.alarm) throw new Error(`captured record ${d.captureId} of ${d.thingName} raised no alarm: only alarms are labelled`);
  const at = Date.parse(alarm.inferenceTime);
  const windows = records
    .filter((r) => r.version === alarm.version && Math.abs(Date.parse(r.inferenceTime) - at) <= contextSeconds * 1000)
    .sort((a, b) => a.endIndex - b.endIndex);
  return { ...d, decidedAt: new Date(decidedAt).toISOString(), model: alarm.model, version: alarm.version, windows };
}

/** The stored label of an alarm, or null. */
export async function readAlarmLabel(s3: S3Client, bucket: string, thingName: string, captureId: string): Promise<AlarmLabel | null> {
  try {
    return JSON.parse(await readObjectText(s3, bucket, labelKey(thingName, captureId))) as AlarmLabel;
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return null;
    throw err;
  }
}

/**
 * Stores an operator's decision with the captured windows around the alarm, exactly once: the same decision
 * again returns the stored label ({ created: false }); a different one is refused naming the first.
 */
export async function labelAlarm(
  s3: S3Client,
  bucket: string,
  d: AlarmDecision,
  options: { now?: number; contextSeconds?: number; /** The device's captured batches, when the caller already read them (labelling many alarms). */ batches?: readonly CaptureBatch[] } = {},
): Promise<{ label: AlarmLabel; created: boolean }> {
  validateDecision(d);
  const existing = await readAlarmLabel(s3, bucket, d.thingName, d.captureId);
  const settle = (stored: AlarmLabel): { label: AlarmLabel; created: boolean } => {
    if (stored.decision !== d.decision) throw new Error(`alarm ${d.captureId} of ${d.thingName} was already ${stored.decision} by ${stored.operator} at ${stored.decidedAt}`);
    return { label: stored, created: false };
  };
  if (existing) return settle(existing);
  const batches = options.batches ?? (await readCapturedBatches(s3, bucket, { things: [d.thingName] }));
  const label = buildAlarmLabel(batches, d, options.now ?? Date.now(), options.contextSeconds);
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: labelKey(d.thingName, d.captureId), Body: JSON.stringify(label), ContentType: 'application/json', IfNoneMatch: '*' }));
  } catch (err) {
    // Another call stored a label first: its decision stands.
    if ((err as Error).name !== 'PreconditionFailed') throw err;
    const raced = await readAlarmLabel(s3, bucket, d.thingName, d.captureId);
    if (!raced) throw err;
    return settle(raced);
  }
  return { label, created: true };
}

/** Every stored label in bucket (the labelled set), optionally of some things only. */
export async function readAlarmLabels(s3: S3Client, bucket: string, things?: readonly string[]): Promise<AlarmLabel[]> {
  const keys = await listObjectKeys(s3, bucket, things ? things.map((t) => `labels/${t}/`) : ['labels/']);
  const out: AlarmLabel[] = [];
  // One at a time: a farm's labels are many small objects, and parallel reads would queue on the SDK's sockets.
  for (const key of keys) out.push(JSON.parse(await readObjectText(s3, bucket, key)) as AlarmLabel);
  return out;
}
