/**
 * `npm run features -- --data <csv[.gz]> --out <dir> [--scheme block|original]`: turns turbine frames into
 * model input as the original's preprocessing step did: statistics.json (raw_std, mean, std, features, plus
 * the scheme's parameters) and windows.npy, float32 (N, 6, 10, 10). Also windows-index.csv, which frames
 * each window covers, so labels can be matched to windows.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { FEATURE_COUNT } from '../features/euler';
import { writeNpyChunks } from '../features/npy';
import { type PreprocessingParams, PREPROCESSING_SCHEMES, type PreprocessingScheme, preprocessingParams, windowSide } from '../features/params';
import { farmWindows, type FarmWindows, fitFarmStatistics, turbineSeries } from '../features/farm';
import { type FeatureStatistics, statisticsFromJson, statisticsToJson } from '../features/statistics';
import { readFramesCsv } from '../turbine/csv';
import { numberOption } from './options';

interface Options {
  data: string;
  out: string;
  scheme: PreprocessingScheme;
  statistics?: string;
  blockLength?: number;
  level?: number;
  thresholdMultiplier?: number;
}

async function main(): Promise<void> {
  const program = new Command('features')
    .description('Compute model-input windows from turbine frames: quaternion -> euler, db6 wavelet denoising, z-score, windows of 100 steps every 10, shape (N, 6, 10, 10).')
    .requiredOption('--data <file>', 'frames in the original 23-column CSV schema, plain or gzip (.csv / .csv.gz)')
    .requiredOption('--out <dir>', 'output directory for statistics.json, windows.npy and windows-index.csv')
    .addOption(new Option('--scheme <name>', 'preprocessing scheme: block (training = device) or original (the workshop\'s exact steps)').choices([...PREPROCESSING_SCHEMES]).default('block'))
    .option('--statistics <file>', 'use the statistics and parameters in this statistics.json instead of fitting them on --data (e.g. for test data)')
    .option('--block-length <n>', 'block scheme: frames per denoising block', numberOption('block-length', 'an integer', Number.isInteger))
    .option('--level <n>', 'block scheme: wavelet level inside a block', numberOption('level', 'an integer', Number.isInteger))
    .option('--threshold-multiplier <k>', 'block scheme: soft threshold = k x fitted noise sigma', numberOption('threshold-multiplier', 'a number'))
    .addHelpText(
      'after',
      '\nA file with several turbines (turbineId column) is split by turbine: statistics are fitted on all of them, windows are\n' +
        'computed per turbine (never spanning two) and concatenated in ascending turbineId order. windows-index.csv has one row\n' +
        'per window in the same order: turbineId, first and last data row (0-based, in the input file) and the last eventTime.\n' +
        'Block scheme: frames whose quaternion, wind_speed_rps, rps or voltage is not a finite number are skipped, as on the device.',
    )
    .showHelpAfterError('(run with --help for usage)');
  program.parse();
  const opts = program.opts<Options>();

  process.stderr.write(`features: reading ${opts.data}\n`);
  const frames = readFramesCsv(opts.data);
  const series = turbineSeries(frames);
  const longest = Math.max(0, ...series.map((s) => s.frames.length));
  const needed = opts.scheme === 'original' ? 101 : 100;
  if (longest < needed && !opts.statistics) {
    throw new Error(
      `${opts.data}: too short: ${frames.length} data rows for ${series.length} turbine(s), the longest series has ${longest} frames; ` +
        `one window needs ${needed}`,
    );
  }

  let stats: FeatureStatistics;
  let params: PreprocessingParams;
  if (opts.statistics) {
    if (opts.blockLength !== undefined || opts.level !== undefined || opts.thresholdMultiplier !== undefined) {
      throw new Error('--statistics brings its own preprocessing parameters; drop --block-length, --level and --threshold-multiplier');
    }
    ({ stats, params } = readStatistics(opts.statistics));
    if (program.getOptionValueSource('scheme') === 'cli' && opts.scheme !== params.scheme) {
      throw new Error(`--scheme ${opts.scheme} contradicts ${opts.statistics}, which was fitted for the ${params.scheme} scheme`);
    }
  } else {
    params = preprocessingParams({
      scheme: opts.scheme,
      ...(opts.blockLength !== undefined ? { blockLength: opts.blockLength } : {}),
      ...(opts.level !== undefined ? { level: opts.level } : {}),
      ...(opts.thresholdMultiplier !== undefined ? { thresholdMultiplier: opts.thresholdMultiplier } : {}),
    });
    process.stderr.write(`features: fitting ${params.scheme} statistics on ${frames.length} frames of ${series.length} turbine(s)\n`);
    try {
      stats = fitFarmStatistics(series, params);
    } catch (err) {
      throw new Error(`${opts.data}: ${(err as Error).message}`);
    }
  }

  const bar = new SingleBar({ format: 'features [{bar}] {value}/{total} turbines', stream: process.stderr });
  bar.start(series.length, 0);
  const parts: FarmWindows[] = [];
  try {
    // One turbine at a time, so the progress bar moves on a big farm.
    for (const s of series) {
      parts.push(farmWindows([s], stats, params));
      bar.increment();
    }
  } finally {
    bar.stop();
  }
  const total = parts.reduce((sum, p) => sum + p.count, 0);
  if (total === 0) {
    throw new Error(`${opts.data}: no turbine has enough frames for one window of ${params.windowLength} (longest series: ${longest} frames)`);
  }

  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'statistics.json'), `${JSON.stringify(statisticsToJson(stats, params), null, 2)}\n`);
  const side = windowSide(params);
  // Written part by part: a farm's windows can be hundreds of megabytes.
  writeNpyChunks(join(opts.out, 'windows.npy'), parts.map((p) => p.windows), [total, FEATURE_COUNT, side, side]);
  const index = ['turbineId,startRow,endRow,endEventTime'];
  for (const p of parts) {
    for (let w = 0; w < p.count; w++) index.push(`${p.turbineId[w]},${p.startRow[w]},${p.endRow[w]},${frames.eventTime[p.endRow[w]]}`);
  }
  writeFileSync(join(opts.out, 'windows-index.csv'), `${index.join('\n')}\n`);
  const rejected = parts.reduce((sum, p) => sum + p.rejectedFrames, 0);
  process.stdout.write(
    `wrote ${join(opts.out, 'windows.npy')}: ${total} windows (${total}, ${FEATURE_COUNT}, ${side}, ${side}) from ${frames.length} frames of ${series.length} turbine(s), scheme ${params.scheme}` +
      `${rejected ? `, ${rejected} bad frames skipped` : ''}\nwrote ${join(opts.out, 'statistics.json')} and windows-index.csv\n`,
  );
}

function readStatistics(path: string): { stats: FeatureStatistics; params: PreprocessingParams } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read statistics (${(err as Error).message})`);
  }
  try {
    return statisticsFromJson(json);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

main().catch((err: Error) => {
  process.stderr.write(`features: ${err.message}\n`);
  process.exit(1);
});
