/**
 * The wind-turbine detector as Greengrass components, from the recipes participants read in
 * lab/03-Package-Deploy/greengrass-v2/recipes: the deployable agent (`npm run build:agent`) packed as the
 * Detector's artifact, the signed model packages as Model versions, the InferenceRuntime; and a core
 * device's root prepared the way the Detector recipe expects it (<root>/turbine-bundle with device.json
 * and the trusted signing key). Used by Lab 04 (Greengrass v2), its test and the bench.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import type { S3Client } from '@aws-sdk/client-s3';
import { buildAgent } from '../../edge/agent-build';
import { PUBLIC_KEY_FILE } from '../../packaging/signing-key';
import { verifyPackage } from '../../packaging/verify-package';
import { publishComponent, readRecipeFile, type PublishedComponent } from './components';

const ROOT = resolve(__dirname, '..', '..', '..');
/** Where participants read the recipes. */
export const RECIPES_DIR = join(ROOT, 'lab', '03-Package-Deploy', 'greengrass-v2', 'recipes');
export const MODEL_COMPONENT = 'com.windturbine.Model';
export const RUNTIME_COMPONENT = 'com.windturbine.InferenceRuntime';
export const DETECTOR_COMPONENT = 'com.windturbine.Detector';
/** The artifact file names the recipes name. */
export const AGENT_ARCHIVE = 'edge-agent.tar.gz';
export const MODEL_FILE = 'wind-turbine.tar.gz';
/** The folder under a core device's root the Detector reads device.json and the signing key from. */
export const DEVICE_BUNDLE_DIR = 'turbine-bundle';

/** The agent built and packed, and (optionally) its dependencies installed once for many devices. */
export interface DetectorArtifact {
  /** edge-agent.tar.gz: the dist/edge-agent folder. */
  archive: string;
  /** A folder holding node_modules with the agent's dependencies (the Detector's dependenciesFrom), if installed. */
  dependenciesDir?: string;
}

/**
 * Builds the deployable agent into <dir>/edge-agent (esbuild, as `npm run build:agent`) and packs it as
 * <dir>/edge-agent.tar.gz. With installDependencies, also runs `npm ci --omit=dev` once in
 * <dir>/dependencies (kept while the agent's lock file is unchanged), for devices that share it.
 */
export async function packDetectorAgent(dir: string, opts: { installDependencies?: boolean; onStep?: (step: string) => void } = {}): Promise<DetectorArtifact> {
  const step = opts.onStep ?? (() => undefined);
  mkdirSync(dir, { recursive: true });
  const agentDir = join(dir, 'edge-agent');
  await buildAgent({ root: ROOT, outDir: agentDir, onStep: step });
  const archive = join(dir, AGENT_ARCHIVE);
  step(`packing ${AGENT_ARCHIVE}`);
  execFileSync('tar', ['-czf', `${archive}.tmp`, '-C', dir, 'edge-agent']);
  renameSync(`${archive}.tmp`, archive);
  if (!opts.installDependencies) return { archive };
  const dependenciesDir = join(dir, 'dependencies');
  const lock = readFileSync(join(agentDir, 'package-lock.json'));
  const stamp = createHash('sha256').update(lock).digest('hex');
  const stampFile = join(dependenciesDir, '.lock-sha256');
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    step('installing the agent\'s dependencies once (npm ci --omit=dev)');
    rmSync(dependenciesDir, { recursive: true, force: true });
    mkdirSync(dependenciesDir, { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(agentDir, f), join(dependenciesDir, f));
    execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dependenciesDir, stdio: ['ignore', 'ignore', 'pipe'] });
    writeFileSync(stampFile, stamp);
  }
  return { archive, dependenciesDir };
}

/** Where and as whom to publish. */
export interface ComponentTarget {
  gg: GreengrassV2Client;
  s3: S3Client;
  bucket: string;
  region: string;
  accountId: string;
}

/**
 * Publishes the InferenceRuntime 1.0.0, the Detector 1.0.0 (artifact: the packed agent) and one Model
 * version per signed package (the component version is the package's own version, checked against
 * publicKeyPem first), all from the lab's recipe files.
 */
export async function publishDetectorComponents(target: ComponentTarget, agent: DetectorArtifact, packages: string[], publicKeyPem: string): Promise<PublishedComponent[]> {
  const out: PublishedComponent[] = [];
  const modelRecipe = await readRecipeFile(join(RECIPES_DIR, `${MODEL_COMPONENT}-1.0.0.yaml`));
  for (const file of packages) {
    const { manifest } = verifyPackage(readFileSync(file), publicKeyPem);
    const recipe = JSON.parse(JSON.stringify(modelRecipe).split(`/${MODEL_COMPONENT}/1.0.0/`).join(`/${MODEL_COMPONENT}/${manifest.version}/`)) as Record<string, unknown>;
    recipe.ComponentVersion = manifest.version;
    out.push(await publishComponent({ ...target, recipe, artifacts: { [MODEL_FILE]: file } }));
  }
  out.push(await publishComponent({ ...target, recipe: await readRecipeFile(join(RECIPES_DIR, `${RUNTIME_COMPONENT}-1.0.0.json`)) }));
  out.push(await publishComponent({ ...target, recipe: await readRecipeFile(join(RECIPES_DIR, `${DETECTOR_COMPONENT}-1.0.0.yaml`)), artifacts: { [AGENT_ARCHIVE]: agent.archive } }));
  return out;
}

/** The components of a deployment that runs the detector on modelVersion. */
export function detectorDeploymentComponents(modelVersion: string, agent: DetectorArtifact, detectorConfig: Record<string, unknown> = {}): Record<string, { componentVersion: string; configurationUpdate?: { merge: string } }> {
  const merge = { ...(agent.dependenciesDir ? { dependenciesFrom: agent.dependenciesDir } : {}), ...detectorConfig };
  return {
    [MODEL_COMPONENT]: { componentVersion: modelVersion },
    [RUNTIME_COMPONENT]: { componentVersion: '1.0.0' },
    [DETECTOR_COMPONENT]: { componentVersion: '1.0.0', ...(Object.keys(merge).length ? { configurationUpdate: { merge: JSON.stringify(merge) } } : {}) },
  };
}

/** Puts the device's device.json and the trusted signing key where the Detector reads them (<root>/turbine-bundle). */
export function prepareCoreDeviceRoot(root: string, bundleDir: string, publicKeyPem: string): void {
  const dir = join(root, DEVICE_BUNDLE_DIR);
  mkdirSync(dir, { recursive: true });
  // The Detector talks to the cloud through the nucleus: it gets device.json, not the private key.
  cpSync(join(bundleDir, 'device.json'), join(dir, 'device.json'));
  writeFileSync(join(dir, PUBLIC_KEY_FILE), publicKeyPem);
}
