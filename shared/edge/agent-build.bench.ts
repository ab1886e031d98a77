/**
 * The deployable agent (`npm run build:agent`) against running it from the checkout: (a) the built folder's
 * size and file count against the sources and package files bundled into it; (b) what a device installs
 * (the folder plus `npm ci --omit=dev`) against the checkout's node_modules; (c) start time, process start
 * to the 'online' event, of `node agent.js` against the tsx-run `npm run agent` entry, both against the
 * same local cloud and device bundle (median of 3 starts each).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { lstatSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { BenchLine } from '../bench/types';
import { buildAgent } from './agent-build';
import { provisionTestDevices, spawnAgentProcess, startTestCloud, tempDir, waitFor } from './agent-testing';

export const name = 'deployable edge agent';

const ROOT = resolve(__dirname, '..', '..');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Files and bytes below dir (symbolic links not followed). */
function treeSize(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = treeSize(path);
      files += sub.files;
      bytes += sub.bytes;
    } else if (entry.isFile()) {
      files++;
      bytes += lstatSync(path).size;
    }
  }
  return { files, bytes };
}

/** Milliseconds from spawning an agent to its 'online' event. */
async function timeToOnline(entry: string[], cwd: string, args: string[]): Promise<number> {
  const started = performance.now();
  const agent = spawnAgentProcess(entry, args, { cwd });
  try {
    await waitFor(() => agent.events.some((e) => e.type === 'online'), 120_000, `online (${agent.stderr.slice(-3).join(' | ')})`);
    return performance.now() - started;
  } finally {
    agent.proc.kill('SIGTERM');
    await agent.exited;
  }
}

/** Runs the deployable agent benchmarks. */
export async function run(): Promise<BenchLine[]> {
  const tmp = await tempDir('agent-build-bench-');
  const cloud = await startTestCloud(join(tmp.dir, 'cloud'));
  try {
    const built = await buildAgent({ root: ROOT, outDir: join(tmp.dir, 'edge-agent') });
    const inputs = { label: 'bundled sources and package files', value: 0 };
    const lines: BenchLine[] = [
      { label: 'built folder size', value: built.bytes, unit: 'bytes', baseline: { ...inputs, value: built.inputs.bytes } },
      { label: 'built folder files', value: built.files.length, unit: 'files', baseline: { ...inputs, value: built.inputs.files } },
    ];
    await promisify(execFile)('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: built.outDir, timeout: 600_000 });
    const installed = treeSize(built.outDir);
    const checkout = treeSize(join(ROOT, 'node_modules'));
    lines.push(
      { label: 'installed on a device (folder + npm ci --omit=dev)', value: installed.bytes, unit: 'bytes', baseline: { label: "the checkout's node_modules", value: checkout.bytes } },
      { label: 'installed files', value: installed.files, unit: 'files', baseline: { label: "the checkout's node_modules", value: checkout.files } },
    );

    const [bundle] = await provisionTestDevices(join(tmp.dir, 'cloud'), join(tmp.dir, 'devices'), 1);
    const args = (state: string): string[] => ['--config', bundle, '--state', join(tmp.dir, state), '--public-key', join(tmp.dir, 'none.pub.pem'), '--frames', 'none', '--events'];
    // The key only has to parse: no model is loaded.
    writeFileSync(join(tmp.dir, 'none.pub.pem'), generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const builtMs: number[] = [];
    const tsxMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      builtMs.push(await timeToOnline(['agent.js'], built.outDir, args(`built-${i}`)));
      tsxMs.push(await timeToOnline(['--import', 'tsx', join(ROOT, 'shared', 'cli', 'agent.ts')], ROOT, args(`tsx-${i}`)));
    }
    lines.push({ label: 'start to online, node agent.js (built)', value: median(builtMs), unit: 'ms', baseline: { label: 'tsx-run agent from the checkout', value: median(tsxMs) }, note: 'median of 3' });
    return lines;
  } finally {
    await cloud.stop();
    await tmp.remove();
  }
}
