import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelCommand } from './kernel-client';
import { buildKernelSpec, installKernelSpec, jupyterDataDir, uninstallKernelSpec } from './kernelspec';

const ROOT = join(__dirname, '..', '..');

test('the Jupyter data folder follows jupyter_core on each platform', () => {
  assert.equal(jupyterDataDir({ JUPYTER_DATA_DIR: '/x/jd' }, 'linux', '/home/u'), '/x/jd');
  assert.equal(jupyterDataDir({}, 'linux', '/home/u'), join('/home/u', '.local', 'share', 'jupyter'));
  assert.equal(jupyterDataDir({ XDG_DATA_HOME: '/xdg' }, 'linux', '/home/u'), join('/xdg', 'jupyter'));
  assert.equal(jupyterDataDir({}, 'darwin', '/Users/u'), join('/Users/u', 'Library', 'Jupyter'));
  assert.equal(jupyterDataDir({ APPDATA: 'C:/Users/u/AppData/Roaming' }, 'win32', 'C:/Users/u'), join('C:/Users/u/AppData/Roaming', 'jupyter'));
});

test('the kernelspec starts the same kernel as the runner, with the connection-file placeholder', () => {
  const spec = buildKernelSpec();
  assert.deepEqual(spec.argv, kernelCommand('{connection_file}'));
  assert.equal(spec.argv[0], process.execPath);
  assert.ok(spec.argv.every((a) => a === '{connection_file}' || !a.startsWith('{')));
  for (const file of spec.argv.slice(0, 4).filter((a) => a.startsWith('/') || /^[A-Z]:/.test(a))) assert.ok(existsSync(file), file);
});

test('installing is idempotent, reports replacing another spec, and uninstall removes it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kernelspec-'));
  try {
    const spec = buildKernelSpec();
    const first = installKernelSpec(dir, spec);
    assert.equal(first.outcome, 'created');
    assert.deepEqual(JSON.parse(readFileSync(first.file, 'utf8')), spec);
    assert.equal(installKernelSpec(dir, spec).outcome, 'unchanged');
    writeFileSync(first.file, JSON.stringify({ argv: ['tslab', 'kernel', '--config-path', '{connection_file}'] }));
    const replaced = installKernelSpec(dir, spec);
    assert.equal(replaced.outcome, 'updated');
    assert.match(replaced.previous ?? '', /"tslab","kernel"/);
    assert.equal(uninstallKernelSpec(dir), true);
    assert.equal(existsSync(first.file), false);
    assert.equal(uninstallKernelSpec(dir), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run kernel:install writes into JUPYTER_DATA_DIR and says what it did each time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kernelspec-cli-'));
  try {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'shared/cli/kernel-install.ts'), ...args], {
        cwd: ROOT,
        env: { ...process.env, JUPYTER_DATA_DIR: dir, PATH: '' },
        encoding: 'utf8',
      });
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /installed the tslab kernelspec "TypeScript": .*kernels[\\/]tslab[\\/]kernel\.json/);
    assert.match(first.stdout, /Jupyter was not found on PATH/);
    assert.ok(existsSync(join(dir, 'kernels', 'tslab', 'kernel.json')));
    assert.match(run().stdout, /already installed and up to date/);
    assert.match(run('--uninstall').stdout, /removed the tslab kernelspec/);
    assert.equal(existsSync(join(dir, 'kernels', 'tslab')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
