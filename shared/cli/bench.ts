/**
 * `npm run bench`: runs every `shared/**\/*.bench.ts` and prints each figure next to a baseline measured in
 * the same run, as a ratio, so numbers compare across machines. Usage: npm run bench [-- <filter>...]
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { BenchSuite } from '../bench/types';

const root = join(__dirname, '..', '..');

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
  const filters = process.argv.slice(2);
  if (filters.includes('--help')) {
    console.log('Usage: npm run bench [-- <substring of a bench file path>...]\nRuns shared/**/*.bench.ts and prints figures with ratios to same-run baselines.');
    return;
  }
  // Filters match the path inside the project: a checkout's own folder name (say .../detector2) must not match every bench.
  const files = findBenches(join(root, 'shared')).filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)));
  for (const file of files) {
    const suite = (await import(file)) as { default?: BenchSuite } & BenchSuite;
    const run = suite.default?.run ?? suite.run;
    const name = suite.default?.name ?? suite.name ?? relative(root, file);
    console.log(`\n## ${name} (${relative(root, file)})`);
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
