/**
 * `npm run evaluate -- --model <dir> --data <csv.gz> --labels <labels.csv>`: scores a labelled data set
 * with a trained detector and prints the evaluation JSON (event precision/recall/F1, delays, false alarms
 * per turbine-day, AUC, per-kind recall, and the same figures for the original threshold rule and a
 * per-feature z-score baseline).
 */
import { Command } from 'commander';
import { initBackend } from '../detector/backend';
import { loadDetector } from '../detector/detector';
import { evaluateOnFrames } from '../detector/report';
import { readFramesCsv } from '../turbine/csv';
import { readLabelsCsv } from '../turbine/labels';

async function main(): Promise<void> {
  const program = new Command('evaluate')
    .description('Evaluate a trained detector on a labelled data set and print the results as JSON.')
    .requiredOption('--model <dir>', 'model directory written by npm run train')
    .requiredOption('--data <file>', 'farm CSV (.csv.gz or .csv) with faults')
    .option('--labels <file>', 'labels file (default: <data without .csv.gz>.labels.csv)')
    .option('--backend <name>', 'tfjs backend: wasm | cpu | tensorflow')
    .showHelpAfterError('(run with --help for usage)');
  program.parse();
  const o = program.opts<{ model: string; data: string; labels?: string; backend?: string }>();
  if (o.backend && !['wasm', 'cpu', 'tensorflow'].includes(o.backend)) throw new Error(`--backend must be wasm, cpu or tensorflow, got "${o.backend}"`);
  await initBackend(o.backend as 'wasm' | 'cpu' | 'tensorflow' | undefined);
  const detector = await loadDetector(o.model);
  const labels = readLabelsCsv(o.labels ?? o.data.replace(/\.csv(\.gz)?$/, '') + '.labels.csv');
  const frames = readFramesCsv(o.data);
  const { report } = evaluateOnFrames(detector, frames, labels);
  detector.dispose();
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

main().catch((err: Error) => {
  process.stderr.write(`evaluate: ${err.message}\n`);
  process.exit(1);
});
