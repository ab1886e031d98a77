/**
 * Core devices: what each nucleus reports on `$aws/things/<thing>/greengrassv2/health/json` (its fleet
 * status: overall health, platform, every component's version and lifecycle state) feeds GetCoreDevice,
 * ListCoreDevices and ListInstalledComponents. A report is accepted only from the thing it names; a
 * malformed one is logged and counted, never stored half.
 */
import type { Clock, Collection, MqttBus, PrincipalDirectory } from '../contracts';
import { notFound, validation } from './errors';
import type { CoreDeviceRecord } from './model';

/** Topic filter of the nucleus's fleet status reports. */
export const HEALTH_TOPIC_FILTER = '$aws/things/+/greengrassv2/health/json';

/** The health topic of one thing. */
export function healthTopic(thingName: string): string {
  return `$aws/things/${thingName}/greengrassv2/health/json`;
}

/** A fleet status report as the nucleus publishes it. */
export interface FleetStatusReport {
  ggcVersion: string;
  platform: string;
  architecture: string;
  overallDeviceStatus: 'HEALTHY' | 'UNHEALTHY';
  components: { componentName: string; version: string; componentStatus: string; isRoot: boolean; statusDetails?: string; lastStatusChangeTimestamp?: number }[];
  timestamp: number;
}

type Obj = Record<string, unknown>;

/** Parse a report; returns the reason it is unusable as a string. */
export function parseFleetStatus(payload: Buffer): FleetStatusReport | string {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  const o = v as Obj;
  if (typeof o !== 'object' || o === null) return 'not a JSON object';
  if (o.overallDeviceStatus !== 'HEALTHY' && o.overallDeviceStatus !== 'UNHEALTHY') return 'overallDeviceStatus must be HEALTHY or UNHEALTHY';
  if (!Array.isArray(o.components)) return 'components must be a list';
  for (const c of o.components as Obj[]) {
    if (typeof c?.componentName !== 'string' || typeof c.version !== 'string' || typeof c.componentStatus !== 'string') return 'each component needs componentName, version and componentStatus';
  }
  return {
    ggcVersion: String(o.ggcVersion ?? ''),
    platform: String(o.platform ?? ''),
    architecture: String(o.architecture ?? ''),
    overallDeviceStatus: o.overallDeviceStatus,
    components: (o.components as Obj[]).map((c) => ({
      componentName: c.componentName as string,
      version: c.version as string,
      componentStatus: c.componentStatus as string,
      isRoot: c.isRoot === true,
      statusDetails: typeof c.statusDetails === 'string' ? c.statusDetails : undefined,
      lastStatusChangeTimestamp: typeof c.lastStatusChangeTimestamp === 'number' ? c.lastStatusChangeTimestamp : undefined,
    })),
    timestamp: typeof o.timestamp === 'number' ? o.timestamp : Date.now(),
  };
}

/** Subscribes to health reports and records them; returns counters and a stop function. */
export function attachFleetStatus(opts: { bus: MqttBus; clock: Clock; coreDevices: Collection<CoreDeviceRecord>; flush: () => Promise<void>; log: (line: string) => void }) {
  const counts = { recorded: 0, ignored: 0 };
  let stopped = false;
  opts.bus.onPublish(HEALTH_TOPIC_FILTER, (topic, payload, client) => {
    if (stopped) return;
    const thingName = topic.split('/')[2];
    if (client !== undefined && client !== thingName) {
      counts.ignored++;
      opts.log(`greengrass: health report for ${thingName} from ${client} ignored (a device reports only itself)`);
      return;
    }
    const report = parseFleetStatus(payload);
    if (typeof report === 'string') {
      counts.ignored++;
      opts.log(`greengrass: health report of ${thingName} ignored: ${report}`);
      return;
    }
    const now = opts.clock.now();
    opts.coreDevices.put(thingName, {
      thingName,
      coreVersion: report.ggcVersion,
      platform: report.platform,
      architecture: report.architecture,
      status: report.overallDeviceStatus,
      components: report.components.map((c) => ({
        componentName: c.componentName,
        componentVersion: c.version,
        lifecycleState: c.componentStatus,
        lifecycleStateDetails: c.statusDetails,
        isRoot: c.isRoot,
        lastStatusChangeTimestamp: c.lastStatusChangeTimestamp ?? now,
      })),
      lastStatusUpdateTimestamp: now,
    });
    counts.recorded++;
    opts.flush().catch((err) => opts.log(`greengrass: saving health of ${thingName} failed: ${(err as Error).message}`));
  });
  return { counts, stop: () => void (stopped = true) };
}

