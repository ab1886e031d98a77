/**
 * `npm run plots`: regenerates every image in imgs/ from seeded simulations, so the README and the labs
 * show figures anyone can reproduce. Renders PNGs in headless Chromium: CHROMIUM_PATH, an installed
 * Chrome/Chromium, or the one shipped in the @sparticuz/chromium npm package (shared/browser).
 */
import { Command, InvalidArgumentError } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../config/lab-config';
import { exportPngs, type PngJob } from '../plots/export-png';
import { screenshotDashboard } from '../plots/dashboard-screenshot';
import { lab01Data, lab01Figure, LAB01_FIGURE_NAMES, type Lab01FigureName } from '../plots/lab01';

/** The simulation behind the committed images: fixed, so images only change when the code does. */
const IMAGE_DATA = { turbines: 2, minutes: 10, seed: 42 };

function positiveInt(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1, got "${v}"`);
    return Number(v);
  };
}

const program = new Command()
  .name('npm run plots --')
  .description(`Regenerate the images in imgs/ (Lab 01: ${LAB01_FIGURE_NAMES.join(', ')}).\nRenders with plotly.js in headless Chromium: CHROMIUM_PATH, else an installed Chrome/Chromium, else the one shipped in npm.`)
  .option('--out <dir>', 'output folder', join(PROJECT_ROOT, 'imgs'))
  .option('--only <names>', 'comma-separated figure names (default: all)')
  .option('--turbines <n>', 'turbines to simulate', positiveInt('--turbines'), IMAGE_DATA.turbines)
  .option('--minutes <n>', 'minutes to simulate', positiveInt('--minutes'), IMAGE_DATA.minutes)
  .option('--seed <n>', 'simulation seed', positiveInt('--seed'), IMAGE_DATA.seed)
  .option('--dashboard', 'also photograph the fleet dashboard (a 5-turbine farm with a detected fault) into <out>/dashboard.png')
  .option('--npm-chromium', 'render with the npm-shipped Chromium even where a browser is installed')
  .parse(process.argv);

async function main(): Promise<void> {
  const opts = program.opts<{ out: string; only?: string; turbines: number; minutes: number; seed: number; npmChromium?: boolean; dashboard?: boolean }>();
  const names = opts.only ? opts.only.split(',').map((s) => s.trim()) : [...LAB01_FIGURE_NAMES];
  const unknown = names.filter((n) => !(LAB01_FIGURE_NAMES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown figure ${unknown.join(', ')}; expected some of ${LAB01_FIGURE_NAMES.join(', ')}`);

  process.stderr.write(`Simulating ${opts.turbines} turbines for ${opts.minutes} min (seed ${opts.seed})...\n`);
  const data = lab01Data({ turbines: opts.turbines, minutes: opts.minutes, seed: opts.seed });
  const jobs: PngJob[] = (names as Lab01FigureName[]).map((name) => ({ figure: lab01Figure(data, name), path: join(opts.out, `lab01-${name}.png`) }));

  const bar = new SingleBar({ format: 'Rendering {bar} {value}/{total} {file}', stream: process.stderr }, Presets.shades_classic);
  bar.start(jobs.length, 0, { file: '' });
  await exportPngs(jobs, (job) => bar.increment({ file: relative(process.cwd(), job.path) }), { npmOnly: opts.npmChromium });
  bar.stop();
  for (const job of jobs) console.log(relative(process.cwd(), job.path));
  if (opts.dashboard) {
    const path = join(opts.out, 'dashboard.png');
    await screenshotDashboard(path, { npmOnly: opts.npmChromium }, (line) => process.stderr.write(`${line}\n`));
    console.log(relative(process.cwd(), path));
  }
}

main().catch((err: Error) => {
  console.error(`plots: ${err.message}`);
  process.exit(1);
});
