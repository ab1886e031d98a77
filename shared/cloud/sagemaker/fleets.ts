/**
 * Device fleets and devices: CreateDeviceFleet, DescribeDeviceFleet, ListDeviceFleets, DeleteDeviceFleet,
 * RegisterDevices, DeregisterDevices, DescribeDevice, ListDevices. A device belongs to one fleet and may
 * name the IoT thing it runs as (IotThingName); device names are unique across fleets.
 */
import type { Clock, Collection } from '../contracts';
import { resourceInUse, resourceLimitExceeded, resourceNotFound, validationError } from './errors';
import {
  applyListFilters,
  paginate,
  readListFilters,
  readPaging,
  sageMakerArn,
  sortBy,
  wireTime,
  type DeviceFleetRecord,
  type DeviceRecord,
  type EdgeOutputConfig,
} from './records';
import { iotArn } from '../iot/arn';
import type { Operation } from './respond';
import { DESCRIPTION, NAME, ROLE_ARN, S3_URI, THING_NAME, type Fields } from './validate';

/** Quotas of the local cloud (AWS has account quotas; these make ResourceLimitExceeded testable). */
export interface FleetLimits {
  /** Most device fleets in the account (default 100). */
  deviceFleets: number;
  /** Most devices in one fleet (default 10000). */
  devicesPerFleet: number;
  /** Most devices in one RegisterDevices call (default 100). */
  devicesPerRequest: number;
}

export const DEFAULT_FLEET_LIMITS: FleetLimits = { deviceFleets: 100, devicesPerFleet: 10000, devicesPerRequest: 100 };

export interface FleetDeps {
  clock: Clock;
  region: string;
  accountId: string;
  fleets: Collection<DeviceFleetRecord>;
  devices: Collection<DeviceRecord>;
  limits: FleetLimits;
}

/** Read an EdgeOutputConfig member. */
export function readEdgeOutputConfig(f: Fields, name: string, required: boolean): EdgeOutputConfig | undefined {
  const o = f.object(name, required);
  if (!o) return undefined;
  const out: EdgeOutputConfig = { S3OutputLocation: o.string('S3OutputLocation', { required: true, max: 1024, pattern: S3_URI }) };
  const kms = o.string('KmsKeyId', { max: 2048 });
  if (kms !== undefined) out.KmsKeyId = kms;
  const preset = o.enumOf('PresetDeploymentType', ['GreengrassV2Component']);
  if (preset !== undefined) out.PresetDeploymentType = preset;
  const presetConfig = o.string('PresetDeploymentConfig', { max: 4096 });
  if (presetConfig !== undefined) {
    try {
      JSON.parse(presetConfig);
    } catch {
      throw validationError(`${name}.PresetDeploymentConfig must be a JSON document, got "${presetConfig}"`);
    }
    out.PresetDeploymentConfig = presetConfig;
  }
  return out;
}

function describeFleet(r: DeviceFleetRecord): Record<string, unknown> {
  return {
    DeviceFleetName: r.DeviceFleetName,
    DeviceFleetArn: r.DeviceFleetArn,
    OutputConfig: r.OutputConfig,
    Description: r.Description,
    CreationTime: wireTime(r.creationTime),
    LastModifiedTime: wireTime(r.lastModifiedTime),
    RoleArn: r.RoleArn,
    IotRoleAlias: r.IotRoleAlias,
  };
}

function deviceSummary(d: DeviceRecord): Record<string, unknown> {
  return {
    DeviceName: d.DeviceName,
    DeviceArn: d.DeviceArn,
    Description: d.Description,
    DeviceFleetName: d.DeviceFleetName,
    IotThingName: d.IotThingName,
    RegistrationTime: wireTime(d.registrationTime),
    LatestHeartbeat: wireTime(d.latestHeartbeat),
    Models: d.Models.map((m) => ({ ModelName: m.ModelName, ModelVersion: m.ModelVersion })),
    AgentVersion: d.AgentVersion,
  };
}

/** The fleet of that name, or ResourceNotFound. */
function fleetOf(deps: FleetDeps, name: string): DeviceFleetRecord {
  const fleet = deps.fleets.get(name);
  if (!fleet) throw resourceNotFound(`Device fleet ${name} does not exist.`);
  return fleet;
}

