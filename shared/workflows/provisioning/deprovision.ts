/**
 * The teardown of provisionDevices: removes the provisioned things (those of the group, and any other
 * thing named with the prefix), their certificates (detached, deactivated, deleted), the thing group, the
 * device policy once nothing else uses it, and the bundles of the removed things. Runs against the local
 * cloud or real AWS alike; in AWS detaching is eventually consistent, so deletes are retried briefly.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeleteCertificateCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteThingCommand,
  DeleteThingGroupCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  type IoTClient,
  ListAttachedPoliciesCommand,
  ListPolicyVersionsCommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  ListThingPrincipalsCommand,
  paginateListThings,
  paginateListThingsInThingGroup,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { BUNDLE_FILES } from '../../edge/device-config';

/** What deprovisionDevices needs (names as given to provisionDevices). */
export interface DeprovisionOptions {
  iot: IoTClient;
  prefix?: string;
  group?: string;
  policyName?: string;
  /** Bundle folder of provisionDevices; the removed things' bundles are deleted from it. */
  outDir?: string;
  /** Called after each thing is removed. */
  onProgress?: (done: number, total: number, thingName: string) => void;
  /** Pause between retries of an eventually consistent delete (default 1000 ms, 10 tries). */
  retryDelayMs?: number;
}

/** What deprovisionDevices removed. */
export interface DeprovisionResult {
  things: string[];
  certificates: string[];
  thingGroupDeleted: boolean;
  /** False when the policy is still attached to something else (then it is left alone). */
  policyDeleted: boolean;
}

function named(err: unknown, ...names: string[]): boolean {
  return names.includes((err as Error | undefined)?.name ?? '');
}

/** Runs op, retrying while AWS still sees an attachment that was just removed. */
async function retrying(op: () => Promise<unknown>, delayMs: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await op();
      return;
    } catch (err) {
      if (attempt >= 10 || !named(err, 'InvalidRequestException', 'DeleteConflictException')) throw err;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** The names of the provisioned things: members of the group plus any thing named with the prefix. */
async function provisionedThings(iot: IoTClient, group: string, prefix: string): Promise<string[]> {
  const names = new Set<string>();
  try {
    for await (const page of paginateListThingsInThingGroup({ client: iot }, { thingGroupName: group })) {
      for (const t of page.things ?? []) if (t.startsWith(prefix)) names.add(t);
    }
  } catch (err) {
    if (!named(err, 'ResourceNotFoundException')) throw err;
  }
  for await (const page of paginateListThings({ client: iot }, {})) {
    for (const t of page.things ?? []) if (t.thingName?.startsWith(prefix)) names.add(t.thingName);
  }
  return [...names].sort();
}

/** Removes what provisionDevices created; see the file comment. */
export async function deprovisionDevices(opts: DeprovisionOptions): Promise<DeprovisionResult> {
  const { iot } = opts;
  const prefix = opts.prefix ?? 'edge-device-';
  const group = opts.group ?? 'edge-devices';
  const policyName = opts.policyName ?? `${group}-policy`;
  const delay = opts.retryDelayMs ?? 1000;
  if (prefix.length === 0) throw new Error('prefix must not be empty: it would select every thing in the account');

  const things = await provisionedThings(iot, group, prefix);
  const certificates: string[] = [];
  let done = 0;
  for (const thingName of things) {
    const principals = (await iot.send(new ListThingPrincipalsCommand({ thingName }))).principals ?? [];
    for (const principal of principals) {
      await iot.send(new DetachThingPrincipalCommand({ thingName, principal }));
      if (!principal.includes(':cert/')) continue;
      // A certificate still used by another thing stays.
      const others = (await iot.send(new ListPrincipalThingsCommand({ principal }))).things ?? [];
      if (others.some((t) => t !== thingName)) continue;
      const policies = (await iot.send(new ListAttachedPoliciesCommand({ target: principal }))).policies ?? [];
      for (const p of policies) await iot.send(new DetachPolicyCommand({ policyName: p.policyName, target: principal }));
      const certificateId = principal.slice(principal.indexOf(':cert/') + ':cert/'.length);
      await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' })).catch((err) => {
        if (!named(err, 'CertificateStateException')) throw err; // REVOKED stays REVOKED, and may be deleted
      });
      await retrying(() => iot.send(new DeleteCertificateCommand({ certificateId })), delay);
      certificates.push(certificateId);
    }
    await retrying(() => iot.send(new DeleteThingCommand({ thingName })), delay);
    if (opts.outDir) {
      const bundle = join(opts.outDir, thingName);
      if (existsSync(join(bundle, BUNDLE_FILES.config)) || existsSync(join(bundle, BUNDLE_FILES.certificate))) rmSync(bundle, { recursive: true, force: true });
    }
    opts.onProgress?.(++done, things.length, thingName);
  }

  let thingGroupDeleted = false;
  try {
    await iot.send(new DeleteThingGroupCommand({ thingGroupName: group }));
    thingGroupDeleted = true;
  } catch (err) {
    if (!named(err, 'ResourceNotFoundException')) throw err;
  }

  let policyDeleted = false;
  try {
    const targets = (await iot.send(new ListTargetsForPolicyCommand({ policyName }))).targets ?? [];
    if (targets.length === 0) {
      const versions = (await iot.send(new ListPolicyVersionsCommand({ policyName }))).policyVersions ?? [];
      for (const v of versions) if (!v.isDefaultVersion) await iot.send(new DeletePolicyVersionCommand({ policyName, policyVersionId: v.versionId }));
      await retrying(() => iot.send(new DeletePolicyCommand({ policyName })), delay);
      policyDeleted = true;
    }
  } catch (err) {
    if (!named(err, 'ResourceNotFoundException')) throw err;
  }
  return { things, certificates, thingGroupDeleted, policyDeleted };
}
