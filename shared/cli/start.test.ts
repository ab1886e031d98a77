import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function start(args: string[], env: NodeJS.ProcessEnv) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAB_')));
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'shared/cli/start.ts'), ...args], { cwd: ROOT, env: { ...clean, ...env }, encoding: 'utf8', timeout: 50_000 });
}

test('npm start runs the data steps that exist into the data folder and says honestly what is not built', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'start-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = start(['--steps', 'dataset,features'], { LAB_PROFILE: 'ci', LAB_TURBINES: '1', LAB_MINUTES: '1', LAB_DATA_DIR: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /profile ci, mode local, 1 turbines, 1 min of data/);
  for (const [script, file] of [['dataset', 'turbines.csv.gz'], ['features', join('features', 'windows.npy')]]) {
    if (existsSync(join(ROOT, 'shared', 'cli', `${script}.ts`))) {
      assert.match(r.stdout, new RegExp(`- ${script}: .*\\n[\\s\\S]*done in`));
      assert.ok(existsSync(join(dir, file)), `${script} wrote ${file}`);
    } else {
      assert.match(r.stdout, new RegExp(`- ${script}: not built yet`));
    }
  }
  assert.match(r.stdout, /What comes next, and what is not built yet:/);
  assert.match(r.stdout, /deploy the model over IoT Jobs to edge agents on the local cloud \(Lab 03\): available/);
  assert.match(r.stdout, /Greengrass v2 components \(Lab 03, Greengrass variant\): coming in a later version/);
});

test('npm start refuses a bad setting or an unknown step with one line', () => {
  const bad = start([], { LAB_MINUTES: 'forever' });
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, 'LAB_MINUTES: "forever" is not a positive number\n');
  const unknown = start(['--steps', 'dataset,deploy'], {});
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /^--steps: unknown step deploy; the steps are dataset, features, plots, train, testset, evaluate\n$/);
});
