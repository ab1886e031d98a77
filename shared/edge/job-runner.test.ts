/**
 * The job runner's subscriptions against a stand-in for the broker and IoT Jobs (one device, in memory):
 * a job that appears while the runner is still subscribing must not send a request whose answer has no
 * subscriber yet. The runner against the real local cloud is in ota.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { mqtt } from 'aws-iot-device-sdk-v2';
import { topicMatches } from '../cloud/mqtt/topic-filter';
import { AgentStateFile } from './agent-state';
import type { CloudConnection } from './device-connection';
import { JobRunner } from './ota';

type Handler = (topic: string, payload: ArrayBuffer) => void;

/**
 * One device's view of the broker and IoT Jobs: answers start-next and updates, and drops a message that
 * finds no subscriber, as a broker does (answers dropped that way are counted). A job appears when the
 * device subscribes to `jobAppearsOn`, and that subscription's SUBACK takes `slowSubackMs`.
 */
class StandInJobsBroker {
  readonly subscriptions = new Map<string, Handler>();
  readonly droppedAnswers: string[] = [];
  readonly updates: string[] = [];
  private job: { jobId: string; jobDocument: unknown; status: string } | null = null;

  constructor(
    private readonly thing: string,
    private readonly jobAppearsOn: string,
    private readonly slowSubackMs: number,
    private readonly newJob: { jobId: string; jobDocument: unknown },
  ) {}

  async subscribe(filter: string, qos: mqtt.QoS, handler: Handler): Promise<{ topic: string; qos: mqtt.QoS }> {
    if (filter === this.jobAppearsOn) {
      this.job = { ...this.newJob, status: 'QUEUED' };
      this.deliver(`$aws/things/${this.thing}/jobs/notify-next`, { execution: { jobId: this.newJob.jobId } });
      await new Promise((r) => setTimeout(r, this.slowSubackMs));
    }
    this.subscriptions.set(filter, handler);
    return { topic: filter, qos };
  }

  async publish(topic: string, payload: string): Promise<{ packet_id: number }> {
    const request = JSON.parse(payload) as { clientToken?: string; status?: string };
    const root = `$aws/things/${this.thing}/jobs`;
    if (topic === `${root}/start-next`) {
      const open = this.job && !['SUCCEEDED', 'FAILED'].includes(this.job.status) ? this.job : null;
      if (open) open.status = 'IN_PROGRESS';
      this.deliver(`${root}/start-next/accepted`, { clientToken: request.clientToken, ...(open ? { execution: { jobId: open.jobId, jobDocument: open.jobDocument, status: open.status } } : {}) });
    } else if (this.job && topic === `${root}/${this.job.jobId}/update`) {
      this.job.status = request.status as string;
      this.updates.push(this.job.status);
      this.deliver(`${root}/${this.job.jobId}/update/accepted`, { clientToken: request.clientToken, executionState: { status: this.job.status } });
    }
    return { packet_id: 1 };
  }

  /** Delivers on the next turn to the subscriber of the moment, as a broker would. */
  private deliver(topic: string, body: object): void {
    setImmediate(() => {
      const handler = [...this.subscriptions].find(([filter]) => topicMatches(filter, topic))?.[1];
      const bytes = new TextEncoder().encode(JSON.stringify(body));
      if (handler) handler(topic, bytes.buffer);
      else if (/\/(accepted|rejected)$/.test(topic)) this.droppedAnswers.push(topic);
    });
  }
}

test('a job that appears while the runner subscribes is answered on topics it already holds (no 30 s wait for a lost answer)', async () => {
  const thing = 'turbine-7';
  const dir = mkdtempSync(join(tmpdir(), 'job-runner-'));
  // A job for another model: the runner fails it at once, so its only request is the final update.
  const broker = new StandInJobsBroker(thing, `$aws/things/${thing}/jobs/+/update/accepted`, 100, {
    jobId: 'deploy-9',
    jobDocument: { operation: 'deploy-model', model: { name: 'other-model', version: '2.0.0', url: 'http://127.0.0.1:9/p.tar.gz' } },
  });
  const connection = Object.assign(new EventEmitter(), { connection: broker as unknown as mqtt.MqttClientConnection, isOnline: true }) as unknown as CloudConnection;
  let ended: (e: { jobId: string; status: string; statusDetails: Record<string, string> }) => void = () => undefined;
  const jobEvent = new Promise<{ jobId: string; status: string; statusDetails: Record<string, string> }>((resolve) => (ended = resolve));
  const runner = new JobRunner({
    thingName: thing,
    connection,
    state: new AgentStateFile(dir),
    activeModel: () => ({ name: 'wind-turbine-anomaly', version: '1.0.0' }),
    install: () => Promise.reject(new Error('no package is installed in this test')),
    log: () => undefined,
    onJob: (e) => ended(e),
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await runner.onOnline();
    const event = await Promise.race([jobEvent, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the job did not end within 10 s; answers dropped: ${broker.droppedAnswers.join(', ')}`)), 10_000)))]);
    assert.equal(event.jobId, 'deploy-9');
    assert.equal(event.status, 'FAILED');
    assert.equal(event.statusDetails.reason, 'wrong-model-name');
    assert.deepEqual(broker.droppedAnswers, [], 'every answer found its subscriber');
    assert.deepEqual(broker.updates, ['FAILED'], 'reported once');
  } finally {
    clearTimeout(timer);
    runner.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
