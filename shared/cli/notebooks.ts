/**
 * Runs notebooks headless through the tslab kernel, without Python or Jupyter.
 * Usage: npm run notebooks [-- [options] [notebooks or folders...]]   (default: every notebook under lab/)
 */
import { Command, InvalidArgumentError } from 'commander';
import { SingleBar } from 'cli-progress';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describeLabConfig, loadLabConfig, PROJECT_ROOT } from '../config/lab-config';
import { clearOutputs, hasOutputs, parseNotebook, serializeNotebook } from '../notebooks/notebook-file';
import { DEFAULT_CELL_TIMEOUT_MS, findNotebooks, formatFailure, runNotebook, type RunProgress } from '../notebooks/run-notebook';

interface Options {
  write: boolean;
  clear: boolean;
  timeout: number;
  profile?: string;
}

const program = new Command()
  .name('npm run notebooks --')
  .description(
    'Execute Jupyter notebooks top to bottom in the TypeScript (tslab) kernel, each in its own folder, ' +
      'stopping at the first failing cell. Notebooks run in the order the paths are given (the notebooks of a folder sorted); ' +
      'without paths: every notebook under lab/, in sorted order. ' +
      'Notebooks are left untouched unless --write is given; committed notebooks keep outputs cleared.',
  )
  .argument('[paths...]', 'notebooks (.ipynb) or folders to search')
  .option('--write', 'write outputs and execution counts back into each notebook', false)
  .option('--clear', 'do not run: clear outputs and execution counts in place (the committed form)', false)
  .option('--timeout <seconds>', 'limit for one cell', parseSeconds, DEFAULT_CELL_TIMEOUT_MS / 1000)
  .option('--profile <ci|full>', 'lab profile (sets LAB_PROFILE; default: $LAB_PROFILE, else ci)')
  .addHelpText(
    'after',
    '\nEnvironment: LAB_PROFILE, CLOUD_MODE, LAB_TURBINES, LAB_MINUTES, LAB_EPOCHS, LAB_FLEET_SECONDS, LAB_SEED,\n' +
      'LAB_DATA_DIR are passed to the kernel (see shared/config/lab-config.ts).\n' +
      'Exit status: 0 all passed (or no notebooks under lab/), 1 a cell failed or bad input, 130 interrupted.',
  )
  .parse(process.argv);

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || !(n > 0)) throw new InvalidArgumentError(`"${value}" is not a positive number of seconds`);
  return n;
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function display(path: string): string {
  return relative(process.cwd(), path) || path;
}

/** Progress on stderr: a bar on a terminal, one line per cell in logs (CI). */
function progressReporter(): (event: RunProgress) => void {
  if (process.stderr.isTTY) {
    let bar: SingleBar | undefined;
    return (event) => {
      if (event.kind === 'notebook') {
        bar = new SingleBar({
          stream: process.stderr,
          format: '{notebook} |{bar}| cell {value}/{total} | {duration}s | {line}',
          hideCursor: true,
          clearOnComplete: false,
        });
        bar.start(event.codeCells, 0, { notebook: display(event.path), line: 'starting kernel', duration: '0.0' });
      } else if (event.kind === 'cell') {
        bar?.update(event.codeCell - 1, { line: event.firstLine.slice(0, 50), duration: (event.elapsedMs / 1000).toFixed(1) });
      } else {
        bar?.update(event.result.executed, { line: event.result.ok ? 'done' : 'failed', duration: (event.result.elapsedMs / 1000).toFixed(1) });
        bar?.stop();
      }
    };
  }
  return (event) => {
    if (event.kind === 'notebook') console.error(`${display(event.path)}: ${event.codeCells} code cells`);
    else if (event.kind === 'cell') {
      console.error(`${display(event.path)}: cell ${event.codeCell}/${event.codeCells} (${(event.elapsedMs / 1000).toFixed(1)} s) ${event.firstLine}`);
    } else console.error(`${display(event.result.path)}: ${event.result.ok ? 'passed' : 'FAILED'} in ${(event.result.elapsedMs / 1000).toFixed(1)} s`);
  };
}

async function main(): Promise<void> {
  const opts = program.opts<Options>();
  const given = program.args;
  const defaultDir = join(PROJECT_ROOT, 'lab');
  let paths: string[];
  try {
    paths = given.length > 0 ? findNotebooks(given) : existsSync(defaultDir) ? findNotebooks([defaultDir]) : [];
  } catch (err) {
    fail((err as Error).message);
  }
  if (paths.length === 0) {
    if (given.length > 0) fail(`no notebooks found in ${given.join(', ')}`);
    console.log('no notebooks found under lab/: nothing to run');
    return;
  }

  if (opts.clear) {
    for (const path of paths) {
      const nb = parseNotebook(readFileSync(path, 'utf8'), path);
      writeFileSync(path, serializeNotebook(clearOutputs(nb)));
      console.log(`${display(path)}: outputs cleared`);
    }
    return;
  }

  const env: NodeJS.ProcessEnv = { ...process.env, LAB_PROFILE: opts.profile || process.env.LAB_PROFILE?.trim() || 'ci' };
  try {
    console.error(`lab configuration: ${describeLabConfig(loadLabConfig(env))}`);
  } catch (err) {
    fail((err as Error).message);
  }

  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    console.error('\ninterrupted: shutting the kernel down (Ctrl-C again to quit at once)');
    controller.abort();
  });
  process.on('SIGTERM', () => controller.abort());

  const onProgress = progressReporter();
  for (const path of paths) {
    try {
      const nb = parseNotebook(readFileSync(path, 'utf8'), path);
      if (!opts.write && hasOutputs(nb)) {
        console.error(`note: ${display(path)} carries outputs; committed notebooks keep them cleared (npm run notebooks -- --clear ${display(path)})`);
      }
      const result = await runNotebook(path, {
        write: opts.write,
        cellTimeoutMs: opts.timeout * 1000,
        env,
        onProgress,
        signal: controller.signal,
      });
      if (!result.ok) {
        console.error(formatFailure({ ...result, path: display(path) }));
        process.exit(1);
      }
      console.log(`${display(path)}: ok (${result.codeCells} code cells, ${(result.elapsedMs / 1000).toFixed(1)} s)${opts.write ? ', outputs written' : ''}`);
    } catch (err) {
      if (controller.signal.aborted) {
        console.error(`${display(path)}: interrupted`);
        process.exit(130);
      }
      fail(`${display(path)}: ${(err as Error).message}`);
    }
  }
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
