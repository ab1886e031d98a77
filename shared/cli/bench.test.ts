import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'bench.ts'), ...args], { encoding: 'utf8' });

test('npm run bench: --help says how a filter selects benches', () => {
  const help = cli('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /a folder name or path \(detector, cloud\/mqtt\) runs the benches in\s+that folder/);
});

test('npm run bench: a filter that matches no bench is refused, naming it and the benches, and runs nothing', () => {
  const run = cli('no-such-bench', 'detector');
  assert.equal(run.status, 1);
  assert.match(run.stderr, /no bench matches "no-such-bench"; the benches are:\n {2}shared\//);
  assert.match(run.stderr, /shared\/detector\/detector\.bench\.ts/);
  assert.equal(run.stdout, '', 'no bench ran');
});
