/**
 * The notebook kernel: tslab's TypeScript kernel, started so that cells can import the project's library
 * by relative path (see project-imports.ts). Jupyter (through the kernelspec `npm run kernel:install`
 * writes) and the headless runner both start it as:
 *   node --require <tsx>/dist/cjs/index.cjs shared/notebooks/kernel.ts --config-path <connection.json>
 * with the notebook's folder as working directory.
 */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { allowImportsOutsideNotebookFolder } from './project-imports';
import { RUNNER_PID_VARIABLE } from './connection';

/** Under the headless runner, exit when the runner is gone (killed hard), so no kernel is left behind. */
function watchRunner(pid: string | undefined): void {
  if (!pid || !/^\d+$/.test(pid)) return;
  setInterval(() => {
    try {
      process.kill(Number(pid), 0);
    } catch {
      process.exit(0);
    }
  }, 2000).unref();
}

const program = new Command()
  .name('kernel')
  .description('Start the TypeScript (tslab) Jupyter kernel with imports of the project library enabled.')
  .requiredOption('--config-path <file>', 'Jupyter connection file (ports and key)')
  .parse(process.argv);

const { configPath } = program.opts<{ configPath: string }>();
if (!existsSync(configPath)) {
  console.error(`kernel: connection file ${configPath} does not exist`);
  process.exit(2);
}
watchRunner(process.env[RUNNER_PID_VARIABLE]);
allowImportsOutsideNotebookFolder(process.cwd());
// Required only now: tslab must load the patched TypeScript module.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { startKernel } = require('tslab/dist/main') as typeof import('tslab/dist/main');
startKernel({ configPath, enableFindLocal: false });
