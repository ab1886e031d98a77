/**
 * Records of the Greengrass v2 control plane as stored in the cloud's state store, and the ARNs it
 * issues (arn:aws:greengrass:<region>:<account>:components:<name>[:versions:<version>]).
 */

/** Store collections of the service. */
export const COLLECTIONS = { components: 'greengrass-components', deployments: 'greengrass-deployments', coreDevices: 'greengrass-core-devices' } as const;

/** One component version. */
export interface ComponentVersionRecord {
  name: string;
  version: string;
  arn: string;
  /** The recipe as written, with each artifact's Digest and Algorithm filled in by the service. */
  recipe: Record<string, unknown>;
  description?: string;
  publisher?: string;
  platforms: { name?: string; attributes: Record<string, string> }[];
  tags: Record<string, string>;
  createdAt: number;
}

/** What a deployment asks of one component. */
export interface DeploymentComponent {
  componentVersion: string;
  configurationUpdate?: { merge?: string; reset?: string[] };
  runWith?: Record<string, unknown>;
}

/** One deployment (a revision for its target). */
export interface DeploymentRecord {
  deploymentId: string;
  deploymentName?: string;
  targetArn: string;
  revisionId: string;
  components: Record<string, DeploymentComponent>;
  deploymentPolicies: {
    failureHandlingPolicy: 'ROLLBACK' | 'DO_NOTHING';
    componentUpdatePolicy: { timeoutInSeconds: number; action: 'NOTIFY_COMPONENTS' | 'SKIP_NOTIFY_COMPONENTS' };
    configurationValidationPolicy: { timeoutInSeconds: number };
  };
  iotJobConfiguration?: Record<string, unknown>;
  iotJobId: string;
  iotJobArn: string;
  parentTargetArn?: string;
  tags: Record<string, string>;
  createdAt: number;
  /** Set when CancelDeployment was called. */
  canceled?: boolean;
  /** Set when a newer deployment to the same target replaced this one. */
  superseded?: boolean;
  seq: number;
}

/** What a core device last reported on its health topic. */
export interface CoreDeviceRecord {
  thingName: string;
  coreVersion: string;
  platform: string;
  architecture: string;
  status: 'HEALTHY' | 'UNHEALTHY';
  components: { componentName: string; componentVersion: string; lifecycleState: string; isRoot: boolean; lastStatusChangeTimestamp: number; lifecycleStateDetails?: string }[];
  lastStatusUpdateTimestamp: number;
}

/** ARN of a component (no version). */
export function componentArn(region: string, accountId: string, name: string): string {
  return `arn:aws:greengrass:${region}:${accountId}:components:${name}`;
}

/** ARN of a component version. */
export function componentVersionArn(region: string, accountId: string, name: string, version: string): string {
  return `${componentArn(region, accountId, name)}:versions:${version}`;
}

/** Name and version of a component (version) ARN of this cloud, or undefined. */
export function parseComponentArn(arn: string): { name: string; version?: string } | undefined {
  const m = /^arn:aws:greengrass:[a-z0-9-]+:(?:\d{12}|aws):components:([a-zA-Z0-9-_.]+)(?::versions:([^:]+))?$/.exec(arn);
  return m ? { name: m[1], version: m[2] } : undefined;
}

/** Kind and name of a deployment target ARN (thing or thing group), or undefined. */
export function parseTargetArn(arn: string): { kind: 'thing' | 'thinggroup'; name: string } | undefined {
  const m = /^arn:aws:iot:[a-z0-9-]+:\d{12}:(thing|thinggroup)\/([a-zA-Z0-9:_-]{1,128})$/.exec(arn);
  return m ? { kind: m[1] as 'thing' | 'thinggroup', name: m[2] } : undefined;
}
