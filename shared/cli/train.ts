/**
 * `npm run train -- --data <csv.gz> --out <dir>`: runs the detector's training pipeline (preprocess ->
 * train -> evaluate -> register) with a progress bar on stderr and writes the model directory. Steps whose
 * inputs did not change are taken from the cache (--cache, default .cache/detector).
 */
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { ARCHITECTURES, DEFAULT_ARCHITECTURE, isArchitecture } from '../detector/models';
import { LocalDirectoryRegistry } from '../detector/model-registry';
import { type PipelineEvent, runTrainingPipeline } from '../detector/pipeline';
import { CALIBRATION_FARMS, DEFAULT_FALSE_ALARM_TARGET } from '../detector/calibration';
import { DEFAULT_BUDGET } from '../detector/thresholds';
import { DEFAULT_TRAINING } from '../detector/training';
import { falseAlarmLine } from '../detector/false-alarm-summary';
import type { BackendName } from '../detector/backend';
import { integerOption, numberOption } from './options';

async function main(): Promise<void> {
  const program = new Command('train')
    .description('Train the wind-turbine anomaly detector (autoencoder + thresholds) and write its model directory.')
    .requiredOption('--data <file>', 'training data: farm CSV (.csv.gz or .csv) of normal operation, e.g. from npm run dataset')
    .requiredOption('--out <dir>', 'model directory to write (replaced atomically when training succeeds)')
    .option('--labels <file>', 'labels of faults in the training data (windows touching them are not trained on)')
    .option('--eval-data <file>', 'labelled data set (another seed) to evaluate on; the report goes to metrics.json')
    .option('--eval-labels <file>', 'labels of --eval-data (default: <eval-data without .csv.gz>.labels.csv)')
    .option('--arch <kind>', `architecture: ${ARCHITECTURES.join(' | ')}`, DEFAULT_ARCHITECTURE)
    .option('--epochs <n>', 'most epochs (early stopping on validation loss may stop sooner)', integerOption('epochs', 1), DEFAULT_TRAINING.epochs)
    .option('--batch-size <n>', 'windows per batch', integerOption('batch-size', 1), DEFAULT_TRAINING.batchSize)
    .option('--seed <n>', 'seed of weights and batch order', integerOption('seed', 0), DEFAULT_TRAINING.seed)
    .option('--margin <x>', 'threshold = margin x largest held-out normal error (debounced)', numberOption('margin', 'a positive number', (n) => n > 0), DEFAULT_BUDGET.margin)
    .option('--debounce <n>', 'consecutive windows over threshold before an alarm', integerOption('debounce', 1), DEFAULT_BUDGET.debounceWindows)
    .option('--onset-margin <x>', 'margin of the onset rule (newest 20 steps of each window)', numberOption('onset-margin', 'a positive number', (n) => n > 0), DEFAULT_BUDGET.recentMargin)
    .option('--fast-margin <x>', 'fast rule: one window over this x the largest held-out score alarms at once (0 = off)', numberOption('fast-margin', 'a number >= 0', (n) => n >= 0), DEFAULT_BUDGET.fastMargin)
    .option('--no-conditioning', 'fixed thresholds, not conditioned on the rotor-speed state (for comparison)')
    .option('--false-alarm-target <rate>', 'false alarms per turbine-day the thresholds are fitted for on normal calibration data (0 = off: the budget rule alone)', numberOption('false-alarm-target', 'a number >= 0', (n) => n >= 0), DEFAULT_FALSE_ALARM_TARGET)
    .option('--calibration-data <file>', `normal farm CSV of other turbines to fit the false-alarm rate on (default: ${CALIBRATION_FARMS.count} simulated farms of ${CALIBRATION_FARMS.turbines} turbines x ${CALIBRATION_FARMS.minutes} min)`)
    .option('--no-calibration-worker', 'prepare and score the calibration data on the main thread instead of a second one (the same results, slower)')
    .option('--backend <name>', 'tfjs backend: wasm | cpu | tensorflow (default: tensorflow if @tensorflow/tfjs-node loads, else wasm)')
    .option('--cache <dir>', 'cache of step outputs', '.cache/detector')
    .showHelpAfterError('(run with --help for usage)');
  program.parse();
  const o = program.opts<{
    data: string; out: string; labels?: string; evalData?: string; evalLabels?: string; arch: string; epochs: number; batchSize: number;
    seed: number; margin: number; debounce: number; onsetMargin: number; fastMargin: number; conditioning: boolean; falseAlarmTarget: number; calibrationData?: string; calibrationWorker: boolean;
    backend?: string; cache: string;
  }>();
  if (!isArchitecture(o.arch)) throw new Error(`--arch must be one of ${ARCHITECTURES.join(', ')}, got "${o.arch}"`);
  if (o.backend && !['wasm', 'cpu', 'tensorflow'].includes(o.backend)) throw new Error(`--backend must be wasm, cpu or tensorflow, got "${o.backend}"`);
  if (o.margin < 1) throw new Error(`--margin must be >= 1, got ${o.margin}`);
  if (o.onsetMargin < 1) throw new Error(`--onset-margin must be >= 1, got ${o.onsetMargin}`);
  if (o.fastMargin !== 0 && o.fastMargin < 1) throw new Error(`--fast-margin must be 0 (off) or >= 1, got ${o.fastMargin}`);
  const evalLabels = o.evalData ? (o.evalLabels ?? o.evalData.replace(/\.csv(\.gz)?$/, '') + '.labels.csv') : undefined;

  let bar: SingleBar | null = null;
  const onEvent = (e: PipelineEvent): void => {
    if (e.type === 'step') {
      process.stderr.write(`${e.step}${e.cached ? ' (cached)' : ''} ...\n`);
    } else if (e.type === 'batch') {
      if (!bar) {
        bar = new SingleBar({ format: 'train [{bar}] epoch {epoch}/{maxEpochs} batch {value}/{total} | loss {loss} | val {val}', stream: process.stderr, hideCursor: false });
        bar.start(e.batches, 0, { epoch: e.epoch, maxEpochs: e.maxEpochs, loss: '-', val: '-' });
      }
      if (e.batch === 1) bar.setTotal(e.batches);
      bar.update(e.batch, { epoch: e.epoch, loss: e.loss.toFixed(4) });
    } else if (e.type === 'epoch') {
      bar?.update({ val: e.log.valLoss.toFixed(4) });
    } else if (e.type === 'stepDone' && e.step === 'train') {
      (bar as SingleBar | null)?.stop();
      bar = null;
    }
  };
  const result = await runTrainingPipeline({
    dataPath: o.data,
    labelsPath: o.labels,
    evalDataPath: o.evalData,
    evalLabelsPath: evalLabels,
    cacheDir: o.cache,
    registry: new LocalDirectoryRegistry(o.out),
    architecture: o.arch,
    seed: o.seed,
    training: { epochs: o.epochs, batchSize: o.batchSize },
    budget: { margin: o.margin, debounceWindows: o.debounce, recentMargin: o.onsetMargin, fastMargin: o.fastMargin, conditioned: o.conditioning },
    falseAlarmTarget: o.falseAlarmTarget,
    calibrationDataPath: o.calibrationData,
    calibrationWorker: o.calibrationWorker,
    backend: o.backend as BackendName | undefined,
    onEvent,
  });
  const t = result.description.training;
  const lines = [
    `wrote ${result.location}: ${result.description.architecture} autoencoder, ${t.epochs} epochs (best ${t.bestEpoch}, validation MSE ${t.bestValLoss.toFixed(4)}), ${t.seconds.toFixed(1)} s of training on ${t.backend}`,
    `steps: ${result.steps.map((s) => `${s.step} ${s.cached ? 'cached' : `${s.seconds.toFixed(1)} s`}`).join(', ')}`,
  ];
  const c = t.falseAlarm;
  if (c) {
    lines.push(
      `thresholds fitted for ${c.targetPerTurbineDay} false alarms per turbine-day on ${c.normalTurbineDays.toFixed(2)} normal turbine-days of calibration data: ` +
        `whole-window error thresholds x ${c.multipliers.map((m, f) => `${result.description.featureNames[f]} ${m.toFixed(2)}`).join(', ')}; onset thresholds x ${c.onsetMultipliers[0].toFixed(2)}`,
    );
  }
  if (result.report) {
    const r = result.report;
    lines.push(`evaluation: event F1 ${r.event_f1.toFixed(3)}, recall ${r.event_recall.toFixed(3)}, precision ${r.event_precision.toFixed(3)}, median delay ${r.median_delay_s} s, ${falseAlarmLine(r)}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err: Error) => {
  process.stderr.write(`train: ${err.message}\n`);
  process.exit(1);
});
