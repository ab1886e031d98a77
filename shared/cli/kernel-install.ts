/**
 * Registers the project's TypeScript kernel (tslab, with imports of shared/ enabled) for JupyterLab.
 * Usage: npm run kernel:install [-- --prefix <dir>] [-- --uninstall]
 */
import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildKernelSpec, installKernelSpec, jupyterDataDir, KERNEL_NAME, uninstallKernelSpec } from '../notebooks/kernelspec';

const program = new Command()
  .name('npm run kernel:install --')
  .description(
    'Register the TypeScript kernel the labs use (tslab, able to import shared/) with Jupyter, by writing its ' +
      'kernelspec into your Jupyter data folder. Needs neither Python nor Jupyter; safe to run again.',
  )
  .option('--prefix <dir>', 'install into <dir>/share/jupyter/kernels (e.g. a virtualenv or conda env) instead of your user folder')
  .option('--uninstall', 'remove the kernelspec again', false)
  .parse(process.argv);

const opts = program.opts<{ prefix?: string; uninstall: boolean }>();
const kernelsDir = opts.prefix ? join(opts.prefix, 'share', 'jupyter', 'kernels') : join(jupyterDataDir(), 'kernels');

try {
  if (opts.uninstall) {
    const removed = uninstallKernelSpec(kernelsDir);
    console.log(removed ? `removed the ${KERNEL_NAME} kernelspec from ${kernelsDir}` : `no ${KERNEL_NAME} kernelspec in ${kernelsDir}: nothing to remove`);
    process.exit(0);
  }
  const spec = buildKernelSpec();
  const { outcome, file, previous } = installKernelSpec(kernelsDir, spec);
  if (outcome === 'unchanged') console.log(`the ${KERNEL_NAME} kernelspec is already installed and up to date: ${file}`);
  else console.log(`${outcome === 'created' ? 'installed' : 'updated'} the ${KERNEL_NAME} kernelspec "${spec.display_name}": ${file}`);
  if (outcome === 'updated' && previous) {
    const before = (JSON.parse(previous) as { argv?: string[] }).argv?.join(' ') ?? '(unreadable)';
    console.log(`  it replaced a kernelspec that ran: ${before}`);
  }
  console.log(`  the kernel runs: ${spec.argv.join(' ')}`);
  console.log('  (it uses this Node and this checkout: run this command again after moving either)');
  const jupyter = spawnSync('jupyter', ['--version'], { stdio: 'ignore' });
  if (jupyter.error || jupyter.status !== 0) {
    console.log('Jupyter was not found on PATH. To open the labs interactively install JupyterLab (e.g. `pip install jupyterlab`);');
    console.log('`npm run notebooks` runs them without it.');
  } else {
    console.log('Next: `jupyter lab`, open a notebook under lab/ and pick the "TypeScript" kernel.');
  }
} catch (err) {
  console.error(`kernel:install: ${(err as Error).message}`);
  process.exit(1);
}
