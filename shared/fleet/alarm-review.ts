/**
 * Alarm review for the dashboard: the captured alarms of a turbine with their labels, an operator's
 * confirm or reject stored through the monitoring's label store (shared/monitoring/alarm-labels.ts: once,
 * with the captured windows around the alarm), and the monitoring report (drift verdict) of the farm.
 * Only captured alarms can be labelled: the label is stored with the windows the agent sent to S3.
 * Decisions on the same alarm are serialised here, so a double click stores one label even on a cloud
 * whose conditional create is not atomic (the local cloud's).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Heartbeat } from '../edge/agent';
import type { CaptureBatch } from '../edge/capture';
import { type AlarmDecision, type AlarmLabel, labelAlarm, labelKey, readAlarmLabels, validateDecision } from '../monitoring/alarm-labels';
import { readCapturedBatches } from '../monitoring/field-data-reader';
import { buildMonitoringReport, type MonitoringReport } from '../monitoring/report';

/** A refused review request: the HTTP status and the reason (nothing was stored). */
export class ReviewError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ReviewError';
  }
}

/** A captured alarm as the dashboard lists it, with the operator's label if there is one. */
export interface ReviewAlarm {
  thingName: string;
  captureId: string;
  model: string;
  version: string;
  inferenceTime: string;
  endEventTime: string;
  score: number;
  /** The feature with the largest reconstruction error. */
  feature: string;
  label: { decision: AlarmLabel['decision']; operator: string; decidedAt: string; windows: number } | null;
}

/** The answer to a decision: the stored label (summarised) and whether this request stored it. */
export interface ReviewResult {
  created: boolean;
  label: NonNullable<ReviewAlarm['label']> & { thingName: string; captureId: string };
}

/** Options of the review: label bucket (the capture bucket), feature names, how long a report is reused. */
export interface AlarmReviewOptions {
  bucket: string;
  featureNames: readonly string[];
  /** Seconds of captured windows kept around an alarm in its label (default 30). */
  contextSeconds?: number;
  /** A monitoring report is rebuilt at most this often (default 15 s): it reads every captured batch. */
  reportMaxAgeMs?: number;
  now?: () => number;
}

const summary = (l: AlarmLabel): NonNullable<ReviewAlarm['label']> => ({ decision: l.decision, operator: l.operator, decidedAt: l.decidedAt, windows: l.windows.length });

/** The dashboard's alarm review over a capture bucket. */
export class AlarmReview {
  private readonly queue = new Map<string, Promise<unknown>>();
  private report: { at: number; value: Promise<MonitoringReport> } | null = null;
  private readonly now: () => number;

  constructor(
    private readonly s3: S3Client,
    private readonly options: AlarmReviewOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The newest captured alarms of a turbine (at most limit), newest first, each with its label. */
  async alarms(thingName: string, limit = 20): Promise<ReviewAlarm[]> {
    const batches = await readCapturedBatches(this.s3, this.options.bucket, { things: [thingName] });
    const labels = new Map((await readAlarmLabels(this.s3, this.options.bucket, [thingName])).map((l) => [l.captureId, l]));
    const records = batches.filter((b) => b.thingName === thingName).flatMap((b) => b.records.filter((r) => r.alarm));
    records.sort((a, b) => (a.inferenceTime < b.inferenceTime ? 1 : a.inferenceTime > b.inferenceTime ? -1 : b.endIndex - a.endIndex));
    return records.slice(0, limit).map((r) => {
      const worst = r.errors.reduce((best, e, i) => (e > r.errors[best] ? i : best), 0);
      const label = labels.get(r.captureId);
      return { thingName, captureId: r.captureId, model: r.model, version: r.version, inferenceTime: r.inferenceTime, endEventTime: r.endEventTime, score: r.score, feature: this.options.featureNames[worst] ?? `feature ${worst}`, label: label ? summary(label) : null };
    });
  }

  /**
   * Stores an operator's decision on a captured alarm once: the same decision again answers created: false,
   * a contradicting one is refused (409), an unknown alarm 404, a bad decision 400; a refusal stores nothing.
   */
  async decide(d: AlarmDecision): Promise<ReviewResult> {
    try {
      validateDecision(d);
    } catch (err) {
      throw new ReviewError(400, (err as Error).message);
    }
    const key = labelKey(d.thingName, d.captureId);
    const run = (this.queue.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => this.decideNow(d));
    this.queue.set(key, run);
    try {
      return await run;
    } finally {
      if (this.queue.get(key) === run) this.queue.delete(key);
    }
  }

  private async decideNow(d: AlarmDecision): Promise<ReviewResult> {
    const batches: CaptureBatch[] = await readCapturedBatches(this.s3, this.options.bucket, { things: [d.thingName] });
    const record = batches.flatMap((b) => (b.thingName === d.thingName ? b.records : [])).find((r) => r.captureId === d.captureId);
    if (!record) throw new ReviewError(404, `no captured alarm ${d.captureId} of ${d.thingName}: only alarms whose windows were captured to S3 can be labelled`);
    if (!record.alarm) throw new ReviewError(400, `captured window ${d.captureId} of ${d.thingName} raised no alarm: only alarms are labelled`);
    try {
      const { label, created } = await labelAlarm(this.s3, this.options.bucket, d, { batches, now: this.now(), contextSeconds: this.options.contextSeconds });
      return { created, label: { thingName: d.thingName, captureId: d.captureId, ...summary(label) } };
    } catch (err) {
      if (/was already/.test((err as Error).message)) throw new ReviewError(409, (err as Error).message);
      throw err;
    }
  }

  /** The monitoring report of the farm (captured windows and heartbeats), rebuilt at most every reportMaxAgeMs. */
  monitoring(things: readonly string[], heartbeats: () => Heartbeat[]): Promise<MonitoringReport> {
    const maxAge = this.options.reportMaxAgeMs ?? 15_000;
    if (this.report && this.now() - this.report.at < maxAge) return this.report.value;
    const value = readCapturedBatches(this.s3, this.options.bucket, { things }).then((batches) =>
      buildMonitoringReport(batches, heartbeats(), { featureNames: this.options.featureNames, now: this.now() }),
    );
    this.report = { at: this.now(), value };
    value.catch(() => {
      if (this.report?.value === value) this.report = null; // a failed read is not reused
    });
    return value;
  }
}

/** One row of the dashboard's monitoring table: a version on a turbine ('*': the farm) with its drift verdict. */
export interface MonitoringRow {
  version: string;
  thingName: string;
  windows: number;
  alarmRate: number;
  verdict: string;
  reason: string;
  features: { feature: string; divergence: number; level: string }[];
}

/** The report as the dashboard shows it: farm rows first, then each turbine; timelines and spreads left out. */
export function monitoringRows(report: MonitoringReport): { generatedAt: string; rows: MonitoringRow[] } {
  const rows = report.reports.map((r) => ({
    version: r.version,
    thingName: r.thingName,
    windows: r.windows,
    alarmRate: r.alarmRate,
    verdict: r.drift.verdict,
    reason: r.drift.reason,
    features: r.drift.features.map((f) => ({ feature: f.feature, divergence: f.divergence, level: f.level })),
  }));
  rows.sort((a, b) => Number(b.thingName === '*') - Number(a.thingName === '*') || a.version.localeCompare(b.version) || a.thingName.localeCompare(b.thingName));
  return { generatedAt: report.generatedAt, rows };
}
