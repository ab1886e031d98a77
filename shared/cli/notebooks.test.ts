import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectImport, writeTestNotebook } from '../notebooks/notebook-files-testing';

const ROOT = join(__dirname, '..', '..');

/** The caller's environment minus LAB_* settings, so a developer's own settings do not change the test. */
function withoutLabSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('LAB_')));
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'shared/cli/notebooks.ts'), ...args], {
    cwd: ROOT,
    env: { ...withoutLabSettings(process.env), ...env },
    encoding: 'utf8',
    timeout: 50_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the CLI runs a folder in sorted order, stops at the first failing cell and names it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'notebooks-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pass = writeTestNotebook(dir, 'a-pass.ipynb', [
    `import { RAW_COLUMNS } from '${projectImport(dir, 'shared/turbine/schema')}';\nconsole.log(RAW_COLUMNS.length);`,
    'if (process.env.LAB_PROFILE !== "ci") throw new Error(`profile ${process.env.LAB_PROFILE}`);',
  ]);
  const failing = writeTestNotebook(dir, 'b-throws.ipynb', ['const a = 1;', '// second cell\nthrow new Error(`boom ${a + 1}`);', 'console.log("not reached")']);
  writeTestNotebook(dir, 'c-never.ipynb', ['console.log(1)']);
  const before = [readFileSync(pass, 'utf8'), readFileSync(failing, 'utf8')];

  const r = runCli([dir]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /a-pass\.ipynb: ok \(2 code cells/);
  assert.match(r.stderr, /b-throws\.ipynb: cell 2 failed: Error: boom 2\n/);
  assert.match(r.stderr, /it starts: \/\/ second cell\)/);
  assert.match(r.stderr, /b-throws\.ipynb: cell 2\/3 /, 'progress names notebook and cell');
  assert.doesNotMatch(r.stdout + r.stderr, /c-never/, 'nothing runs after a failure');
  assert.deepEqual([readFileSync(pass, 'utf8'), readFileSync(failing, 'utf8')], before, 'notebooks are untouched without --write');
});

test('bad arguments and settings fail at once with a one-line message; --clear empties outputs', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'notebooks-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'empty'));
  const missing = runCli([join(dir, 'nope')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope: no such notebook or folder\n$/);
  const empty = runCli([join(dir, 'empty')]);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /no notebooks found in .*empty\n$/);
  const path = writeTestNotebook(dir, 'x.ipynb', ['1']);
  const badTimeout = runCli(['--timeout', 'soon', path]);
  assert.equal(badTimeout.status, 1);
  assert.match(badTimeout.stderr, /"soon" is not a positive number of seconds/);
  const badEnv = runCli([path], { LAB_TURBINES: 'many' });
  assert.equal(badEnv.status, 1);
  assert.match(badEnv.stderr, /LAB_TURBINES: "many" is not a whole number\n$/);

  const nb = JSON.parse(readFileSync(path, 'utf8'));
  nb.cells[1].outputs = [{ output_type: 'stream', name: 'stdout', text: ['1\n'] }];
  nb.cells[1].execution_count = 1;
  writeFileSync(path, JSON.stringify(nb));
  const cleared = runCli(['--clear', path]);
  assert.equal(cleared.status, 0, cleared.stderr);
  const after = JSON.parse(readFileSync(path, 'utf8'));
  assert.deepEqual([after.cells[1].outputs, after.cells[1].execution_count], [[], null]);
});
