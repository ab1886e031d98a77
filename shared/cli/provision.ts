/**
 * `npm run provision -- --devices N [--group <name>] [--prefix <p>] [--out <dir>] [--cloud <state dir>]`:
 * creates N things in a thing group, a certificate per device and the device policy, and writes a bundle
 * per device (<out>/<thing>/{certificate.pem, private.key, ca.pem, device.json}) for the edge agent.
 * Local mode (default) provisions the running local cloud; CLOUD_MODE=aws (or --mode aws) real AWS IoT.
 * `--remove` tears it all down again (things, certificates, group, policy, bundles).
 */
import { SingleBar } from 'cli-progress';
import { CreateTopicRuleCommand, IoTClient } from '@aws-sdk/client-iot';
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { awsClientConfig, cloudSettings, type CloudMode } from '../cloud/config';
import { deprovisionDevices } from '../workflows/provisioning/deprovision';
import { provisionDevices } from '../workflows/provisioning/provision';
import { awsTarget, localTarget } from '../workflows/provisioning/targets';
import { alertsRuleInput } from '../fleet/alerts-rule';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 10000) throw new InvalidArgumentError(`"${value}" is not a number from 1 to 10000`);
  return n;
}

interface Options {
  devices?: number;
  remove?: boolean;
  group?: string;
  prefix: string;
  policy?: string;
  out: string;
  cloud: string;
  mode: CloudMode;
  ca?: string;
  bucket?: string;
  telemetryPrefix: string;
  concurrency: number;
  alertsSns?: string;
  alertsRole?: string;
}

