/**
 * Runs every unit and integration test (`*.test.ts` under shared/) with Node's own test runner.
 * Usage: npm run test:unit [-- <path filter>...]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

/** Every *.test.ts file below dir, sorted so runs are repeatable. */
function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.ts')) found.push(relative(root, path));
  }
  return found;
}

const filters = process.argv.slice(2);
if (filters.includes('--help')) {
  console.log('Usage: npm run test:unit [-- <substring of a test path>...]\nRuns shared/**/*.test.ts with node --test.');
  process.exit(0);
}
const files = findTests(join(root, 'shared')).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`No test files match ${filters.join(' ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
