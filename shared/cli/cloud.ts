/**
 * `npm run cloud [-- --dir <state dir>] [--port N] [--mqtt-port N]`: runs the embedded local cloud until
 * Ctrl-C or SIGTERM, prints its endpoints and writes them to <state dir>/cloud.json.
 */
import { Command, InvalidArgumentError } from 'commander';
import { cloudSettings } from '../cloud/config';
import { startLocalCloud } from '../cloud/local-cloud';

function portOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`"${value}" is not a port number (0-65535)`);
  return n;
}

async function main(): Promise<void> {
  const settings = cloudSettings();
  const program = new Command('cloud')
    .description('Run the embedded local cloud (S3, IoT Core registry, MQTT broker, Jobs, Shadow) on 127.0.0.1 until Ctrl-C or SIGTERM.')
    .option('--dir <dir>', 'state folder (credentials, state, objects, CA, cloud.json)', settings.stateDir)
    .option('--port <port>', 'HTTP port for every AWS API (0 = any free port)', portOption, 4566)
    .option('--mqtt-port <port>', 'MQTT over TLS port (0 = any free port)', portOption, 8883)
    .option('--region <region>', 'region the cloud reports', settings.region ?? 'us-east-1')
    .option('--log-requests', 'print one line per HTTP request on stderr (service, method, path, status, error code, ms)')
    .showHelpAfterError();
  program.parse();
  const opts = program.opts<{ dir: string; port: number; mqttPort: number; region: string; logRequests?: boolean }>();

  if (settings.mode === 'aws') {
    process.stderr.write('CLOUD_MODE=aws: clients use real AWS, so there is no local cloud to start.\n');
    return;
  }
  const cloud = await startLocalCloud({
    dir: opts.dir,
    port: opts.port,
    mqttPort: opts.mqttPort,
    region: opts.region,
    onRequest: opts.logRequests
      ? (e) => process.stderr.write(`${e.status} ${e.service} ${e.method} ${e.path}${e.errorCode ? ` ${e.errorCode}` : ''} ${e.ms.toFixed(1)} ms\n`)
      : undefined,
  });
  const lines = [
    `local cloud running (state in ${cloud.dir})`,
    `  AWS APIs (s3, iot, iot-jobs-data): ${cloud.endpoints.http}`,
    `  MQTT over TLS:                     ${cloud.endpoints.mqttHost}:${cloud.endpoints.mqttPort}`,
    `  region:                            ${cloud.region}`,
    `  access key id:                     ${cloud.credentials.accessKeyId} (secret in ${cloud.dir}/cloud.json)`,
    ...(cloud.caCertPath ? [`  CA certificate:                    ${cloud.caCertPath}`] : []),
    'Press Ctrl-C to stop.',
  ];
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`${signal}: stopping the local cloud...\n`);
    cloud.stop().then(
      () => {
        process.stderr.write('local cloud stopped\n');
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`stopping failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Keep the process alive while the servers run (their handles do, but be explicit for clarity).
  setInterval(() => undefined, 1 << 30);
}

main().catch((err: NodeJS.ErrnoException) => {
  const message = err.code === 'EADDRINUSE' ? `port already in use (${err.message}); pass --port/--mqtt-port or stop the other process` : err.message;
  process.stderr.write(`cloud: ${message}\n`);
  process.exit(1);
});
