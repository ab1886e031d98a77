/**
 * A fleet of simulated devices that run IoT Jobs the way the aws-iot-device-sdk-v2 jobs sample does:
 * each is an IotJobsClient on its own mutual-TLS MQTT connection, listens on notify-next, asks
 * start-next, "executes" the document and reports the outcome with UpdateJobExecution. Used by the
 * fleet test and the jobs bench. All devices share one certificate attached to every thing (AWS allows
 * a certificate on many things; the client id picks the thing), so a thousand devices need one key.
 */
import { AddThingToThingGroupCommand, AttachPolicyCommand, AttachThingPrincipalCommand, CreateKeysAndCertificateCommand, CreateThingCommand, CreateThingGroupCommand, CreatePolicyCommand, type IoTClient } from '@aws-sdk/client-iot';
import { iot, iotjobs, mqtt } from 'aws-iot-device-sdk-v2';
import { ownTopicsPolicy } from '../iot/registry-testing';

/** What a device reports for an execution; 'hang' leaves it IN_PROGRESS; 'ignore' never starts it (QUEUED). */
export type DeviceOutcome = 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'hang' | 'ignore';

/** Where the fleet connects and how it provisions itself. */
export interface SimulatedJobDevicesOptions {
  iot: IoTClient;
  region: string;
  accountId: string;
  mqttHost: string;
  mqttPort: number;
  caCertPem: string;
  groupName: string;
  count: number;
  /** Thing name prefix (default 'device-'). */
  prefix?: string;
  /** Outcome per device and job (default: SUCCEEDED). */
  outcome?: (thingName: string, jobId: string) => DeviceOutcome;
  /** Progress of provisioning and connecting, for a CLI's progress bar. */
  onProgress?: (phase: 'provision' | 'connect', done: number, total: number) => void;
}

/** One finished execution as a device saw it. */
export interface DeviceReport {
  thingName: string;
  jobId: string;
  status: string;
  jobDocument: unknown;
}

/** The policy devices get: their own jobs topics only. */
export function jobsDevicePolicy(region: string, accountId: string): object {
  return ownTopicsPolicy(region, accountId, '$aws/things/${iot:Connection.Thing.ThingName}/jobs/*');
}

/** Runs batches of at most `size` async tasks at a time. */
async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>, progress?: (done: number) => void): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map(fn));
    progress?.(Math.min(items.length, i + size));
  }
}

/** A provisioned, connected fleet of IotJobsClient devices. */
export class SimulatedJobDevices {
  readonly thingNames: string[];
  readonly reports: DeviceReport[] = [];
  private readonly connections: mqtt.MqttClientConnection[] = [];
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  private constructor(private readonly opts: SimulatedJobDevicesOptions) {
    const prefix = opts.prefix ?? 'device-';
    this.thingNames = Array.from({ length: opts.count }, (_, i) => `${prefix}${i}`);
  }

  /** Provisions things (in a new group, with one shared certificate and policy) and connects every device. */
  static async start(opts: SimulatedJobDevicesOptions): Promise<SimulatedJobDevices> {
    const fleet = new SimulatedJobDevices(opts);
    await fleet.provisionAndConnect();
    return fleet;
  }

  private async provisionAndConnect(): Promise<void> {
    const { iot: client, groupName } = this.opts;
    const policyName = `${groupName}-jobs-device`;
    await client.send(new CreatePolicyCommand({ policyName, policyDocument: JSON.stringify(jobsDevicePolicy(this.opts.region, this.opts.accountId)) }));
    const cert = await client.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    await client.send(new AttachPolicyCommand({ policyName, target: cert.certificateArn }));
    await client.send(new CreateThingGroupCommand({ thingGroupName: groupName }));
    await inBatches(this.thingNames, 20, async (thingName) => {
      await client.send(new CreateThingCommand({ thingName }));
      await client.send(new AttachThingPrincipalCommand({ thingName, principal: cert.certificateArn }));
      await client.send(new AddThingToThingGroupCommand({ thingGroupName: groupName, thingName }));
    }, (n) => this.opts.onProgress?.('provision', n, this.thingNames.length));

    // One client bootstrap and one TLS configuration for all: only the client id differs.
    const mqttClient = new mqtt.MqttClient();
    const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(cert.certificatePem as string, cert.keyPair?.PrivateKey as string)
      .with_certificate_authority(this.opts.caCertPem)
      .with_endpoint(this.opts.mqttHost)
      .with_port(this.opts.mqttPort)
      .with_client_id('unused')
      .with_clean_session(true)
      .with_keep_alive_seconds(120)
      .build();
    await inBatches(this.thingNames, 50, async (thingName) => {
      const connection = mqttClient.new_connection({ ...config, client_id: thingName });
      await connection.connect();
      this.connections.push(connection);
      await this.runDevice(new iotjobs.IotJobsClient(connection), thingName);
    }, (n) => this.opts.onProgress?.('connect', n, this.thingNames.length));
  }

