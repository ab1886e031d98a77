/**
 * Runs the workshop as far as this version goes: simulate the wind farm's data set (with labelled faults),
 * compute the model-input features, regenerate the Lab 01 figures, then say plainly what is not built yet.
 * Usage: npm start [-- --profile ci|full]
 */
import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { describeLabConfig, loadLabConfig, PROJECT_ROOT, type LabConfig } from '../config/lab-config';

interface Step {
  /** The step's name for --steps (unique). */
  name: string;
  /** The npm script, backed by shared/cli/<script>.ts. */
  script: string;
  what: string;
  args: string[];
  /** What the step leaves behind, for the summary. */
  outputs: string[];
  /** Skip (and say why) unless this holds; e.g. an earlier step's output exists. */
  needs?: () => string | undefined;
  /** A failure is reported but does not stop the run (e.g. images need a browser not every machine has). */
  optional?: string;
}

/** Later parts of the workshop: named here so the summary can say honestly whether they exist yet. */
const LATER: { what: string; how: string; available: () => boolean }[] = [
  {
    what: 'compile, sign and deploy the model over IoT Jobs to edge agents on the local cloud (Lab 03)',
    how: 'npm run notebooks -- lab/03-Package-Deploy/iot-jobs, or open it in JupyterLab',
    available: () => existsSync(join(PROJECT_ROOT, 'lab', '03-Package-Deploy', 'iot-jobs')),
  },
  {
    what: 'deploy as Greengrass v2 components (Lab 03, Greengrass variant)',
    how: 'lab/03-Package-Deploy/greengrass-v2',
    available: () => existsSync(join(PROJECT_ROOT, 'lab', '03-Package-Deploy', 'greengrass-v2')),
  },
  {
    what: 'run the simulated wind farm with a live dashboard (Lab 04)',
    how: 'lab/04-Run-Fleet',
    available: () => existsSync(join(PROJECT_ROOT, 'lab', '04-Run-Fleet')),
  },
];

const program = new Command()
  .name('npm start --')
  .description(
    'Run the workshop end to end as far as it is built: data set, features, Lab 01 figures. ' +
      'Everything goes to the data folder (LAB_DATA_DIR, default data/ in the project); committed files are not touched.',
  )
  .option('--profile <ci|full>', 'lab profile (sets LAB_PROFILE; default: $LAB_PROFILE, else full)')
  .option('--steps <names>', 'comma-separated subset of the steps to run: dataset,features,plots (default: all)')
  .parse(process.argv);

function cliExists(script: string): boolean {
  return existsSync(join(PROJECT_ROOT, 'shared', 'cli', `${script}.ts`));
}

