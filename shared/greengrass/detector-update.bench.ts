/**
 * What a model update costs the scoring, Greengrass v2 beside IoT Jobs, in one run on one local cloud,
 * with the same really trained detector (1.0.0 then 1.1.0) and a turbine producing 20 frames/s:
 * - Greengrass: one core device runs the Detector component (the built agent as the nucleus's child
 *   process); Model 1.1.0 is deployed while it runs, which restarts the Detector on the new model.
 * - IoT Jobs (baseline): an edge agent in process takes 1.1.0 from a deploy-model job and swaps models
 *   between two frames.
 * The figure is the scoring gap: frames between the last window scored by 1.0.0 and the first scored by
 * 1.1.0 (one hop, 10 frames, when nothing is left unscored); the note gives the frames left unscored
 * (the gap beyond one hop) and, for Greengrass, the frames published while no Detector listened.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTClient } from '@aws-sdk/client-iot';
import { S3Client } from '@aws-sdk/client-s3';
import type { BenchLine } from '../bench/types';
import { cloudClientConfig, startLocalCloud } from '../cloud/local-cloud';
import { installers } from '../cloud/services';
import { startEdgeAgent } from '../edge/agent';
import { packageVerifier } from '../edge/package-verifier';
import type { ScoredWindow } from '../edge/scoring-runtime';
import { startGreengrassFarm } from '../fleet/greengrass-farm';
import { startRollout } from '../fleet/rollout';
import { trainedFleetPackages } from '../fleet/trained-packages';
import { pollUntil } from '../labs/poll-until';
import { TurbineSimulator } from '../turbine/simulator';
import { iotArn } from '../cloud/iot/arn';
import { provisionDevices } from '../workflows/provisioning/provision';
import { type ScoredWindowEvent, swapGap, unscoredFrames } from './scoring-gap';

/** Suite name in `npm run bench`. */
export const name = 'Model update while running: scoring gap, Greengrass component vs IoT Jobs';

/** Every figure of this suite. */
export async function run(): Promise<BenchLine[]> {
  const trained = await trainedFleetPackages();
  const work = await mkdtemp(join(tmpdir(), 'gg-update-bench-'));
  const cloud = await startLocalCloud({ dir: join(work, 'cloud'), port: 0, mqttPort: 0, installers, log: () => undefined });
  const config = cloudClientConfig(cloud);
  const iot = new IoTClient(config);
  const s3 = new S3Client(config);
  try {
    // IoT Jobs path: an agent in process, fed in real time, takes 1.1.0 from a deploy-model job.
    const [device] = (await provisionDevices({ iot, devices: 1, prefix: 'jobs-update-', group: 'jobs-update', outDir: join(work, 'bundles'), caCertPem: await readFile(cloud.caCertPath as string, 'utf8'), mode: 'local', region: cloud.region, mqtt: { host: cloud.endpoints.mqttHost, port: cloud.endpoints.mqttPort }, httpEndpoint: cloud.endpoints.http })).devices;
    const agent = await startEdgeAgent({ config: device.bundleDir, stateDir: join(work, 'agent-state'), verifier: packageVerifier(trained.publicKeyPem), initialPackage: trained.packages['1.0.0'], log: () => undefined });
    const windows: ScoredWindowEvent[] = [];
    agent.on('window', (w: ScoredWindow) => windows.push({ endEventTime: w.endEventTime, version: w.version }));
    const sim = new TurbineSimulator({ turbineId: 0, seed: 42 });
    const t0 = performance.now();
    let produced = 0;
    const feed = setInterval(() => {
      for (const due = Math.floor((performance.now() - t0) / 50); produced < due; produced++) agent.push(sim.next());
    }, 50);
    let jobs: ReturnType<typeof swapGap>;
    try {
      await agent.connected();
      await pollUntil('the agent scoring with 1.0.0', async () => (windows.filter((w) => w.version === '1.0.0').length >= 3 ? true : undefined), { timeoutMs: 180_000 });
      const bytes = readFileSync(trained.packages['1.1.0']);
      await startRollout(iot, s3, 'update-bench-models', bytes, trained.publicKeyPem, iotArn(cloud.region, cloud.accountId, 'thing', device.thingName));
      jobs = await pollUntil('the agent scoring with 1.1.0', async () => swapGap(windows, '1.0.0', '1.1.0') ?? undefined, { timeoutMs: 300_000 });
    } finally {
      clearInterval(feed);
      await agent.stop();
    }

    // Greengrass path: one core device, the Detector component restarted on Model 1.1.0.
    const farm = await startGreengrassFarm({ dir: join(work, 'gg'), cloud, packages: [trained.packages['1.0.0'], trained.packages['1.1.0']], publicKeyPem: trained.publicKeyPem, turbines: 1, prefix: 'gg-update-' });
    let gg: NonNullable<ReturnType<typeof swapGap>>;
    let undelivered = 0;
    try {
      await farm.deploy('1.0.0');
      await pollUntil('the Detector scoring with 1.0.0', async () => (farm.rows()[0].model === '1.0.0' && (farm.rows()[0].windowsScored ?? 0) > 0 ? true : undefined), { timeoutMs: 300_000 });
      const update = await farm.deploy('1.1.0');
      undelivered = update.devices[0].undeliveredFrames;
      gg = await pollUntil('the Detector scoring with 1.1.0', async () => farm.swapGaps('1.0.0', '1.1.0')[0] ?? undefined, { timeoutMs: 300_000 });
    } finally {
      await farm.stop();
    }
    const load = loadavg().map((l) => l.toFixed(2)).join(' / ');
    return [
      {
        label: 'Greengrass: frames between the last window of Model 1.0.0 and the first of 1.1.0 (Detector component restarted by the deployment)',
        value: gg.gapFrames,
        unit: 'frames',
        baseline: { label: 'IoT Jobs: the same gap, agent swapping models in process', value: jobs.gapFrames },
        note: `unscored (gap beyond one hop of ${gg.hopFrames}): Greengrass ${unscoredFrames(gg)}, IoT Jobs ${unscoredFrames(jobs)}; published while no Detector listened: ${undelivered}; load average ${load}`,
      },
    ];
  } finally {
    iot.destroy();
    s3.destroy();
    await cloud.stop();
    await rm(work, { recursive: true, force: true });
  }
}
