/**
 * Deploying to a fleet and watching it, as an operator does against the local cloud or AWS:
 * CreateDeployment to a thing group, then each device's execution of the deployment's IoT job until
 * every device has finished (SUCCEEDED, FAILED, ...) or the time is up, with each device's reason.
 */
import { CreateDeploymentCommand, GetDeploymentCommand, ListEffectiveDeploymentsCommand, ListInstalledComponentsCommand, type GreengrassV2Client, type CreateDeploymentCommandInput } from '@aws-sdk/client-greengrassv2';
import { ListJobExecutionsForJobCommand, type IoTClient } from '@aws-sdk/client-iot';
import { iotArn } from '../../cloud/iot/arn';

/** One device's view of a deployment. */
export interface DeviceDeploymentStatus {
  thingName: string;
  status: string;
  reason?: string;
}

/** The ARN of a thing group. */
export function thingGroupArn(region: string, accountId: string, group: string): string {
  return iotArn(region, accountId, 'thinggroup', group);
}

/** CreateDeployment; returns the deployment id and its IoT job id. */
export async function createDeployment(gg: GreengrassV2Client, input: CreateDeploymentCommandInput): Promise<{ deploymentId: string; iotJobId: string }> {
  const out = await gg.send(new CreateDeploymentCommand(input));
  return { deploymentId: out.deploymentId as string, iotJobId: out.iotJobId as string };
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'REMOVED', 'CANCELED']);

/** Every device's execution status of the deployment's job (pages through the list). */
export async function deploymentExecutions(iot: IoTClient, iotJobId: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let nextToken: string | undefined;
  do {
    const page = await iot.send(new ListJobExecutionsForJobCommand({ jobId: iotJobId, maxResults: 250, nextToken }));
    for (const s of page.executionSummaries ?? []) out.set((s.thingArn ?? '').split('/').pop() as string, s.jobExecutionSummary?.status ?? 'UNKNOWN');
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/**
 * Wait until each of the things has finished the deployment; resolves with every device's status and,
 * for failures, the reason the device reported. Rejects after timeoutMs naming the devices still going.
 */
export async function waitForDeployment(opts: {
  gg: GreengrassV2Client;
  iot: IoTClient;
  deploymentId: string;
  thingNames: string[];
  timeoutMs: number;
  pollMs?: number;
  onProgress?: (statuses: Map<string, string>) => void;
}): Promise<DeviceDeploymentStatus[]> {
  const d = await opts.gg.send(new GetDeploymentCommand({ deploymentId: opts.deploymentId }));
  const end = Date.now() + opts.timeoutMs;
  for (;;) {
    const statuses = await deploymentExecutions(opts.iot, d.iotJobId as string);
    opts.onProgress?.(statuses);
    const waiting = opts.thingNames.filter((t) => !TERMINAL.has(statuses.get(t) ?? 'QUEUED'));
    if (waiting.length === 0) break;
    if (Date.now() > end) throw new Error(`deployment ${opts.deploymentId}: ${waiting.length} device(s) not finished after ${opts.timeoutMs / 1000} s: ${waiting.map((t) => `${t} ${statuses.get(t) ?? 'not notified'}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
  return Promise.all(opts.thingNames.map((t) => deviceDeploymentStatus(opts.gg, t, opts.deploymentId)));
}

/** One device's status and reason for a deployment (ListEffectiveDeployments). */
export async function deviceDeploymentStatus(gg: GreengrassV2Client, thingName: string, deploymentId: string): Promise<DeviceDeploymentStatus> {
  const out = await gg.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: thingName }));
  const e = out.effectiveDeployments?.find((x) => x.deploymentId === deploymentId);
  return { thingName, status: e?.coreDeviceExecutionStatus ?? 'NOT_RECEIVED', reason: e?.reason };
}

/** Installed components of a device as "name version STATE" lines (ListInstalledComponents, ALL). */
export async function installedComponents(gg: GreengrassV2Client, thingName: string): Promise<string[]> {
  const out = await gg.send(new ListInstalledComponentsCommand({ coreDeviceThingName: thingName, topologyFilter: 'ALL' }));
  return (out.installedComponents ?? []).map((c) => `${c.componentName} ${c.componentVersion} ${c.lifecycleState}`).sort();
}
