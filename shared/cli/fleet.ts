/**
 * `npm run fleet -- --package <model.tar.gz> [--turbines 5] [--speed 1] [--port 8080] ...`: runs a wind
 * farm on the embedded local cloud (one edge agent per simulated turbine, over worker threads) and
 * serves its dashboard until Ctrl-C. See shared/fleet/README.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { startFleet } from '../fleet/fleet';
import { DEFAULT_SIGNING_KEY_DIR, PUBLIC_KEY_FILE } from '../packaging/signing-key';
import { farmStopper } from './stop-farm';
import { integerOption, numberOption } from './options';

interface Options {
  package: string;
  publicKey: string;
  turbines: number;
  speed: number;
  workers?: number;
  port: number;
  dir: string;
  cloudDir?: string;
  heartbeat: number;
  captureRate: number;
  seed: number;
  wind?: number;
  verbose?: boolean;
}

const program = new Command()
  .name('npm run fleet --')
  .description('Run a wind farm: N simulated turbines, each with its own edge agent (own certificate and MQTT connection), on the embedded local cloud, with a live web dashboard.')
  .requiredOption('--package <file>', 'signed model package every agent starts with (npm run package)')
  .option('--public-key <pem>', 'public key of the model signer', join(DEFAULT_SIGNING_KEY_DIR, PUBLIC_KEY_FILE))
  .option('--turbines <n>', 'number of turbines', integerOption('--turbines', 1), 5)
  .option('--speed <x>', 'simulated seconds per wall second (1 = real time, 20 frames/s per turbine)', numberOption('--speed', 'a number above 0 and at most 100', (n) => n > 0 && n <= 100), 1)
  .option('--workers <n>', 'worker threads (default: one per core)', integerOption('--workers', 1))
  .option('--port <port>', 'dashboard port on 127.0.0.1 (0: any free port)', integerOption('--port', 0), 8080)
  .option('--dir <dir>', 'state folder (cloud, device bundles, agent states)', join('.state', 'fleet'))
  .option('--cloud-dir <dir>', 'use the local cloud running in another process (npm run cloud -- --dir <dir>) instead of starting one')
  .option('--heartbeat <seconds>', 'agent heartbeat period', numberOption('--heartbeat', 'a positive number of seconds', (n) => n > 0), 10)
  .option('--capture-rate <r>', 'share of scored windows captured to S3', numberOption('--capture-rate', 'a number from 0 to 1', (n) => n >= 0 && n <= 1), 0.1)
  .option('--seed <n>', 'seed of the simulated turbines', integerOption('--seed', 0), 42)
  .option('--wind <rps>', 'mean wind of every turbine at start (rps)', numberOption('--wind', 'a number from 0 to 20', (n) => n >= 0 && n <= 20))
  .option('--verbose', 'print the agents\' and the cloud\'s log lines')
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  if (!existsSync(o.package)) program.error(`--package ${o.package} does not exist: train and package a model first (npm run train, npm run package)`);
  if (!existsSync(o.publicKey)) program.error(`--public-key ${o.publicKey} does not exist: it is written next to the signing key by npm run package`);
  const bar = new SingleBar({ format: '{step} [{bar}] {value}/{total}', stream: process.stderr, hideCursor: false });
  let step = '';
  const fleet = await startFleet({
    dir: resolve(o.dir),
    cloudDir: o.cloudDir,
    packagePath: resolve(o.package),
    publicKeyPem: readFileSync(o.publicKey, 'utf8'),
    turbines: o.turbines,
    speed: o.speed,
    workers: o.workers,
    dashboardPort: o.port,
    heartbeatSeconds: o.heartbeat,
    captureSampleRate: o.captureRate,
    seed: o.seed,
    windMean: o.wind,
    log: o.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
    onProgress: (s, done, total) => {
      if (s === 'online' || s === 'models') return;
      const label = s === 'provision' ? 'provisioning devices' : 'starting agents';
      if (step !== s) {
        if (step) bar.stop();
        step = s;
        bar.start(total, 0, { step: label });
      }
      bar.update(done, { step: label });
    },
  });
  bar.stop();
  console.log(`${fleet.size} turbines running on ${fleet.cloud.endpoints.http} (MQTT ${fleet.cloud.endpoints.mqttHost}:${fleet.cloud.endpoints.mqttPort})`);
  console.log(`dashboard: ${fleet.url}`);
  console.log('Ctrl-C stops the farm.');
  const stop = farmStopper(fleet);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(`fleet: ${err.message}`);
  process.exit(1);
});
