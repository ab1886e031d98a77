/**
 * IoT Jobs at fleet scale: the time from CreateJob to 1000 SUCCEEDED executions, with devices running the
 * job through IotJobsClient over mutual TLS (notify-next → start-next → update), and with devices on the
 * jobs data-plane REST API (SigV4) instead. Baseline in the same run: the same 1000 executions driven
 * through the engine directly on the same kind of journaled store, flushing after each step as the
 * MQTT and REST paths do — so the ratio is the cost of the protocols, TLS and the SDKs.
 * JOBS_BENCH_DEVICES overrides the fleet size (default 1000).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateJobCommand } from '@aws-sdk/client-iot';
import { IoTJobsDataPlaneClient, StartNextPendingJobExecutionCommand, UpdateJobExecutionCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import type { BenchLine } from '../../bench/types';
import { realClock } from '../clock';
import { deviceEndpoints, startRegistryCloud } from '../iot/registry-testing';
import { cloudClientConfig } from '../local-cloud';
import { installers } from '../services';
import { openStateStore } from '../state/store';
import { SimulatedJobDevices } from './simulated-devices-testing';
import { JobsEngine } from './engine';
import { parseCreateJob } from './validate';

/** Suite name in `npm run bench`. */
export const name = 'IoT Jobs';

const DEVICES = Number(process.env.JOBS_BENCH_DEVICES ?? 1000);

/** The same executions through the engine alone: create, then start-next and SUCCEEDED per thing, flushing each step. */
async function engineOnly(things: string[]): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'jobs-bench-engine-'));
  const store = openStateStore(dir);
  try {
    const engine = new JobsEngine({ clock: realClock, store, region: 'us-east-1', accountId: '000000000000' });
    const started = performance.now();
    await engine.createJob(parseCreateJob('bench', { targets: things.map((t) => `arn:aws:iot:us-east-1:000000000000:thing/${t}`), document: '{"operation":"deploy"}' }));
    await store.flush();
    await Promise.all(
      things.map(async (t) => {
        engine.startNext(t);
        await store.flush();
        engine.updateFromDevice(t, 'bench', { status: 'SUCCEEDED', expectedVersion: 2 });
        await store.flush();
      }),
    );
    if (engine.getJob('bench').status !== 'COMPLETED') throw new Error('engine baseline: the job did not complete');
    const ms = performance.now() - started;
    engine.stop();
    return ms;
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every figure of this suite. */
export async function run(): Promise<BenchLine[]> {
  const rc = await startRegistryCloud({ installers, log: () => undefined });
  let fleet: SimulatedJobDevices | undefined;
  try {
    const setupStart = performance.now();
    fleet = await SimulatedJobDevices.start({
      ...deviceEndpoints(rc),
      groupName: 'bench-fleet',
      count: DEVICES,
      onProgress: (phase, done, total) => {
        if (done === total) process.stderr.write(`jobs bench: ${phase} ${total} devices done\n`);
      },
    });
    const setupSeconds = (performance.now() - setupStart) / 1000;
    const group = `arn:aws:iot:${rc.cloud.region}:${rc.cloud.accountId}:thinggroup/bench-fleet`;

    const mqttStart = performance.now();
    await rc.iot.send(new CreateJobCommand({ jobId: 'bench-mqtt', targets: [group], document: '{"operation":"deploy"}' }));
    await fleet.waitForReports(DEVICES, 300_000);
    const mqttMs = performance.now() - mqttStart;

    // Devices on the jobs data plane (HTTP + SigV4), 50 at a time; the MQTT devices ignore nothing here,
    // so they are stopped first.
    const things = fleet.thingNames;
    await fleet.stop();
    fleet = undefined;
    const data = new IoTJobsDataPlaneClient(cloudClientConfig(rc.cloud));
    const restStart = performance.now();
    await rc.iot.send(new CreateJobCommand({ jobId: 'bench-rest', targets: [group], document: '{"operation":"deploy"}' }));
    for (let i = 0; i < things.length; i += 50) {
      await Promise.all(
        things.slice(i, i + 50).map(async (thingName) => {
          const next = await data.send(new StartNextPendingJobExecutionCommand({ thingName }));
          const jobId = next.execution?.jobId;
          if (!jobId) throw new Error(`${thingName} got no execution over REST`);
          await data.send(new UpdateJobExecutionCommand({ thingName, jobId, status: 'SUCCEEDED', expectedVersion: next.execution?.versionNumber }));
        }),
      );
    }
    const restMs = performance.now() - restStart;
    data.destroy();

    const engineMs = await engineOnly(things);
    const baseline = { label: `the engine alone, same ${DEVICES} executions, journaled store`, value: engineMs };
    return [
      {
        label: `CreateJob → ${DEVICES} SUCCEEDED, devices on IotJobsClient (MQTT, mutual TLS)`,
        value: mqttMs,
        unit: 'ms',
        baseline,
        note: `fleet provisioning and ${DEVICES} TLS connections took ${setupSeconds.toFixed(1)} s before the clock started`,
      },
      {
        label: `CreateJob → ${DEVICES} SUCCEEDED, devices on the jobs data-plane REST API (SigV4, 50 in flight)`,
        value: restMs,
        unit: 'ms',
        baseline,
      },
    ];
  } finally {
    await fleet?.stop();
    await rc.cleanup();
  }
}
