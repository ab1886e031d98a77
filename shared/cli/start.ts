/**
 * `npm start`: the workshop end to end on the embedded local cloud: simulate the training data, train the
 * detector, package and sign it, provision the turbines, deploy the model to their edge agents and run
 * the farm with its dashboard until Ctrl-C. What it makes is kept (the model in .state/fleet-model, the
 * cloud, certificates and agent states in --dir), so a second run reuses it and starts in seconds.
 * Usage: npm start [-- --turbines 5 --port 8080 --dir .state/start --until-ready]
 */
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from '../config/lab-config';
import { startFleet, type Fleet } from '../fleet/fleet';
import { FLEET_MODEL_CACHE, trainedFleetPackages } from '../fleet/trained-packages';
import { pollUntil } from '../labs/poll-until';
import { farmStopper } from './stop-farm';
import { integerOption } from './options';

interface Options {
  turbines: number;
  port: number;
  dir: string;
  modelCache: string;
  untilReady?: boolean;
}

const program = new Command()
  .name('npm start --')
  .description(
    'Run the workshop on the embedded local cloud: data, training, packaging and signing, provisioning, deployment ' +
      'to one edge agent per turbine, and the wind farm with its web dashboard, until Ctrl-C. ' +
      'A second run reuses the model and the provisioned devices.',
  )
  .option('--turbines <n>', 'number of turbines', integerOption('--turbines', 1), 5)
  .option('--port <port>', 'dashboard port on 127.0.0.1 (0: any free port)', integerOption('--port', 0), 8080)
  .option('--dir <dir>', 'state folder of the farm (cloud, device bundles, agent states; relative to the project)', join('.state', 'start'))
  .option('--model-cache <dir>', 'where the trained and packaged model is kept (relative to the project)', relative(PROJECT_ROOT, FLEET_MODEL_CACHE))
  .option('--until-ready', 'stop the farm and exit once it runs (for tests and scripts)')
  .showHelpAfterError();

const MODEL_STAGES = ['simulating', 'training', 'packaging'];
const show = (path: string): string => relative(process.cwd(), path) || '.';

/** The model step: one bar over its stages (data, training, packaging); nothing to do when cached. */
async function modelStep(cacheDir: string): Promise<Awaited<ReturnType<typeof trainedFleetPackages>>> {
  console.log('1. data, training, packaging');
  const bar = new SingleBar({ format: '   [{bar}] {value}/{total} {stage}', stream: process.stdout, hideCursor: false, noTTYOutput: true, notTTYSchedule: 10_000 });
  bar.start(MODEL_STAGES.length + 1, 0, { stage: 'checking the cache' });
  const model = await trainedFleetPackages(cacheDir, (line) => {
    const stage = MODEL_STAGES.findIndex((s) => line.startsWith(s));
    bar.update(Math.max(bar.getProgress() * bar.getTotal(), stage + 1), { stage: line.trim() });
  });
  bar.update(bar.getTotal(), { stage: 'done' });
  bar.stop();
  console.log(`   model ${model.trained ? `trained and packaged in ${model.seconds.toFixed(0)} s` : `reused from ${show(cacheDir)}`}`);
  console.table(Object.entries(model.packages).map(([version, path]) => ({ version, package: show(path) })));
  return model;
}

/** The farm step: provisioning, agents and the initial deployment, each with a bar. */
async function farmStep(o: Options, model: Awaited<ReturnType<typeof trainedFleetPackages>>): Promise<Fleet> {
  console.log('2. cloud, provisioning, deployment, farm');
  const labels = { provision: 'provisioning turbines', agents: 'starting edge agents', models: 'model 1.0.0 installed' } as const;
  const bar = new SingleBar({ format: '   [{bar}] {value}/{total} {step}', stream: process.stdout, hideCursor: false, noTTYOutput: true, notTTYSchedule: 10_000 });
  const order = ['provision', 'agents', 'models'] as const;
  let current = -1;
  const progress = (step: (typeof order)[number], done: number, total: number): void => {
    const k = order.indexOf(step);
    if (k < current) return; // status events keep coming; a bar never goes back
    if (k > current) {
      if (current >= 0) bar.stop();
      current = k;
      bar.start(total, 0, { step: labels[step] });
    }
    bar.update(done, { step: labels[step] });
  };
  const fleet = await startFleet({
    dir: resolve(PROJECT_ROOT, o.dir),
    packagePath: model.packages['1.0.0'],
    publicKeyPem: model.publicKeyPem,
    turbines: o.turbines,
    dashboardPort: o.port,
    onProgress: (step, done, total) => {
      if (step !== 'online') progress(step, done, total);
    },
  });
  // The farm runs once the agents are connected; each installs the model after its first 13 s of frames.
  await pollUntil('every agent to install model 1.0.0', async () => {
    const installed = fleet.status().filter((s) => s.version !== null).length;
    progress('models', installed, fleet.size);
    return installed === fleet.size ? true : undefined;
  }, { timeoutMs: 300_000, maxIntervalMs: 500 });
  bar.stop();
  return fleet;
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const t0 = performance.now();
  const model = await modelStep(resolve(PROJECT_ROOT, o.modelCache));
  const fleet = await farmStep(o, model);
  console.log(`   farm running after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${fleet.size} turbines, cloud ${fleet.cloud.endpoints.http}`);
  console.table(fleet.status().map((s) => ({ turbine: fleet.thingNames[s.index], model: s.version, rps: Number(s.rps.toFixed(2)), framesScored: s.processed, online: s.online })));
  console.log(`\ndashboard: ${fleet.url}`);
  console.log('Press Vib / Rot / Volt on a turbine to inject a fault; Lab 04 (lab/04-Run-Fleet/iot-jobs) does the same from code.');
  const stop = farmStopper(fleet);
  if (o.untilReady) return stop();
  console.log('Ctrl-C stops the farm.');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(`npm start: ${err.message}`);
  process.exit(1);
});
