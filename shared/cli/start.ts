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
const LATER: { script: string; what: string; issue: string }[] = [
  { script: 'train', what: 'train the anomaly detector (Lab 02)', issue: 'the detector issue' },
  { script: 'evaluate', what: 'evaluate detection against the labelled faults', issue: 'the detector issue' },
  { script: 'cloud', what: 'start the embedded local cloud (S3, IoT Core, Jobs)', issue: 'the local cloud issue' },
  { script: 'provision', what: 'provision the device fleet', issue: 'the local cloud issue' },
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
  const features = join(config.dataDir, 'features');
  return [
    {
      script: 'dataset',
      what: `simulate ${config.turbines} turbines for ${config.minutes} min with labelled faults`,
      args: ['--out', dataset, '--turbines', String(config.turbines), '--minutes', String(config.minutes), '--seed', String(config.seed), '--faults'],
      outputs: [dataset, dataset.replace(/\.csv\.gz$/, '.labels.csv')],
    },
    {
      script: 'features',
      what: 'euler angles, db6 denoising, normalisation, windows (N, 6, 10, 10)',
      args: ['--data', dataset, '--out', features],
      outputs: [join(features, 'statistics.json'), join(features, 'windows.npy'), join(features, 'windows-index.csv')],
      needs: () => (existsSync(dataset) ? undefined : `no data set at ${show(dataset)}`),
    },
    {
      // Into the data folder: the committed imgs/ change only when an author runs `npm run plots`.
      script: 'plots',
      what: 'render the Lab 01 figures as PNG images',
      args: ['--out', join(config.dataDir, 'imgs')],
      outputs: [join(config.dataDir, 'imgs')],
      optional: 'PNG images need Chromium: install it or set CHROMIUM_PATH, then run `npm start -- --steps plots`',
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
  const wanted = opts.steps?.split(',').map((s) => s.trim()).filter((s) => s !== '') ?? all.map((s) => s.script);
  const unknown = wanted.filter((w) => !all.some((s) => s.script === w));
  if (unknown.length > 0) {
    console.error(`--steps: unknown step ${unknown.join(', ')}; the steps are ${all.map((s) => s.script).join(', ')}`);
    process.exit(1);
  }
  console.log(`Wind-turbine edge ML labs: ${describeLabConfig(config)}`);
  mkdirSync(config.dataDir, { recursive: true });

  const done: Step[] = [];
  const missing: Step[] = [];
  const failed: Step[] = [];
  for (const step of all.filter((s) => wanted.includes(s.script))) {
    if (!cliExists(step.script)) {
      missing.push(step);
      console.log(`\n- ${step.script}: not built yet (shared/cli/${step.script}.ts does not exist), skipped`);
      continue;
    }
    const blocked = step.needs?.();
    if (blocked) {
      console.log(`\n- ${step.script}: skipped: ${blocked}`);
      continue;
    }
    console.log(`\n- ${step.script}: ${step.what}`);
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'shared', 'cli', `${step.script}.ts`), ...step.args], {
      cwd: PROJECT_ROOT,
      env,
      stdio: 'inherit',
    });
    if (r.status !== 0 && step.optional) {
      console.log(`  ${step.script} failed (${r.signal ?? `exit ${r.status}`}); continuing without it`);
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
  for (const step of done) console.log(`  ${step.script}: ${step.outputs.map(show).join(', ')}`);
  for (const step of failed) console.log(`  ${step.script}: nothing, it failed. ${step.optional}`);
  console.log('  notebooks: lab/ (open them with `npm run kernel:install`, then `jupyter lab`; or run them all with `npm run notebooks`)');

  console.log('\nWhat comes next, and what is not built yet:');
  for (const step of missing) console.log(`  - ${step.what}: coming (npm run ${step.script})`);
  for (const later of LATER) {
    console.log(`  - ${later.what}: ${cliExists(later.script) ? `available: npm run ${later.script}` : `coming with ${later.issue}`}`);
  }
  console.log('  - package, sign and deploy the model over IoT Jobs or Greengrass v2, and run the fleet: coming in later issues');
}

main();