  /** The jobs sample's loop: notify-next → start-next → execute → update. */
  private async runDevice(jobs: iotjobs.IotJobsClient, thingName: string): Promise<void> {
    const QOS = mqtt.QoS.AtLeastOnce;
    const outcome = this.opts.outcome ?? (() => 'SUCCEEDED' as const);
    // One request at a time; a notification that arrives meanwhile is remembered, not lost.
    let busy = false;
    let again = false;
    const startNext = (): void => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      again = false;
      jobs.publishStartNextPendingJobExecution({ thingName }, QOS).catch(() => idle());
    };
    const idle = (): void => {
      busy = false;
      if (again) startNext();
    };
    await jobs.subscribeToNextJobExecutionChangedEvents({ thingName }, QOS, (err, event) => {
      const jobId = event?.execution?.jobId;
      if (!err && jobId && outcome(thingName, jobId) !== 'ignore') startNext();
    });
    // Documents of executions reported but not yet accepted, by job id (the update's client token).
    const inFlight = new Map<string, { status: string; jobDocument: unknown }>();
    await jobs.subscribeToStartNextPendingJobExecutionAccepted({ thingName }, QOS, (err, response) => {
      const exec = response?.execution;
      if (err || !exec?.jobId) {
        idle();
        return;
      }
      const result = outcome(thingName, exec.jobId);
      if (result === 'ignore') {
        idle(); // reached through a start-next for another job: leave this one alone
        return;
      }
      if (result === 'hang') {
        this.record({ thingName, jobId: exec.jobId, status: 'IN_PROGRESS', jobDocument: exec.jobDocument });
        return;
      }
      inFlight.set(exec.jobId, { status: result, jobDocument: exec.jobDocument });
      jobs
        .publishUpdateJobExecution({ thingName, jobId: exec.jobId, status: iotjobs.model.JobStatus[result], expectedVersion: exec.versionNumber, statusDetails: { agent: 'fleet' }, clientToken: exec.jobId }, QOS)
        .catch(() => idle());
    });
    await jobs.subscribeToUpdateJobExecutionAccepted({ thingName, jobId: '+' }, QOS, (_err, response) => {
      const jobId = response?.clientToken;
      const done = jobId === undefined ? undefined : inFlight.get(jobId);
      if (jobId !== undefined && done) {
        inFlight.delete(jobId);
        this.record({ thingName, jobId, ...done });
      }
      busy = false;
      startNext(); // the next pending job, if any (the answer has no execution when none is left)
    });
    await jobs.subscribeToUpdateJobExecutionRejected({ thingName, jobId: '+' }, QOS, () => idle());
    startNext(); // jobs queued before this device connected
  }

  private record(report: DeviceReport): void {
    this.reports.push(report);
    for (const w of [...this.waiters]) {
      if (this.reports.length >= w.count) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves once devices have reported count executions in all, or rejects after ms. */
  waitForReports(count: number, ms: number): Promise<void> {
    if (this.reports.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`devices reported ${this.reports.length} of ${count} executions within ${ms} ms`)), ms);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Disconnects every device. */
  async stop(): Promise<void> {
    await Promise.all(this.connections.map((c) => Promise.race([c.disconnect().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))])));
    this.connections.length = 0;
  }
}
