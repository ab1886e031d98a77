/**
 * Target resolution for IoT Jobs: a job's targets (thing and thing group ARNs of this cloud) to the
 * names of the things that get executions, with a clear error naming the bad target.
 */
import type { PrincipalDirectory } from '../contracts';
import { iotArn, parseIotArn } from '../iot/arn';
import { invalidRequest, notFound } from './errors';

/** What target resolution asks of the registry: group members and whether a thing exists. */
export type JobsDirectory = Pick<PrincipalDirectory, 'thingsInGroup' | 'thing'>;

/** The things a job's targets name (groups expanded recursively), each once; throws on a bad target. */
export function resolveJobTargets(targets: string[], region: string, accountId: string, directory: JobsDirectory | undefined): string[] {
  const things = new Set<string>();
  targets.forEach((arn, i) => {
    const parsed = parseIotArn(arn);
    const ours = parsed && parsed.partition === 'aws' && parsed.region === region && parsed.accountId === accountId;
    const m = ours ? /^(thing|thinggroup)\/([a-zA-Z0-9:_-]{1,128})$/.exec(`${parsed.resourceType}/${parsed.resourceId}`) : null;
    if (!m) {
      const expected = `${iotArn(region, accountId, 'thing', '<name>')} or ${iotArn(region, accountId, 'thinggroup', '<name>')}`;
      throw invalidRequest(`targets[${i}] "${arn}" is not a thing or thing group ARN of this cloud (${expected})`);
    }
    const [, type, name] = m;
    if (type === 'thing') {
      if (directory && !directory.thing(name)) throw notFound(`targets[${i}]: thing ${name} does not exist`);
      things.add(name);
      return;
    }
    if (!directory) throw invalidRequest(`targets[${i}]: thing groups need the IoT registry, which is not installed`);
    let members: string[];
    try {
      members = directory.thingsInGroup(name, true);
    } catch (err) {
      throw notFound(`targets[${i}]: thing group ${name} does not exist (${(err as Error).message})`);
    }
    for (const t of members) things.add(t);
  });
  return [...things];
}
