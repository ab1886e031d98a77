/**
 * `npm run nucleus -- --bundle <device bundle dir> [--root <dir>]`: runs one Greengrass core device: the
 * nucleus (shared/greengrass) on its root folder, connected with the device's own certificate, taking
 * Greengrass deployments from IoT Jobs and reporting its components' states. Components keep running
 * until SIGTERM or SIGINT, which stops them (Shutdown steps, then SIGTERM/SIGKILL) and disconnects.
 */
import { Command, InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startCoreDeviceFromBundle } from '../greengrass/core-device';

function seconds(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 86400) throw new InvalidArgumentError(`${what} must be a number of seconds from 0 to 86400, got "${value}"`);
    return n;
  };
}

const program = new Command()
  .name('npm run nucleus --')
  .description('Run a Greengrass v2 core device (our nucleus) from a provisioned device bundle; it takes deployments from the cloud and runs their components.')
  .requiredOption('--bundle <dir>', 'device bundle folder from npm run provision (certificate, key, CA, device.json)')
  .option('--root <dir>', 'nucleus root: components, artifacts, logs, state (default <bundle>/greengrass)')
  .option('--deployment-timeout <seconds>', 'longest a deployment may take on this device before it is rolled back', seconds('--deployment-timeout'), 600)
  .option('--download-timeout <seconds>', 'longest one artifact download may take', seconds('--download-timeout'), 600)
  .parse(process.argv);

async function main(): Promise<void> {
  const opts = program.opts<{ bundle: string; root?: string; deploymentTimeout: number; downloadTimeout: number }>();
  const bundle = resolve(opts.bundle);
  if (!existsSync(join(bundle, 'device.json'))) throw new Error(`${bundle} is not a device bundle (no device.json); run npm run provision first`);
  const root = resolve(opts.root ?? join(bundle, 'greengrass'));
  const core = await startCoreDeviceFromBundle(bundle, {
    root,
    timeouts: { deploymentMs: opts.deploymentTimeout * 1000, downloadMs: opts.downloadTimeout * 1000 },
    onResult: (jobId, r) => process.stderr.write(`[nucleus] deployment ${r.deploymentId} (job ${jobId}): ${r.status} ${r.detailedStatus}${r.reason ? `: ${r.reason}` : ''}\n`),
  });
  process.stderr.write(`[nucleus] ${core.thingName} running from ${root}; logs of components in ${join(root, 'logs')}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('[nucleus] stopping components\n');
    core.stop().then(() => process.exit(0), (err) => (process.stderr.write(`[nucleus] ${(err as Error).message}\n`), process.exit(1)));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`nucleus: ${(err as Error).message}\n`);
  process.exit(1);
});
