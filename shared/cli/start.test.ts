import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const START = ['--import', 'tsx', join(ROOT, 'shared/cli/start.ts')];

/** The environment of a user who never heard of the SDK's switch for its Node version notice. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return env;
}

/** Runs npm start's script to its end; the first run may train the model (minutes on a loaded machine). */
function start(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...START, ...args], { cwd: ROOT, env: userEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (status) => done({ status, stdout, stderr }));
  });
}

test('npm start refuses a bad option with one line, before anything starts', () => {
  const r = spawnSync(process.execPath, [...START, '--turbines', '0'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--turbines/);
  assert.equal(r.stdout, '');
  const help = spawnSync(process.execPath, [...START, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--until-ready/);
});

test('npm start reaches a running farm with its dashboard, and a second run reuses the model and the devices', { timeout: 1_800_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'start-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const args = ['--turbines', '2', '--port', '0', '--dir', dir, '--until-ready'];
  const first = await start(args);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /dashboard: http:\/\/127\.0\.0\.1:\d+/);
  for (const thing of ['turbine-0', 'turbine-1']) assert.match(first.stdout, new RegExp(`'${thing}'\\s*│\\s*'1\\.0\\.0'`), first.stdout);
  assert.doesNotMatch(first.stdout, /"state"|\{\s*"/, 'summaries are tables, not JSON dumps');
  assert.doesNotMatch(first.stdout + first.stderr, /NodeVersionSupportWarning|DeprecationWarning/, 'no library noise');

  const second = await start(args);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /model reused from/);
  assert.match(second.stdout, /dashboard: http:\/\/127\.0\.0\.1:\d+/);
  assert.doesNotMatch(second.stdout + second.stderr, /NodeVersionSupportWarning|DeprecationWarning/, 'no library noise');
  const seconds = Number(/farm running after ([\d.]+) s/.exec(second.stdout)?.[1]);
  console.log(`# second run: farm running after ${seconds} s`);
});