/** A path as short as it can be said: relative when inside the working directory, else absolute. */
function show(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function steps(config: LabConfig): Step[] {
  const dataset = join(config.dataDir, 'turbines.csv.gz');
  const labels = dataset.replace(/\.csv\.gz$/, '.labels.csv');
  const features = join(config.dataDir, 'features');
  const model = join(config.dataDir, 'model');
  const testset = join(config.dataDir, 'test.csv.gz');
  const needsFile = (path: string) => () => (existsSync(path) ? undefined : `no file at ${show(path)}`);
  return [
    {
      name: 'dataset',
      script: 'dataset',
      what: `simulate ${config.turbines} turbines for ${config.minutes} min with labelled faults`,
      args: ['--out', dataset, '--turbines', String(config.turbines), '--minutes', String(config.minutes), '--seed', String(config.seed), '--faults'],
      outputs: [dataset, labels],
    },
    {
      name: 'features',
      script: 'features',
      what: 'euler angles, db6 denoising, normalisation, windows (N, 6, 10, 10)',
      args: ['--data', dataset, '--out', features],
      outputs: [join(features, 'statistics.json'), join(features, 'windows.npy'), join(features, 'windows-index.csv')],
      needs: needsFile(dataset),
    },
    {
      name: 'plots',
      script: 'plots',
      what: 'render the Lab 01 figures',
      args: ['--out', join(config.dataDir, 'imgs')],
      outputs: [join(config.dataDir, 'imgs')],
      optional: 'The images need Chromium (installed, CHROMIUM_PATH, or the npm-shipped one on Linux x64); the notebooks show the same figures interactively.',
    },
    {
      name: 'train',
      script: 'train',
      what: 'train the autoencoder on the normal stretches of the data set, fit thresholds (Lab 02)',
      args: ['--data', dataset, '--labels', labels, '--out', model, '--epochs', String(config.trainingEpochs), '--seed', String(config.seed), '--cache', join(config.dataDir, 'cache')],
      outputs: [model],
      needs: needsFile(dataset),
    },
    {
      name: 'testset',
      script: 'dataset',
      what: `simulate a held-out test farm (seed ${config.seed + 1}) with every fault kind`,
      args: ['--out', testset, '--turbines', String(config.turbines), '--minutes', String(config.minutes), '--seed', String(config.seed + 1), '--faults'],
      outputs: [testset],
    },
    {
      name: 'evaluate',
      script: 'evaluate',
      what: 'measure detection on the held-out farm: event F1, delays, false alarms, baselines',
      args: ['--model', model, '--data', testset],
      outputs: ['the JSON report above'],
      needs: () => needsFile(model)() ?? needsFile(testset)(),
    },
  ];
}

function main(): void {
  const opts = program.opts<{ profile?: string; steps?: string }>();
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (opts.profile) env.LAB_PROFILE = opts.profile;
  let config: LabConfig;
  try {
    config = loadLabConfig(env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const all = steps(config);
  const wanted = opts.steps?.split(',').map((s) => s.trim()).filter((s) => s !== '') ?? all.map((s) => s.name);
  const unknown = wanted.filter((w) => !all.some((s) => s.name === w));
  if (unknown.length > 0) {
    console.error(`--steps: unknown step ${unknown.join(', ')}; the steps are ${all.map((s) => s.name).join(', ')}`);
    process.exit(1);
  }
  console.log(`Wind-turbine edge ML labs: ${describeLabConfig(config)}`);
  mkdirSync(config.dataDir, { recursive: true });

  const done: Step[] = [];
  const missing: Step[] = [];
  const failed: Step[] = [];
  for (const step of all.filter((s) => wanted.includes(s.name))) {
    if (!cliExists(step.script)) {
      missing.push(step);
      console.log(`\n- ${step.name}: not built yet (shared/cli/${step.script}.ts does not exist), skipped`);
      continue;
    }
    const blocked = step.needs?.();
    if (blocked) {
      console.log(`\n- ${step.name}: skipped: ${blocked}`);
      continue;
    }
    console.log(`\n- ${step.name}: ${step.what}`);
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'shared', 'cli', `${step.script}.ts`), ...step.args], {
      cwd: PROJECT_ROOT,
      env,
      stdio: 'inherit',
    });
    if (r.status !== 0 && step.optional) {
      console.log(`  ${step.name} failed (${r.signal ?? `exit ${r.status}`}); continuing without it`);
      failed.push(step);
      continue;
    }
    if (r.status !== 0) {
      console.error(`\nnpm start stopped: \`npm run ${step.script} -- ${step.args.map(show).join(' ')}\` failed (${r.signal ?? `exit ${r.status}`}).`);
      process.exit(1);
    }
    console.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    done.push(step);
  }

  console.log('\nWhere things are:');
  if (done.length === 0) console.log('  nothing was produced by this run.');
  for (const step of done) console.log(`  ${step.name}: ${step.outputs.map(show).join(', ')}`);
  for (const step of failed) console.log(`  ${step.name}: nothing, it failed. ${step.optional}`);
  console.log('  notebooks: lab/ (open them with `npm run kernel:install`, then `jupyter lab`; or run them all with `npm run notebooks`)');

  console.log('\nWhat comes next, and what is not built yet:');
  for (const step of missing) console.log(`  - ${step.what}: coming (npm run ${step.script})`);
  for (const later of LATER) console.log(`  - ${later.what}: ${later.available() ? `available: ${later.how}` : 'coming in a later version'}`);
}

main();
