/**
 * installSageMaker: the SageMaker subset of the local cloud on service `sagemaker` (awsJson1.1, X-Amz-Target
 * `SageMaker.<Action>`): device fleets and devices (fleets.ts) with the agents' MQTT heartbeats recorded on
 * them (heartbeats.ts), compilation and edge packaging jobs with
 * our ONNX exporter and signer behind them (edge-jobs.ts, toolchain.ts), and the model registry
 * (model-registry.ts). State lives in the cloud's store and survives a restart.
 */
import type { CloudContext, ServiceHandle } from '../contracts';
import type { Installer, NamedInstaller } from '../services';
import { ArtifactStore } from './artifact-store';
import { DEFAULT_EDGE_JOB_LIMITS, edgeJobOperations, EdgeJobRunner, type EdgeJobLimits } from './edge-jobs';
import { DEFAULT_FLEET_LIMITS, fleetOperations, type FleetLimits } from './fleets';
import { attachHeartbeats } from './heartbeats';
import { COLLECTIONS, type CompilationJobRecord, type DeviceFleetRecord, type DeviceRecord, type EdgePackagingJobRecord, type ModelPackageGroupRecord, type ModelPackageRecord } from './records';
import { DEFAULT_REGISTRY_LIMITS, registryOperations, type RegistryLimits } from './model-registry';
import { operationRoutes } from './respond';
import { packagingToolchain } from './packaging-toolchain';
import type { EdgeToolchain } from './toolchain';

export interface SageMakerOptions {
  /** Compiler and packager behind the jobs (default: shared/packaging's ONNX exporter and signer). */
  toolchain?: EdgeToolchain;
  /** Signing key folder of the default toolchain (default: the project's, .state/signing). */
  signingKeyDir?: string;
  /** Cloud time a job spends STARTING before its work begins (default 1000 ms). */
  startDelayMs?: number;
  /** Quotas that answer ResourceLimitExceeded when reached. */
  limits?: Partial<FleetLimits & RegistryLimits & EdgeJobLimits>;
}

/** What installSageMaker gives back besides stop(): the job runner, for tests. */
export interface SageMakerServiceHandle extends ServiceHandle {
  runner: EdgeJobRunner;
  /** Heartbeats recorded on devices and malformed ones ignored (undefined without a broker). */
  heartbeats?: { recorded: number; ignored: number };
}

/** An installer of the SageMaker subset with the given options. */
export function sageMakerInstaller(options: SageMakerOptions = {}): Installer {
  return async (ctx: CloudContext): Promise<SageMakerServiceHandle> => {
    const limits = { ...DEFAULT_FLEET_LIMITS, ...DEFAULT_REGISTRY_LIMITS, ...DEFAULT_EDGE_JOB_LIMITS, ...options.limits };
    const base = { clock: ctx.clock, region: ctx.region, accountId: ctx.accountId };
    const fleets = ctx.store.collection<DeviceFleetRecord>(COLLECTIONS.fleets);
    const devices = ctx.store.collection<DeviceRecord>(COLLECTIONS.devices);
    const groups = ctx.store.collection<ModelPackageGroupRecord>(COLLECTIONS.groups);
    const packages = ctx.store.collection<ModelPackageRecord>(COLLECTIONS.packages);
    const artifacts = new ArtifactStore(ctx);
    const jobDeps = {
      ...base,
      store: ctx.store,
      compilations: ctx.store.collection<CompilationJobRecord>(COLLECTIONS.compilationJobs),
      packagings: ctx.store.collection<EdgePackagingJobRecord>(COLLECTIONS.packagingJobs),
      artifacts,
      toolchain: options.toolchain ?? packagingToolchain({ keyDir: options.signingKeyDir }),
      limits,
      startDelayMs: options.startDelayMs ?? 1000,
      log: (line: string) => process.stderr.write(`[local cloud] ${line}\n`),
    };
    const runner = new EdgeJobRunner(jobDeps);
    // Heartbeats need the broker; a cloud installed without it simply has none.
    const heartbeats = ctx.bus ? attachHeartbeats({ bus: ctx.bus, clock: ctx.clock, store: ctx.store, devices, log: jobDeps.log }) : undefined;
    runner.recoverAfterRestart();
    ctx.routes.add(
      'sagemaker',
      operationRoutes({
        ...fleetOperations({ ...base, fleets, devices, limits }),
        ...edgeJobOperations(jobDeps, runner),
        ...registryOperations({ ...base, groups, packages, limits }),
      }),
    );
    return {
      runner,
      heartbeats,
      async stop() {
        heartbeats?.stop();
        await runner.stop();
        artifacts.destroy();
      },
    };
  };
}

/** Installs the SageMaker subset with default options. */
export const installSageMaker: Installer = sageMakerInstaller();

/**
 * The given installer list with the SageMaker entry configured by options, e.g.
 * `startLocalCloud({ ..., installers: withSageMakerOptions(installers, { signingKeyDir }) })`.
 */
export function withSageMakerOptions(list: readonly NamedInstaller[], options: SageMakerOptions): NamedInstaller[] {
  if (!list.some((i) => i.name === 'sagemaker')) throw new Error(`the installer list has no sagemaker entry (it has ${list.map((i) => i.name).join(', ')})`);
  return list.map((i) => (i.name === 'sagemaker' ? { name: i.name, install: sageMakerInstaller(options) } : i));
}
