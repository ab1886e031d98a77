/**
 * `npm run evaluate -- --model <dir> --data <csv.gz> --labels <labels.csv>`: scores a labelled data set
 * with a trained detector and prints the evaluation JSON (event precision/recall/F1, delays, false alarms
 * per turbine-day with their 95 % upper bound, AUC, per-kind recall, and the same figures for the original
 * threshold rule and a per-feature z-score baseline). A summary of the false-alarm figures goes to stderr,
 * saying whether the normal time supports the rate the thresholds were fitted for.
 *
 * `npm run evaluate -- --training-seeds 42,101,...`: the stability study instead (stability.ts): trains
 * one model per training data seed the documented way and prints each model's false alarms on normal-only
 * farms and event F1 and delay on a labelled farm, as a Markdown table (the detector README's).
 */
import { Command, InvalidArgumentError } from 'commander';
import { initBackend } from '../detector/backend';
import { loadDetector } from '../detector/detector';
import { checkFalseAlarmTarget, falseAlarmLine } from '../detector/false-alarm-summary';
import { formatPipelineEvent } from '../detector/pipeline-log';
import { evaluateOnFrames } from '../detector/report';
import { measureTrainingStability, stabilityTable } from '../detector/stability';
import { readFramesCsv } from '../turbine/csv';
import { readLabelsCsv } from '../turbine/labels';
import { integerOption, numberOption } from './options';

interface EvaluateOptions {
  model?: string;
  data?: string;
  labels?: string;
  backend?: string;
  falseAlarmTarget?: number;
  trainingSeeds?: number[];
  normalFarms: number[];
  normalFirstSeed: number;
  testFarm: number[];
  testSeed: number;
  workDir: string;
}

const seedList = (value: string): number[] => {
  const seeds = value.split(',').map((s) => integerOption('--training-seeds', 0)(s.trim()));
  if (new Set(seeds).size !== seeds.length) throw new InvalidArgumentError(`--training-seeds lists a seed twice: ${value}`);
  return seeds;
};
/** A parser for "AxBxC" integers (>= 1) with exactly `parts` parts. */
const farmShape = (name: string, parts: number, form: string) => (value: string): number[] => {
  const list = value.split('x');
  if (list.length !== parts) throw new InvalidArgumentError(`${name} must be ${form}, got "${value}"`);
  return list.map((p) => integerOption(name, 1)(p.trim()));
};

async function evaluateModel(o: EvaluateOptions): Promise<void> {
  if (!o.model || !o.data) throw new Error('--model and --data are required (or --training-seeds for the stability study)');
  const detector = await loadDetector(o.model);
  const labels = readLabelsCsv(o.labels ?? o.data.replace(/\.csv(\.gz)?$/, '') + '.labels.csv');
  const frames = readFramesCsv(o.data);
  const { report } = evaluateOnFrames(detector, frames, labels);
  const target = o.falseAlarmTarget ?? detector.description.training.falseAlarm?.targetPerTurbineDay ?? null;
  detector.dispose();
  const check = target === null ? null : checkFalseAlarmTarget(report, target);
  process.stdout.write(JSON.stringify({ ...report, false_alarm_target: check }, null, 2) + '\n');
  process.stderr.write(`${falseAlarmLine(report)}\n${check ? `target: ${check.note}\n` : ''}`);
}

async function studyStability(o: EvaluateOptions): Promise<void> {
  const [count, turbines, minutes] = o.normalFarms;
  const [testTurbines, testMinutes] = o.testFarm;
  const rows = await measureTrainingStability({
    trainingSeeds: o.trainingSeeds!,
    normal: { count, turbines, minutes, firstSeed: o.normalFirstSeed },
    test: { turbines: testTurbines, minutes: testMinutes, firstSeed: o.testSeed },
    workDir: o.workDir,
    onProgress: (text) => process.stderr.write(`${text}\n`),
    onPipelineEvent: (e) => {
      const line = formatPipelineEvent(e);
      if (line && e.type !== 'epoch') process.stderr.write(`  ${line}\n`);
    },
  });
  process.stdout.write(
    `Normal-only farms: ${count} x ${turbines} turbines x ${minutes} min, seeds ${o.normalFirstSeed}-${o.normalFirstSeed + count - 1}; ` +
      `labelled farm: ${testTurbines} turbines x ${testMinutes} min with faults, seed ${o.testSeed}.\n\n${stabilityTable(rows)}\n`,
  );
}

async function main(): Promise<void> {
  const program = new Command('evaluate')
    .description('Evaluate a trained detector on a labelled data set and print the results as JSON, or (--training-seeds) measure how stable training is across data seeds.')
    .option('--model <dir>', 'model directory written by npm run train')
    .option('--data <file>', 'farm CSV (.csv.gz or .csv) with faults')
    .option('--labels <file>', 'labels file (default: <data without .csv.gz>.labels.csv)')
    .option('--false-alarm-target <rate>', "false alarms per turbine-day to check the measured rate's upper bound against (default: the model's target)", numberOption('false-alarm-target', 'a positive number', (n) => n > 0))
    .option('--backend <name>', 'tfjs backend: wasm | cpu | tensorflow')
    .option('--training-seeds <list>', 'stability study: comma-separated training data seeds, one model each (default data size and options)', seedList)
    .option('--normal-farms <shape>', 'stability study: normal-only farms, <count>x<turbines>x<minutes>', farmShape('--normal-farms', 3, '<count>x<turbines>x<minutes>'), [30, 4, 120])
    .option('--normal-first-seed <n>', 'stability study: seed of the first normal-only farm (the others follow)', integerOption('normal-first-seed', 0), 9701)
    .option('--test-farm <shape>', 'stability study: labelled farm with every fault kind, <turbines>x<minutes>', farmShape('--test-farm', 2, '<turbines>x<minutes>'), [8, 150])
    .option('--test-seed <n>', 'stability study: seed of the labelled farm', integerOption('test-seed', 0), 9801)
    .option('--work-dir <dir>', 'stability study: training data, pipeline cache and models', '.cache/stability')
    .showHelpAfterError('(run with --help for usage)');
  program.parse();
  const o = program.opts<EvaluateOptions>();
  if (o.backend && !['wasm', 'cpu', 'tensorflow'].includes(o.backend)) throw new Error(`--backend must be wasm, cpu or tensorflow, got "${o.backend}"`);
  await initBackend(o.backend as 'wasm' | 'cpu' | 'tensorflow' | undefined);
  if (o.trainingSeeds) await studyStability(o);
  else await evaluateModel(o);
}

main().catch((err: Error) => {
  process.stderr.write(`evaluate: ${err.message}\n`);
  process.exit(1);
});