/** A one-line message for an error from the AWS SDK or the network. */
function describeError(err: Error & { code?: string; $metadata?: unknown }, opts: Options): string {
  if (err.code === 'ECONNREFUSED' || (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') {
    return `no local cloud answers (state folder ${opts.cloud}); start it with: npm run cloud -- --dir ${opts.cloud}`;
  }
  return err.$metadata ? `${err.name}: ${err.message}` : err.message;
}

/** The teardown (--remove), with its own progress bar. */
async function remove(iot: IoTClient, opts: Options, group: string): Promise<void> {
  const bar = new SingleBar({ stream: process.stderr, format: 'removing |{bar}| {value}/{total} {thing}', hideCursor: true });
  bar.start(0, 0, { thing: '' });
  try {
    const removed = await deprovisionDevices({
      iot,
      prefix: opts.prefix,
      group,
      policyName: opts.policy,
      outDir: resolve(opts.out),
      onProgress: (done, total, thing) => {
        bar.setTotal(total);
        bar.update(done, { thing });
      },
    });
    bar.stop();
    process.stdout.write(
      [
        `removed ${removed.things.length} thing(s) and ${removed.certificates.length} certificate(s) (${opts.mode} mode)`,
        `  thing group ${group}: deleted`,
        `  policy: ${removed.policyDeleted ? 'deleted' : 'kept (missing, or still attached elsewhere)'}`,
      ].join('\n') + '\n',
    );
  } catch (err) {
    bar.stop();
    throw new Error(describeError(err as Error, opts));
  } finally {
    iot.destroy();
  }
}

async function main(): Promise<void> {
  const settings = cloudSettings();
  const defaultPrefix = settings.mode === 'aws' ? `${settings.resourcePrefix}edge-device-` : 'edge-device-';
  const program = new Command('provision')
    .description(
      'Provision edge devices: things in a thing group, one certificate each, a policy limiting every device to its own topics,\n' +
        'and a bundle per device (certificate.pem, private.key, ca.pem, device.json) that the edge agent starts from.\n' +
        'Re-running reuses things, group, policy and every bundle whose certificate is still ACTIVE.\n' +
        '--remove deletes what provisioning made: things with the prefix, their certificates, the group, the policy, the bundles.',
    )
    .option('--devices <n>', 'number of devices (required unless --remove)', positiveInt)
    .option('--remove', 'remove the provisioned devices instead (teardown)')
    .option('--group <name>', 'thing group (default: <prefix without trailing "-">s, e.g. edge-devices)')
    .option('--prefix <p>', 'thing name prefix; things are <prefix>0..N-1', defaultPrefix)
    .option('--policy <name>', 'IoT policy name (default: <group>-policy)')
    .option('--out <dir>', 'folder for the device bundles', '.state/devices')
    .option('--cloud <dir>', 'state folder of the running local cloud (local mode)', settings.stateDir)
    .option('--mode <local|aws>', 'local cloud or real AWS (default: $CLOUD_MODE, else local)', settings.mode)
    .option('--ca <file>', 'CA certificate devices trust: required in aws mode (AmazonRootCA1.pem); local default: the local CA')
    .option('--bucket <name>', 'S3 bucket written into device.json')
    .option('--telemetry-prefix <p>', 'first topic level of device telemetry', 'wind-turbine')
    .option('--concurrency <n>', 'devices provisioned at once', positiveInt, 4)
    .option('--alerts-sns <topicArn>', 'aws mode: also create the IoT rule forwarding device alerts (<prefix>/+/alerts) to this SNS topic')
    .option('--alerts-role <roleArn>', 'aws mode: role IoT assumes to publish to the SNS topic (sns:Publish)')
    .showHelpAfterError();
  program.parse();
  const opts = program.opts<Options>();
  if (opts.mode !== 'local' && opts.mode !== 'aws') throw new Error(`--mode must be local or aws, got "${opts.mode}"`);
  const group = opts.group ?? `${opts.prefix.replace(/-+$/, '')}s`;

  if (!opts.remove && opts.devices === undefined) throw new Error("required option '--devices <n>' not specified (or pass --remove)");
  if ((opts.alertsSns || opts.alertsRole) && (opts.mode !== 'aws' || !opts.alertsSns || !opts.alertsRole)) {
    throw new Error('--alerts-sns and --alerts-role go together, in aws mode (the local cloud has no rules engine)');
  }
  // Checked before anything is created.
  const alertsRule = opts.alertsSns && opts.alertsRole ? alertsRuleInput(`${settings.resourcePrefix.replace(/[^a-zA-Z0-9_]/g, '_')}device_alerts`, opts.alertsSns, opts.alertsRole, opts.telemetryPrefix) : undefined;
  if (opts.remove) {
    // The teardown needs only the IoT client (no CA, no endpoints).
    const iot = opts.mode === 'aws' ? new IoTClient(awsClientConfig({ ...settings, mode: 'aws' })) : localTarget(resolve(opts.cloud)).iot;
    return remove(iot, opts, group);
  }
  const target = opts.mode === 'aws' ? await awsTarget({ ...settings, mode: 'aws' }, opts.ca) : localTarget(resolve(opts.cloud), opts.ca);
  const bar = new SingleBar({ stream: process.stderr, format: 'provisioning |{bar}| {value}/{total} {thing}', hideCursor: true });
  bar.start(opts.devices as number, 0, { thing: '' });
  try {
    const result = await provisionDevices({
      ...target,
      devices: opts.devices as number,
      prefix: opts.prefix,
      group,
      policyName: opts.policy,
      outDir: resolve(opts.out),
      s3Bucket: opts.bucket,
      telemetryPrefix: opts.telemetryPrefix,
      concurrency: opts.concurrency,
      onProgress: (done, _total, thing) => bar.update(done, { thing }),
    });
    bar.stop();
    if (alertsRule) await target.iot.send(new CreateTopicRuleCommand(alertsRule));
    const issued = result.devices.filter((d) => d.newCertificate).length;
    process.stdout.write(
      [
        `provisioned ${result.devices.length} device(s) in thing group ${result.thingGroupName} (${opts.mode} mode)`,
        `  certificates issued: ${issued}, kept: ${result.devices.length - issued}`,
        `  policy: ${result.policyName}`,
        `  MQTT endpoint: ${result.mqtt.host}:${result.mqtt.port}`,
        `  bundles: ${resolve(opts.out)}/<thing>/ (device.json, certificate.pem, private.key, ca.pem)`,
        ...(alertsRule ? [`  alerts rule: ${alertsRule.ruleName} (${alertsRule.topicRulePayload?.sql} -> ${opts.alertsSns})`] : []),
      ].join('\n') + '\n',
    );
  } catch (err) {
    bar.stop();
    throw new Error(describeError(err as Error, opts));
  } finally {
    target.iot.destroy();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`provision: ${err.message}\n`);
  process.exit(1);
});
