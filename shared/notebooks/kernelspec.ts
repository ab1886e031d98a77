/**
 * The Jupyter kernelspec that lets JupyterLab start this project's TypeScript kernel: written directly into
 * the user's Jupyter data folder, so registering it needs neither Python nor `jupyter kernelspec`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { kernelCommand } from './kernel-client';

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: 'signal';
  metadata: Record<string, unknown>;
}

/** Kernel name; tslab's own, so notebooks saved with tslab (and ours) pick this kernel. */
export const KERNEL_NAME = 'tslab';

/**
 * The per-user Jupyter data folder as jupyter_core computes it: $JUPYTER_DATA_DIR, else
 * ~/Library/Jupyter (macOS), %APPDATA%\jupyter (Windows), $XDG_DATA_HOME/jupyter or ~/.local/share/jupyter.
 */
export function jupyterDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  if (platform === 'darwin') return join(home, 'Library', 'Jupyter');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'jupyter');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'jupyter');
}

/** The kernelspec: the same command the headless runner uses, with Jupyter's connection-file placeholder. */
export function buildKernelSpec(): KernelSpec {
  return {
    argv: kernelCommand('{connection_file}'),
    display_name: 'TypeScript',
    language: 'typescript',
    interrupt_mode: 'signal',
    metadata: { source: 'wind-turbine edge ML labs (tslab with project imports)' },
  };
}

export type InstallOutcome = 'created' | 'updated' | 'unchanged';

/** Writes spec as <kernelsDir>/<name>/kernel.json; says whether it was new, changed or already there. */
export function installKernelSpec(kernelsDir: string, spec: KernelSpec, name = KERNEL_NAME): { outcome: InstallOutcome; file: string; previous?: string } {
  const dir = join(kernelsDir, name);
  const file = join(dir, 'kernel.json');
  const text = `${JSON.stringify(spec, null, 2)}\n`;
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (previous === text) return { outcome: 'unchanged', file };
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, text);
  return { outcome: previous === undefined ? 'created' : 'updated', file, previous };
}

/** Removes <kernelsDir>/<name>; true when there was something to remove. */
export function uninstallKernelSpec(kernelsDir: string, name = KERNEL_NAME): boolean {
  const dir = join(kernelsDir, name);
  if (!existsSync(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}
