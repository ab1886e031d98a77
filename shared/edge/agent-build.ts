/**
 * The deployable edge agent: one folder that runs with plain `node` on a device, without the checkout,
 * tsx or dev dependencies (`npm run build:agent`).
 *
 *   agent.js            `npm run agent`'s entry (shared/cli/agent.ts) and everything it imports, bundled
 *                       by esbuild, tfjs included (pure JavaScript, loaded only when onnxruntime-node does not)
 *   agent.js.LEGAL.txt  the licence comments of the bundled packages
 *   *.wasm              tfjs's wasm backend binaries, found next to agent.js at run time
 *   package.json        only the packages that cannot be bundled (NATIVE_DEPENDENCIES), pinned as in the checkout
 *   package-lock.json   the checkout's lock pruned to those packages by npm itself, so `npm ci` installs
 *                       exactly the versions the project was tested with
 *   README.md           how to install and run it on a device (shared/edge/device-readme.md)
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { AGENT_VERSION } from './agent';

/**
 * Packages the bundle loads at run time from node_modules: each carries a native binary loaded from a
 * path relative to its own files (aws-crt under aws-iot-device-sdk-v2; onnxruntime-node), which a
 * bundler cannot relocate.
 */
export const NATIVE_DEPENDENCIES = ['aws-iot-device-sdk-v2', 'onnxruntime-node'] as const;

/**
 * Install scripts the device's npm may run: aws-crt's only checks that its prebuilt binary is present;
 * onnxruntime-node's would download CUDA libraries a CPU-only device does not use.
 */
const ALLOW_SCRIPTS = { 'aws-crt': true, 'onnxruntime-node': false };

/** The package name of a built folder: only a folder holding it (or an empty one) is emptied by a new build. */
const BUILD_PACKAGE_NAME = 'wind-turbine-edge-agent';

/** What buildAgent wrote. */
export interface AgentBuild {
  outDir: string;
  /** Every file written, relative to outDir. */
  files: string[];
  /** Total size of the files. */
  bytes: number;
  /** The source and package files esbuild bundled into agent.js: count and bytes. */
  inputs: { files: number; bytes: number };
}

/** Options of buildAgent. */
export interface AgentBuildOptions {
  /** The project checkout (its package.json, package-lock.json and node_modules). */
  root: string;
  /** Folder to write: missing, empty, or an earlier build (replaced). */
  outDir: string;
  /** Called with each step's name as it starts. */
  onStep?: (step: string) => void;
}

/** The exact version the checkout pins for a package; throws when it is missing or a range. */
function pinnedVersion(projectPackage: { dependencies?: Record<string, string> }, name: string): string {
  const version = projectPackage.dependencies?.[name];
  if (!version || !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version)) throw new Error(`package.json must pin ${name} to an exact version, got ${JSON.stringify(version)}`);
  return version;
}

/** Throws unless dir is missing, empty, or an earlier build (so a mistyped --out never empties a folder of other files). */
function checkReplaceable(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  if (names.length === 0) return;
  let name: unknown;
  try {
    name = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name;
  } catch {
    name = undefined;
  }
  if (name !== BUILD_PACKAGE_NAME) throw new Error(`${dir} holds other files (it is not an earlier edge agent build): choose an empty or new folder`);
}

/** Builds the deployable agent folder; see the file comment. */
export async function buildAgent(opts: AgentBuildOptions): Promise<AgentBuild> {
  const root = resolve(opts.root);
  const outDir = resolve(opts.outDir);
  const step = opts.onStep ?? (() => undefined);
  const projectPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; engines?: Record<string, string> };
  const dependencies = Object.fromEntries(NATIVE_DEPENDENCIES.map((name) => [name, pinnedVersion(projectPackage, name)]));

  checkReplaceable(outDir);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  step('bundling shared/cli/agent.ts with esbuild');
  const result = await build({
    entryPoints: [join(root, 'shared', 'cli', 'agent.ts')],
    outfile: join(outDir, 'agent.js'),
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: [...NATIVE_DEPENDENCIES],
    // Whitespace and syntax only: identifiers stay, so a device's stack traces remain readable.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'external',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'silent',
    metafile: true,
  });
  if (result.errors.length > 0) throw new Error(`esbuild: ${result.errors.map((e) => e.text).join('; ')}`);

  step('copying the tfjs wasm backend binaries');
  const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  for (const name of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) copyFileSync(join(wasmDir, name), join(outDir, name));

  step('writing package.json and README.md');
  const manifest = {
    name: BUILD_PACKAGE_NAME,
    version: AGENT_VERSION,
    private: true,
    description: 'The wind-turbine edge agent, bundled: run with node agent.js --config <device bundle>',
    license: 'MIT-0',
    main: 'agent.js',
    bin: { 'edge-agent': 'agent.js' },
    scripts: { start: 'node agent.js' },
    engines: { node: projectPackage.engines?.node ?? '>=20' },
    dependencies,
    allowScripts: ALLOW_SCRIPTS,
  };
  writeFileSync(join(outDir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  copyFileSync(join(root, 'shared', 'edge', 'device-readme.md'), join(outDir, 'README.md'));

  step('pruning the checkout\'s package-lock.json to the native dependencies (npm, offline)');
  copyFileSync(join(root, 'package-lock.json'), join(outDir, 'package-lock.json'));
  try {
    await promisify(execFile)('npm', ['install', '--package-lock-only', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: outDir, timeout: 120_000 });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`npm could not prune package-lock.json to ${NATIVE_DEPENDENCIES.join(', ')}: ${(e.stderr || e.message).trim()}`);
  }

  const files = readdirSync(outDir).sort();
  const bytes = files.reduce((sum, f) => sum + statSync(join(outDir, f)).size, 0);
  const inputs = Object.values(result.metafile?.inputs ?? {});
  return { outDir, files, bytes, inputs: { files: inputs.length, bytes: inputs.reduce((sum, i) => sum + i.bytes, 0) } };
}
