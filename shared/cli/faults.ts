/**
 * `npm run test:faults`: the fault-injection suite (shared/faults/*.test.ts) at full size, one scenario at a
 * time against real components on loopback; prints progress, then the table of figures, and writes them
 * to results.json. `--write-readme` puts the table into the top README between its markers.
 * Usage: npm run test:faults [-- --scale short|full] [--only <name>...] [--write-readme] [--table-only]
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { type FaultFigure, figuresTable, readFigures, replaceReadmeTable, RESULTS_ENV, resultsDir, SCALE_ENV, type FaultScale } from '../faults/figures';

const root = join(__dirname, '..', '..');
const faultsDir = join(root, 'shared', 'faults');

/** Runs one scenario file with node --test; resolves with its exit code, output in logFile. */
function runScenario(file: string, scale: FaultScale, dir: string, logFile: string): Promise<number> {
  return new Promise((resolveRun) => {
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', file], {
      cwd: root,
      env: { ...process.env, [SCALE_ENV]: scale, [RESULTS_ENV]: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('close', (code) => {
      log.end();
      resolveRun(code ?? 1);
    });
  });
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run test:faults --')
    .description('Fault-injection suite: broker restart during a rollout, device processes killed, cloud outage, full spool disk, a model going bad after activation, a reconnect storm, and a fuzz pass; prints and records the figures.')
    .option('--scale <scale>', 'short (the counts npm test uses) or full (100 / 1000 devices, 5 min outage)', (v: string) => {
      if (v !== 'short' && v !== 'full') throw new InvalidArgumentError(`--scale must be short or full, got "${v}"`);
      return v;
    }, 'full')
    .option('--only <names...>', 'run only scenarios whose file name contains one of these')
    .option('--results <dir>', 'folder for the figures (default .state/faults/<scale>)')
    .option('--write-readme', 'write the table of figures into README.md between its faults-table markers')
    .option('--table-only', 'run nothing: print (and with --write-readme write) the table of the figures already recorded')
    .parse();
  const opts = program.opts<{ scale: FaultScale; only?: string[]; results?: string; writeReadme?: boolean; tableOnly?: boolean }>();
  const files = readdirSync(faultsDir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .filter((f) => !opts.only || opts.only.some((s) => f.includes(s)));
  if (files.length === 0) throw new Error(`no scenario in ${relative(root, faultsDir)} matches ${opts.only?.join(' ')}`);
  const dir = opts.results ?? resultsDir(opts.scale);
  if (opts.tableOnly) {
    const figures = readFigures(dir);
    if (figures.length === 0) throw new Error(`no figures in ${relative(root, dir)}: run npm run test:faults first`);
    report(figures, opts.scale, !!opts.writeReadme);
    return;
  }
  mkdirSync(dir, { recursive: true });
  for (const f of files) rmSync(join(dir, `${f.replace(/\.test\.ts$/, '')}.json`), { force: true });

  const failed: string[] = [];
  const started = Date.now();
  for (const [i, f] of files.entries()) {
    const name = basename(f, '.test.ts');
    const logFile = join(dir, `${name}.log`);
    process.stdout.write(`[${i + 1}/${files.length}] ${name} (${opts.scale}) ... `);
    const t0 = Date.now();
    const code = await runScenario(join(faultsDir, f), opts.scale, dir, logFile);
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    if (code === 0) console.log(`passed in ${secs} s`);
    else {
      failed.push(name);
      const tail = readFileSync(logFile, 'utf8').split('\n').filter((l) => /not ok|Error|assert|expected|actual|timed out/i.test(l)).slice(0, 15);
      console.log(`FAILED in ${secs} s (full output: ${relative(root, logFile)})\n  ${tail.join('\n  ')}`);
    }
  }
  const figures = readFigures(dir);
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ scale: opts.scale, failed, totalMs: Date.now() - started, figures }, null, 2) + '\n');
  report(figures, opts.scale, !!opts.writeReadme);
  console.log(`figures: ${relative(root, join(dir, 'results.json'))}; ${files.length - failed.length} of ${files.length} scenarios passed in ${Math.round((Date.now() - started) / 1000)} s`);
  if (failed.length > 0) process.exitCode = 1;
}

/** Prints the table of figures and, when asked, writes it into the README. */
function report(figures: FaultFigure[], scale: FaultScale, writeReadme: boolean): void {
  const table = figuresTable(figures);
  console.log(`\n${table}\n`);
  if (!writeReadme) return;
  const measured = figures.map((f) => f.recordedAt.slice(0, 10)).sort().pop();
  const readme = join(root, 'README.md');
  writeFileSync(readme, replaceReadmeTable(readFileSync(readme, 'utf8'), `${table}\n\n_Scale ${scale}, measured ${measured}._`));
  console.log('README.md table updated');
}

main().catch((err) => {
  console.error(`test:faults: ${(err as Error).message}`);
  process.exit(1);
});
