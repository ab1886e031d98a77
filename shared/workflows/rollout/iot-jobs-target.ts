/**
 * The staged rollout on the IoT Jobs path, against the local cloud or AWS with the same SDK clients: a
 * deployment is a deploy-model job (the agents' OTA document, pre-signed package URL) targeting a thing
 * group's ARN; the canary's heartbeats are read from the device shadows.
 */
import { CancelJobCommand, CreateJobCommand, DescribeJobCommand, DescribeThingGroupCommand, type IoTClient, ListJobExecutionsForJobCommand, DescribeJobExecutionCommand } from '@aws-sdk/client-iot';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { readHeartbeats } from '../../monitoring/field-data-reader';
import type { Release, RolloutTarget } from './staged-rollout';

/** The deploy-model job document of a release (IoT Jobs replaces the placeholder with a pre-signed URL). */
export function deployModelDocument(r: Release): string {
  return JSON.stringify({ operation: 'deploy-model', model: { name: r.name, version: r.version, url: `\${aws:iot:s3-presigned-url:https://s3.amazonaws.com/${r.bucket}/${r.key}}` } });
}

/** A RolloutTarget on IoT Jobs: groups by thing group name; presignRoleArn is the role IoT assumes to pre-sign (needed on AWS). */
export function iotJobsTarget(iot: IoTClient, iotData: IoTDataPlaneClient, o: { canaryGroup: string; farmGroup: string; presignRoleArn?: string; jobPrefix?: string }): RolloutTarget {
  let seq = 0;
  const groupArn = async (name: string): Promise<string> => (await iot.send(new DescribeThingGroupCommand({ thingGroupName: name }))).thingGroupArn as string;
  return {
    async deploy(group, release) {
      const jobId = `${o.jobPrefix ?? 'rollout'}-${group}-${release.version.replace(/\./g, '-')}-${Date.now().toString(36)}${(seq++).toString(36)}`;
      await iot.send(
        new CreateJobCommand({
          jobId,
          targets: [await groupArn(group === 'canary' ? o.canaryGroup : o.farmGroup)],
          document: deployModelDocument(release),
          presignedUrlConfig: { ...(o.presignRoleArn ? { roleArn: o.presignRoleArn } : {}), expiresInSec: 3600 },
          targetSelection: 'SNAPSHOT',
        }),
      );
      return jobId;
    },
    async cancel(jobId) {
      // A job whose every execution ended is COMPLETED and cannot be cancelled: nothing is left to stop.
      const status = (await iot.send(new DescribeJobCommand({ jobId }))).job?.status;
      if (status !== 'IN_PROGRESS' && status !== 'SCHEDULED') return;
      try {
        await iot.send(new CancelJobCommand({ jobId, force: true, reasonCode: 'CANARY_FAILED', comment: 'staged rollout stopped at the canary' }));
      } catch (err) {
        if (!/COMPLETED/.test((err as Error).message)) throw err;
      }
    },
    async failures(jobId) {
      const out: { thingName: string; reason: string }[] = [];
      let nextToken: string | undefined;
      do {
        const page = await iot.send(new ListJobExecutionsForJobCommand({ jobId, status: 'FAILED', nextToken }));
        for (const e of page.executionSummaries ?? []) {
          const thingName = (e.thingArn ?? '').split('/').pop() as string;
          const d = await iot.send(new DescribeJobExecutionCommand({ jobId, thingName }));
          const details = d.execution?.statusDetails?.detailsMap ?? {};
          out.push({ thingName, reason: `${details.reason ?? 'failed'}: ${details.message ?? ''}`.trim() });
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return out;
    },
    heartbeats: (things) => readHeartbeats(iotData, things),
  };
}
