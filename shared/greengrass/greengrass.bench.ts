/**
 * Greengrass v2 at fleet scale: the time from CreateDeployment to every core device of a thing group
 * reporting SUCCEEDED, each device a nucleus on its own mutual-TLS connection that resolves the
 * component, downloads and verifies its artifact, installs it and starts its Run process (counted as
 * running after the nucleus's 2 s stability window). Baseline in the same run: an IoT job to a group of
 * as many simulated IotJobsClient devices that report SUCCEEDED at once — the IoT Jobs path without any
 * work on the device. GG_BENCH_DEVICES sets the fleet size (default 100, the issue's group size: 100
 * nuclei in this process, each with its Run child process). The load average is reported beside the
 * figure (the machine is shared).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateJobCommand } from '@aws-sdk/client-iot';
import type { BenchLine } from '../bench/types';
import { startGreengrassCloud } from '../cloud/greengrass/greengrass-testing';
import { SimulatedJobDevices } from '../cloud/jobs/simulated-devices-testing';
import { provisionDevices } from '../workflows/provisioning/provision';
import { publishComponent } from '../workflows/greengrass/components';
import { createDeployment, thingGroupArn, waitForDeployment } from '../workflows/greengrass/deployments';
import { startCoreDeviceFromBundle, type CoreDevice } from './core-device';

/** Suite name in `npm run bench`. */
export const name = 'Greengrass v2 deployments';

const DEVICES = Number(process.env.GG_BENCH_DEVICES ?? 100);

/** Every figure of this suite. */
export async function run(): Promise<BenchLine[]> {
  const work = await mkdtemp(join(tmpdir(), 'gg-bench-'));
  const gc = await startGreengrassCloud();
  const cores: CoreDevice[] = [];
  let fleet: SimulatedJobDevices | undefined;
  try {
    const setupStart = performance.now();
    const provisioned = await provisionDevices({
      iot: gc.iot,
      devices: DEVICES,
      prefix: 'gg-bench-',
      group: 'gg-bench',
      outDir: join(work, 'bundles'),
      caCertPem: await readFile(gc.cloud.caCertPath as string, 'utf8'),
      mode: 'local',
      region: gc.cloud.region,
      mqtt: { host: gc.cloud.endpoints.mqttHost, port: gc.cloud.endpoints.mqttPort },
    });
    for (const d of provisioned.devices) cores.push(await startCoreDeviceFromBundle(d.bundleDir, { root: join(work, 'roots', d.thingName), log: () => undefined }));
    const artifact = join(work, 'app.sh');
    await writeFile(artifact, 'echo started\nexec sleep 600\n');
    await publishComponent({
      gg: gc.gg,
      s3: gc.s3,
      bucket: gc.bucket,
      region: gc.cloud.region,
      accountId: gc.cloud.accountId,
      recipe: { RecipeFormatVersion: '2020-01-25', ComponentName: 'com.example.Bench', ComponentVersion: '1.0.0', Manifests: [{ Platform: { os: '*' }, Artifacts: [{ URI: 's3://x/app.sh' }], Lifecycle: { Run: 'sh {artifacts:path}/app.sh' } }] },
      artifacts: { 'app.sh': artifact },
    });
    const setupSeconds = (performance.now() - setupStart) / 1000;
    process.stderr.write(`greengrass bench: ${DEVICES} core devices provisioned and started in ${setupSeconds.toFixed(1)} s\n`);

    const ggStart = performance.now();
    const { deploymentId } = await createDeployment(gc.gg, { targetArn: thingGroupArn(gc.cloud.region, gc.cloud.accountId, 'gg-bench'), components: { 'com.example.Bench': { componentVersion: '1.0.0' } } });
    const statuses = await waitForDeployment({ gg: gc.gg, iot: gc.iot, deploymentId, thingNames: provisioned.devices.map((d) => d.thingName), timeoutMs: 600_000, pollMs: 100 });
    const ggMs = performance.now() - ggStart;
    const failed = statuses.filter((s) => s.status !== 'SUCCEEDED');
    if (failed.length > 0) throw new Error(`greengrass bench: ${failed.length} devices did not succeed: ${failed.map((f) => `${f.thingName} ${f.status} ${f.reason}`).join('; ')}`);
    for (const c of cores.splice(0)) await c.stop();

    fleet = await SimulatedJobDevices.start({ iot: gc.iot, region: gc.cloud.region, accountId: gc.cloud.accountId, mqttHost: gc.cloud.endpoints.mqttHost, mqttPort: gc.cloud.endpoints.mqttPort, caCertPem: gc.cloud.context.tls?.caCertPem as string, groupName: 'jobs-bench', prefix: 'jobs-bench-', count: DEVICES });
    const jobsStart = performance.now();
    await gc.iot.send(new CreateJobCommand({ jobId: 'bench-jobs', targets: [thingGroupArn(gc.cloud.region, gc.cloud.accountId, 'jobs-bench')], document: '{"operation":"deploy"}' }));
    await fleet.waitForReports(DEVICES, 300_000);
    const jobsMs = performance.now() - jobsStart;
    return [
      {
        label: `CreateDeployment → ${DEVICES} core devices SUCCEEDED (resolve, download + sha256, install, Run stable 2 s)`,
        value: ggMs,
        unit: 'ms',
        baseline: { label: `CreateJob → ${DEVICES} SUCCEEDED, IotJobsClient devices doing no work`, value: jobsMs },
        note: `provisioning and starting the nuclei took ${setupSeconds.toFixed(1)} s before the clock started; load average ${loadavg().map((l) => l.toFixed(2)).join(' / ')}; frames left unscored during an update: detector-update.bench.ts`,
      },
    ];
  } finally {
    for (const c of cores) await c.stop();
    await fleet?.stop();
    await gc.cleanup();
    await rm(work, { recursive: true, force: true });
  }
}
