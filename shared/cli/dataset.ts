/**
 * `npm run dataset -- --out <file.csv.gz> [--turbines N] [--minutes M] [--seed S] [--faults]`: simulates a
 * wind farm and writes its frames in the original 23-column CSV schema (gzip if the name ends in .gz);
 * with --faults also the labels file beside it (<name>.labels.csv). Without size options it writes the
 * training data set the detector's figures are measured on (DEFAULT_TRAINING_DATA: 16 turbines x 60 min,
 * seed 42), so `npm run dataset` then `npm run train` reproduces them.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { FarmSimulator } from '../turbine/farm';
import { FramesCsvWriter } from '../turbine/csv';
import { FAULT_KINDS, FAULT_SEVERITIES } from '../turbine/faults';
import { labelsPathFor, writeLabelsCsv } from '../turbine/labels';
import { DEFAULT_TRAINING_DATA } from '../detector/pipeline';
import { integerOption, numberOption } from './options';

async function main(): Promise<void> {
  const program = new Command('dataset')
    .description('Simulate mini wind turbines (one frame per 50 ms) and write their sensor frames as CSV in the original workshop schema.')
    .requiredOption('--out <file>', 'output file, .csv.gz (gzip) or .csv')
    // Defaults: the detector's training data set (one source of truth with npm run train's figures).
    .option('--turbines <n>', 'number of turbines', integerOption('turbines', 1), DEFAULT_TRAINING_DATA.turbines)
    .option('--minutes <m>', 'simulated minutes per turbine (1200 frames each)', numberOption('minutes', 'a positive number', (n) => n > 0), DEFAULT_TRAINING_DATA.minutes)
    .option('--seed <s>', 'integer seed: the same seed gives the same bytes', numberOption('seed', 'an integer', Number.isSafeInteger), DEFAULT_TRAINING_DATA.seed)
    .option('--faults', 'inject labelled faults and write the labels file <out without .csv.gz/.csv>.labels.csv (e.g. data/farm.csv.gz -> data/farm.labels.csv)', false)
    .option('--start <time>', 'eventTime of the first frame (ISO 8601)', '2021-03-01T12:00:00Z')
    .addHelpText(
      'after',
      `\nRows are ordered by time, then turbine. Labels file columns: turbineId,start,end,kind with kind as <kind>:<severity>\n(kinds: ${FAULT_KINDS.join(', ')}; severities: ${FAULT_SEVERITIES.join(', ')}); start and end are the eventTimes of the first and last affected frame.`,
    )
    .showHelpAfterError('(run with --help for usage)');
  program.parse();
  const opts = program.opts<{ out: string; turbines: number; minutes: number; seed: number; faults: boolean; start: string }>();
  if (!/\.csv(\.gz)?$/.test(opts.out)) throw new Error(`--out must end in .csv.gz or .csv, got "${opts.out}"`);

  const farm = new FarmSimulator({ turbines: opts.turbines, minutes: opts.minutes, seed: opts.seed, faults: opts.faults, startTime: opts.start });
  mkdirSync(dirname(opts.out), { recursive: true });
  const writer = FramesCsvWriter.create(opts.out);
  const bar = new SingleBar({ format: 'dataset [{bar}] {percentage}% | {value}/{total} frames | {eta}s left', stream: process.stderr, etaBuffer: 20 });
  bar.start(farm.totalRows, 0);
  try {
    for (let block = farm.nextBlock(1200); block; block = farm.nextBlock(1200)) {
      await writer.write(block);
      bar.update(farm.rowsDone);
    }
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    bar.stop();
  }

  const summary = [`wrote ${opts.out}: ${farm.turbines} turbine(s) x ${opts.minutes} min = ${farm.totalRows} frames (seed ${farm.seed})`];
  if (opts.faults) {
    const labelsPath = labelsPathFor(opts.out);
    writeLabelsCsv(farm.labels, labelsPath);
    const pairs = new Set(farm.labels.map((l) => `${l.kind}:${l.severity}`));
    const all = FAULT_KINDS.length * FAULT_SEVERITIES.length;
    summary.push(`wrote ${labelsPath}: ${farm.labels.length} fault episodes covering ${pairs.size} of ${all} kind:severity pairs`);
    if (pairs.size < all) summary.push(`note: not every kind:severity pair fits in ${opts.minutes} min x ${farm.turbines} turbine(s); add minutes or turbines to cover all ${all}`);
  }
  process.stdout.write(`${summary.join('\n')}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`dataset: ${err.message}\n`);
  process.exit(1);
});