/** The operations on fleets and devices. */
export function fleetOperations(deps: FleetDeps): Record<string, Operation> {
  const { clock, region, accountId, fleets, devices, limits } = deps;
  const fleetName = (f: Fields) => f.string('DeviceFleetName', { required: true, min: 1, max: 63, pattern: NAME });
  return {
    CreateDeviceFleet(f) {
      const name = fleetName(f);
      const roleArn = f.string('RoleArn', { min: 20, max: 2048, pattern: ROLE_ARN });
      const description = f.string('Description', { min: 1, max: 800, pattern: DESCRIPTION });
      const output = readEdgeOutputConfig(f, 'OutputConfig', true) as EdgeOutputConfig;
      const tags = f.tags() ?? [];
      const alias = f.boolean('EnableIotRoleAlias');
      if (fleets.get(name)) throw resourceInUse(`Device fleet ${name} already exists.`);
      if (fleets.size() >= limits.deviceFleets) throw resourceLimitExceeded(`The account already has ${fleets.size()} device fleets (limit ${limits.deviceFleets}).`);
      const now = clock.now();
      fleets.put(name, {
        DeviceFleetName: name,
        DeviceFleetArn: sageMakerArn(region, accountId, 'device-fleet', name.toLowerCase()),
        RoleArn: roleArn,
        Description: description,
        OutputConfig: output,
        IotRoleAlias: alias ? iotArn(region, accountId, 'rolealias', `SageMakerEdge-${name}`) : undefined,
        Tags: tags,
        creationTime: now,
        lastModifiedTime: now,
      });
    },
    DescribeDeviceFleet(f) {
      return describeFleet(fleetOf(deps, fleetName(f)));
    },
    ListDeviceFleets(f) {
      const paging = readPaging(f);
      const filters = readListFilters(f);
      const sortKey = f.enumOf('SortBy', ['NAME', 'CREATION_TIME', 'LAST_MODIFIED_TIME']) ?? 'CREATION_TIME';
      const descending = f.enumOf('SortOrder', ['Ascending', 'Descending']) === 'Descending';
      const matching = applyListFilters(fleets.values(), filters, (r) => r.DeviceFleetName, (r) => r.creationTime, (r) => r.lastModifiedTime);
      const key = (r: DeviceFleetRecord) => (sortKey === 'NAME' ? r.DeviceFleetName : sortKey === 'CREATION_TIME' ? r.creationTime : r.lastModifiedTime);
      const { page, NextToken } = paginate(sortBy(matching, key, descending, (r) => r.DeviceFleetName), paging.nextToken, paging.max);
      return {
        DeviceFleetSummaries: page.map((r) => ({
          DeviceFleetArn: r.DeviceFleetArn,
          DeviceFleetName: r.DeviceFleetName,
          CreationTime: wireTime(r.creationTime),
          LastModifiedTime: wireTime(r.lastModifiedTime),
        })),
        NextToken,
      };
    },
    DeleteDeviceFleet(f) {
      const name = fleetName(f);
      fleetOf(deps, name);
      const members = devices.values().filter((d) => d.DeviceFleetName === name).length;
      if (members > 0) throw resourceInUse(`Device fleet ${name} still has ${members} registered device(s); deregister them first.`);
      fleets.delete(name);
    },
    RegisterDevices(f) {
      const name = fleetName(f);
      const list = f.structures('Devices', { required: true, min: 1 }, (d) => ({
        DeviceName: d.string('DeviceName', { required: true, min: 1, max: 63, pattern: NAME }),
        Description: d.string('Description', { min: 1, max: 40, pattern: DESCRIPTION }),
        IotThingName: d.string('IotThingName', { max: 128, pattern: THING_NAME }),
      })) as { DeviceName: string; Description?: string; IotThingName?: string }[];
      f.tags();
      const fleet = fleetOf(deps, name);
      if (list.length > limits.devicesPerRequest) throw resourceLimitExceeded(`RegisterDevices takes at most ${limits.devicesPerRequest} devices per call, got ${list.length}.`);
      const seen = new Set<string>();
      for (const d of list) {
        if (seen.has(d.DeviceName)) throw validationError(`Device ${d.DeviceName} appears twice in Devices.`);
        seen.add(d.DeviceName);
        const existing = devices.get(d.DeviceName);
        if (existing && existing.DeviceFleetName !== name) throw validationError(`Device ${d.DeviceName} is already registered in device fleet ${existing.DeviceFleetName}.`);
      }
      const members = devices.values().filter((d) => d.DeviceFleetName === name);
      const added = list.filter((d) => !devices.get(d.DeviceName)).length;
      if (members.length + added > limits.devicesPerFleet) {
        throw resourceLimitExceeded(`Device fleet ${name} would hold ${members.length + added} devices (limit ${limits.devicesPerFleet}).`);
      }
      const now = clock.now();
      for (const d of list) {
        const existing = devices.get(d.DeviceName);
        // Registering a device again in its fleet updates its description and thing name.
        devices.put(d.DeviceName, {
          DeviceName: d.DeviceName,
          DeviceArn: sageMakerArn(region, accountId, `device-fleet/${fleet.DeviceFleetName.toLowerCase()}/device`, d.DeviceName.toLowerCase()),
          DeviceFleetName: name,
          Description: d.Description,
          IotThingName: d.IotThingName,
          registrationTime: existing?.registrationTime ?? now,
          latestHeartbeat: existing?.latestHeartbeat,
          AgentVersion: existing?.AgentVersion,
          Models: existing?.Models ?? [],
        });
      }
      fleets.put(name, { ...fleet, lastModifiedTime: now });
    },
    DeregisterDevices(f) {
      const name = fleetName(f);
      const names = f.strings('DeviceNames', { required: true, min: 1 }, { min: 1, max: 63, pattern: NAME }) as string[];
      const fleet = fleetOf(deps, name);
      for (const n of names) {
        const d = devices.get(n);
        if (!d || d.DeviceFleetName !== name) throw validationError(`Device ${n} is not registered in device fleet ${name}.`);
      }
      for (const n of names) devices.delete(n);
      fleets.put(name, { ...fleet, lastModifiedTime: clock.now() });
    },
    DescribeDevice(f) {
      const deviceName = f.string('DeviceName', { required: true, min: 1, max: 63, pattern: NAME });
      const name = fleetName(f);
      f.string('NextToken', { max: 8192 });
      fleetOf(deps, name);
      const d = devices.get(deviceName);
      if (!d || d.DeviceFleetName !== name) throw resourceNotFound(`Device ${deviceName} is not registered in device fleet ${name}.`);
      return {
        DeviceArn: d.DeviceArn,
        DeviceName: d.DeviceName,
        Description: d.Description,
        DeviceFleetName: d.DeviceFleetName,
        IotThingName: d.IotThingName,
        RegistrationTime: wireTime(d.registrationTime),
        LatestHeartbeat: wireTime(d.latestHeartbeat),
        Models: d.Models.map((m) => ({
          ModelName: m.ModelName,
          ModelVersion: m.ModelVersion,
          LatestSampleTime: wireTime(m.latestSampleTime),
          LatestInference: wireTime(m.latestInference),
        })),
        AgentVersion: d.AgentVersion,
      };
    },
    ListDevices(f) {
      const nextToken = f.string('NextToken', { max: 8192 });
      const max = f.integer('MaxResults', 0, 100) || 10;
      const after = f.time('LatestHeartbeatAfter');
      const modelName = f.string('ModelName', { min: 1, max: 255 });
      const fleet = f.string('DeviceFleetName', { min: 1, max: 63, pattern: NAME });
      if (fleet !== undefined) fleetOf(deps, fleet);
      const matching = devices.values().filter(
        (d) =>
          (fleet === undefined || d.DeviceFleetName === fleet) &&
          (after === undefined || (d.latestHeartbeat !== undefined && d.latestHeartbeat > after)) &&
          (modelName === undefined || d.Models.some((m) => m.ModelName === modelName)),
      );
      const { page, NextToken } = paginate(sortBy(matching, (d) => d.registrationTime, false, (d) => d.DeviceName), nextToken, max);
      return { DeviceSummaries: page.map(deviceSummary), NextToken };
    },
  };
}
