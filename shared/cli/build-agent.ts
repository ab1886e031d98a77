/**
 * `npm run build:agent [-- --out <dir>]`: writes the deployable edge agent (default dist/edge-agent/), a
 * folder that runs with plain `node` on a device after `npm ci --omit=dev`; see shared/edge/agent-build.ts
 * and the folder's README.md.
 */
import { Command } from 'commander';
import { join, relative, resolve } from 'node:path';
import { buildAgent } from '../edge/agent-build';

const ROOT = resolve(__dirname, '..', '..');

async function main(): Promise<void> {
  const program = new Command('build:agent')
    .description(
      'Bundle the edge agent into a self-contained folder for a device: agent.js (esbuild), package.json and package-lock.json\n' +
        'of its native dependencies only, the tfjs wasm binaries, and a README for the device.',
    )
    .option('--out <dir>', 'folder to write, replaced if it holds an earlier build (default: dist/edge-agent in the checkout)')
    .showHelpAfterError();
  program.parse();
  const { out } = program.opts<{ out?: string }>();
  const started = Date.now();
  const built = await buildAgent({ root: ROOT, outDir: out ? resolve(out) : join(ROOT, 'dist', 'edge-agent'), onStep: (s) => process.stderr.write(`build:agent: ${s}\n`) });
  const shown = relative(process.cwd(), built.outDir) || '.';
  process.stdout.write(
    [
      `edge agent built in ${shown}/ (${built.files.length} files, ${(built.bytes / 1e6).toFixed(1)} MB, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  ${built.files.join(', ')}`,
      `on the device: copy the folder, then  npm ci --omit=dev  and  node agent.js --config <device bundle>  (see ${shown}/README.md)`,
    ].join('\n') + '\n',
  );
}

main().catch((err: Error) => {
  process.stderr.write(`build:agent: ${err.message}\n`);
  process.exit(1);
});
