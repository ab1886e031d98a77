/**
 * `npm run bench`: runs every `shared/**\/*.bench.ts` and prints each figure next to a baseline measured in
 * the same run, as a ratio, so numbers compare across machines. Usage: npm run bench [-- <filter>...]
 * (which benches a filter selects: shared/bench/select-benches.ts).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Command } from 'commander';
import { selectBenches } from '../bench/select-benches';
import type { BenchSuite } from '../bench/types';

const root = join(__dirname, '..', '..');

/** Every *.bench.ts under dir, sorted by path. */
function findBenches(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findBenches(path));
    else if (name.endsWith('.bench.ts')) found.push(path);
  }
  return found;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run bench --')
    .description('Runs shared/**/*.bench.ts and prints each figure with its ratio to a baseline measured in the same run.')
    .argument(
      '[filters...]',
      'a folder name or path (detector, cloud/mqtt) runs the benches in that folder and its subfolders; any other text runs the benches whose path contains it (fleet.bench, memory); none: every bench',
    )
    .showHelpAfterError('(run with --help for usage)')
    .parse();
  const filters = program.processedArgs[0] as string[];
  // Paths inside the project, '/'-separated: a checkout's own folder name (say .../detector2) must not match every bench.
  const paths = findBenches(join(root, 'shared')).map((f) => relative(root, f).split(sep).join('/'));
  const { selected, unmatched } = selectBenches(paths, filters);
  if (unmatched.length > 0) program.error(`no bench matches ${unmatched.map((f) => `"${f}"`).join(', ')}; the benches are:\n  ${paths.join('\n  ')}`);
  for (const path of selected) {
    const suite = (await import(join(root, path))) as { default?: BenchSuite } & BenchSuite;
    const run = suite.default?.run ?? suite.run;
    const name = suite.default?.name ?? suite.name ?? path;
    console.log(`\n## ${name} (${path})`);
    for (const line of await run()) {
      const ratio = line.baseline ? `  ratio ${(line.value / line.baseline.value).toFixed(2)} vs ${line.baseline.label} (${fmt(line.baseline.value)} ${line.unit})` : '';
      console.log(`${line.label}: ${fmt(line.value)} ${line.unit}${ratio}${line.note ? `  [${line.note}]` : ''}`);
    }
  }
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(4);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