/** The core device operations, keyed by action. */
export function coreDeviceOperations(deps: { coreDevices: Collection<CoreDeviceRecord>; directory: () => PrincipalDirectory | undefined }) {
  const get = (thingName: string): CoreDeviceRecord => {
    const d = deps.coreDevices.get(thingName);
    if (!d) throw notFound(`Core device ${thingName} does not exist (it has not reported since it started)`, thingName, 'CORE_DEVICE');
    return d;
  };
  const summary = (d: CoreDeviceRecord): Obj => ({ coreDeviceThingName: d.thingName, status: d.status, lastStatusUpdateTimestamp: d.lastStatusUpdateTimestamp / 1000, platform: d.platform, architecture: d.architecture, runtime: 'aws_nucleus_classic' });
  return {
    /** True when the thing has reported as a core device. */
    known: (thingName: string): boolean => deps.coreDevices.get(thingName) !== undefined,
    /** GetCoreDevice. */
    getCoreDevice(thingName: string): Obj {
      const d = get(thingName);
      return { ...summary(d), coreVersion: d.coreVersion, tags: {} };
    },
    /** ListCoreDevices, optionally of one thing group and one status. */
    listCoreDevices(thingGroupArn: string | null, status: string | null): Obj[] {
      if (status !== null && status !== 'HEALTHY' && status !== 'UNHEALTHY') throw validation(`status must be HEALTHY or UNHEALTHY, got ${status}`, [{ name: 'status', message: 'bad value' }]);
      let members: Set<string> | undefined;
      if (thingGroupArn !== null) {
        const m = /:thinggroup\/([a-zA-Z0-9:_-]+)$/.exec(thingGroupArn);
        if (!m) throw validation(`thingGroupArn ${thingGroupArn} is not a thing group ARN`, [{ name: 'thingGroupArn', message: 'not a thing group ARN' }]);
        try {
          members = new Set(deps.directory()?.thingsInGroup(m[1], true) ?? []);
        } catch (err) {
          throw notFound(`Thing group ${m[1]} does not exist: ${(err as Error).message}`, thingGroupArn, 'THING_GROUP');
        }
      }
      return deps.coreDevices
        .values()
        .filter((d) => !members || members.has(d.thingName))
        .filter((d) => status === null || d.status === status)
        .sort((a, b) => a.thingName.localeCompare(b.thingName))
        .map(summary);
    },
    /** ListInstalledComponents (ROOT by default, as AWS). */
    listInstalledComponents(thingName: string, topologyFilter: string | null): Obj[] {
      const filter = topologyFilter ?? 'ROOT';
      if (filter !== 'ROOT' && filter !== 'ALL') throw validation(`topologyFilter must be ROOT or ALL, got ${filter}`, [{ name: 'topologyFilter', message: 'bad value' }]);
      const d = get(thingName);
      return d.components
        .filter((c) => filter === 'ALL' || c.isRoot)
        .map((c) => ({ ...c, lastStatusChangeTimestamp: c.lastStatusChangeTimestamp / 1000, lastReportedTimestamp: d.lastStatusUpdateTimestamp / 1000, lastInstallationSource: c.isRoot ? 'deployment' : undefined }));
    },
  };
}
