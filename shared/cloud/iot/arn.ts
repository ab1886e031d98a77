/**
 * Amazon Resource Names of AWS IoT resources (`arn:aws:iot:<region>:<account>:<type>/<name>`): building them
 * and taking them apart again, with a clear error for anything that is not one.
 */

/** Resource types of AWS IoT ARNs that the local registry uses. */
export type IotResourceType = 'thing' | 'thingtype' | 'thinggroup' | 'cert' | 'cacert' | 'policy' | 'job' | 'client' | 'topic' | 'topicfilter' | 'rolealias';

/** A parsed AWS IoT ARN. */
export interface IotArn {
  partition: string;
  region: string;
  accountId: string;
  resourceType: string;
  resourceId: string;
}

const ARN_PATTERN = /^arn:(aws|aws-cn|aws-us-gov):iot:([a-z0-9-]+):(\d{12}):([a-z]+)\/(.+)$/;

/** Builds `arn:aws:iot:<region>:<account>:<type>/<id>`. */
export function iotArn(region: string, accountId: string, resourceType: IotResourceType, resourceId: string): string {
  return `arn:aws:iot:${region}:${accountId}:${resourceType}/${resourceId}`;
}

/** Parses an AWS IoT ARN, or returns undefined when text is not one. */
export function parseIotArn(text: string): IotArn | undefined {
  const m = ARN_PATTERN.exec(text);
  if (!m) return undefined;
  return { partition: m[1], region: m[2], accountId: m[3], resourceType: m[4], resourceId: m[5] };
}

/** Binds the region and account of one local cloud, so callers build ARNs by type and name only. */
export class ArnFactory {
  constructor(readonly region: string, readonly accountId: string) {}

  /** ARN of a thing. */
  thing(name: string): string {
    return iotArn(this.region, this.accountId, 'thing', name);
  }
  /** ARN of a thing type. */
  thingType(name: string): string {
    return iotArn(this.region, this.accountId, 'thingtype', name);
  }
  /** ARN of a thing group. */
  thingGroup(name: string): string {
    return iotArn(this.region, this.accountId, 'thinggroup', name);
  }
  /** ARN of a certificate, by its id. */
  certificate(certificateId: string): string {
    return iotArn(this.region, this.accountId, 'cert', certificateId);
  }
  /** ARN of a job. */
  job(jobId: string): string {
    return iotArn(this.region, this.accountId, 'job', jobId);
  }
  /** ARN of a policy. */
  policy(name: string): string {
    return iotArn(this.region, this.accountId, 'policy', name);
  }

  /**
   * Parses text as an ARN of this cloud's region and account with the given resource type; returns the
   * resource id, or undefined when it is not such an ARN (the caller decides which error that is).
   */
  resourceId(text: string, resourceType: IotResourceType): string | undefined {
    const arn = parseIotArn(text);
    if (!arn || arn.resourceType !== resourceType) return undefined;
    if (arn.region !== this.region || arn.accountId !== this.accountId) return undefined;
    return arn.resourceId;
  }
}
