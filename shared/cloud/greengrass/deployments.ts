/**
 * Deployments of the Greengrass v2 control plane: CreateDeployment, GetDeployment, ListDeployments,
 * CancelDeployment, ListEffectiveDeployments. As in AWS, each deployment reaches its devices as an IoT
 * job (continuous for a thing group, so devices that join later get it too); a new deployment to the
 * same target is a new revision and the previous one becomes INACTIVE with its job canceled.
 *
 * The job document is the device deployment document AWS sends (deploymentId, configurationArn,
 * components with configurationUpdate, policies) plus, since a local device has no Greengrass data
 * plane to ask, `recipes` (every stored version that the deployment's ranges can reach, so the nucleus
 * resolves the graph itself) and `artifactUrls` (a pre-signed-URL placeholder per artifact, filled per
 * delivery by the jobs engine). Unlike AWS, CancelDeployment also stops devices that are mid-way: the
 * job is force-canceled and the nucleus abandons and rolls back.
 */
import { randomUUID } from 'node:crypto';
import semver from 'semver';
import type { Clock, Collection } from '../contracts';
import { parseConfigurationUpdate } from '../../greengrass/configuration';
import { parseS3Uri, type Recipe } from '../../greengrass/recipe';
import { resolveComponents, ResolutionError } from '../../greengrass/resolve';
import type { JobsEngine } from '../jobs/engine';
import { checkDocument } from '../jobs/document';
import { parseCreateJob } from '../jobs/validate';
import type { ExecutionRecord } from '../jobs/records';
import type { ComponentCatalog } from './components';
import { conflict, notFound, validation } from './errors';
import { parseTargetArn, type DeploymentComponent, type DeploymentRecord } from './model';

/** What the deployment operations need. */
export interface DeploymentDeps {
  clock: Clock;
  region: string;
  accountId: string;
  deployments: Collection<DeploymentRecord>;
  engine: () => JobsEngine;
}

type Obj = Record<string, unknown>;

/** Device-side execution statuses as ListEffectiveDeployments names them. */
const EXECUTION_TO_CORE: Record<string, string> = { QUEUED: 'QUEUED', IN_PROGRESS: 'IN_PROGRESS', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED', TIMED_OUT: 'TIMED_OUT', REJECTED: 'REJECTED', CANCELED: 'CANCELED', REMOVED: 'CANCELED' };

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A device's list-valued status detail (JSON list text); anything else is kept as one entry. */
function stringList(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v)) return v.map(String);
  } catch {
    // not JSON: keep the text as it is
  }
  return [text];
}

function seconds(ms: number): number {
  return ms / 1000;
}

/** Every stored recipe the deployment's ranges can reach: the candidates the nucleus resolves among. */
function candidateRecipes(roots: Record<string, string>, catalog: ComponentCatalog): { raw: Record<string, Obj[]>; parsed: Recipe[] } {
  const out: Record<string, Obj[]> = {};
  const parsed: Recipe[] = [];
  const seen = new Set<string>();
  const queue = Object.entries(roots);
  while (queue.length > 0) {
    const [name, range] = queue.shift() as [string, string];
    for (const record of catalog.versions(name)) {
      if (!semver.satisfies(record.version, range, { includePrerelease: true })) continue;
      const id = `${name}@${record.version}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const recipe = catalog.recipe(record);
      (out[name] ??= []).push(record.recipe);
      parsed.push(recipe);
      for (const [dep, spec] of Object.entries(recipe.dependencies)) queue.push([dep, spec.versionRequirement]);
    }
  }
  return { raw: out, parsed };
}

/** One pre-signed-URL placeholder per artifact of the candidates, keyed by s3:// URI. */
function artifactPlaceholders(recipes: Recipe[]): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const r of recipes) {
    for (const m of r.manifests) {
      for (const a of m.artifacts) {
        const { bucket, key } = parseS3Uri(a.uri);
        urls[a.uri] = `\${aws:iot:s3-presigned-url:https://s3.amazonaws.com/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}}`;
      }
    }
  }
  return urls;
}

/** The deployment operations, keyed by action. */
export function deploymentOperations(deps: DeploymentDeps, catalog: ComponentCatalog) {
  const { region, accountId } = deps;
  const tokens = new Map<string, { at: number; result: Obj }>();
  const TOKEN_TTL_MS = 8 * 3600_000;

  const get = (deploymentId: string): DeploymentRecord => {
    const d = deps.deployments.get(deploymentId);
    if (!d) throw notFound(`Deployment ${deploymentId} does not exist`, deploymentId, 'DEPLOYMENT');
    return d;
  };

  /** deploymentStatus as AWS reports it, from the record and its job. */
  const statusOf = (d: DeploymentRecord): string => {
    if (d.canceled) return 'CANCELED';
    if (d.superseded) return 'INACTIVE';
    const engine = deps.engine();
    let job;
    try {
      job = engine.getJob(d.iotJobId);
    } catch {
      return 'ACTIVE';
    }
    if (job.status === 'CANCELED') return 'FAILED'; // only an abort criterion cancels a job we did not cancel
    if (parseTargetArn(d.targetArn)?.kind === 'thing') {
      const execs = engine.listExecutionsForJob(d.iotJobId);
      if (execs.length > 0 && execs.every((e) => e.status === 'SUCCEEDED')) return 'COMPLETED';
      if (execs.some((e) => ['FAILED', 'TIMED_OUT', 'REJECTED'].includes(e.status))) return 'FAILED';
    }
    return 'ACTIVE';
  };

  const latestFor = (targetArn: string): DeploymentRecord | undefined =>
    deps.deployments
      .values()
      .filter((d) => d.targetArn === targetArn)
      .sort((a, b) => b.seq - a.seq)[0];

  const view = (d: DeploymentRecord): Obj => ({
    targetArn: d.targetArn,
    revisionId: d.revisionId,
    deploymentId: d.deploymentId,
    deploymentName: d.deploymentName,
    deploymentStatus: statusOf(d),
    iotJobId: d.iotJobId,
    iotJobArn: d.iotJobArn,
    components: Object.fromEntries(Object.entries(d.components).map(([n, c]) => [n, { componentVersion: c.componentVersion, configurationUpdate: c.configurationUpdate, runWith: c.runWith }])),
    deploymentPolicies: d.deploymentPolicies,
    iotJobConfiguration: d.iotJobConfiguration,
    creationTimestamp: seconds(d.createdAt),
    isLatestForTarget: latestFor(d.targetArn)?.deploymentId === d.deploymentId,
    parentTargetArn: d.parentTargetArn,
    tags: d.tags,
  });

  /** Check components: each version exists, configuration updates parse, the graph resolves. */
  const checkComponents = (raw: unknown): Record<string, DeploymentComponent> => {
    if (!isObj(raw) || Object.keys(raw).length === 0) throw validation('components must name at least one component and its componentVersion', [{ name: 'components', message: 'is required' }]);
    const out: Record<string, DeploymentComponent> = {};
    for (const [name, spec] of Object.entries(raw)) {
      const where = `components.${name}`;
      if (!isObj(spec) || typeof spec.componentVersion !== 'string') throw validation(`${where}.componentVersion is required`, [{ name: `${where}.componentVersion`, message: 'is required' }]);
      if (!catalog.get(name, spec.componentVersion)) throw validation(`Component ${name} version ${spec.componentVersion} does not exist; create it with CreateComponentVersion first`, [{ name: `${where}.componentVersion`, message: 'no such component version' }]);
      const update = parseConfigurationUpdate(spec.configurationUpdate, `${where}.configurationUpdate`);
      if (typeof update === 'string') throw validation(update, [{ name: `${where}.configurationUpdate`, message: update }]);
      out[name] = { componentVersion: spec.componentVersion };
      if (spec.configurationUpdate !== undefined) out[name].configurationUpdate = spec.configurationUpdate as DeploymentComponent['configurationUpdate'];
      if (isObj(spec.runWith)) out[name].runWith = spec.runWith;
    }
    try {
      resolveComponents(Object.fromEntries(Object.entries(out).map(([n, c]) => [n, c.componentVersion])), catalog.recipes);
    } catch (err) {
      if (err instanceof ResolutionError) throw validation(`The deployment's components cannot be resolved: ${err.message}`, [{ name: `components.${err.component}`, message: err.message }]);
      throw err;
    }
    return out;
  };

  const checkPolicies = (raw: unknown): DeploymentRecord['deploymentPolicies'] => {
    const p = isObj(raw) ? raw : {};
    const failure = p.failureHandlingPolicy ?? 'ROLLBACK';
    if (failure !== 'ROLLBACK' && failure !== 'DO_NOTHING') throw validation('deploymentPolicies.failureHandlingPolicy must be ROLLBACK or DO_NOTHING', [{ name: 'deploymentPolicies.failureHandlingPolicy', message: 'must be ROLLBACK or DO_NOTHING' }]);
    const cup = isObj(p.componentUpdatePolicy) ? p.componentUpdatePolicy : {};
    const action = cup.action ?? 'NOTIFY_COMPONENTS';
    if (action !== 'NOTIFY_COMPONENTS' && action !== 'SKIP_NOTIFY_COMPONENTS') throw validation('deploymentPolicies.componentUpdatePolicy.action must be NOTIFY_COMPONENTS or SKIP_NOTIFY_COMPONENTS', [{ name: 'deploymentPolicies.componentUpdatePolicy.action', message: 'bad value' }]);
    const cvp = isObj(p.configurationValidationPolicy) ? p.configurationValidationPolicy : {};
    const secondsField = (v: unknown, def: number, name: string): number => {
      if (v === undefined) return def;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw validation(`${name} must be a whole number of seconds >= 1`, [{ name, message: 'must be >= 1' }]);
      return v;
    };
    return {
      failureHandlingPolicy: failure,
      componentUpdatePolicy: { timeoutInSeconds: secondsField(cup.timeoutInSeconds, 60, 'deploymentPolicies.componentUpdatePolicy.timeoutInSeconds'), action },
      configurationValidationPolicy: { timeoutInSeconds: secondsField(cvp.timeoutInSeconds, 30, 'deploymentPolicies.configurationValidationPolicy.timeoutInSeconds') },
    };
  };

  return {
    /** CreateDeployment: validate, build the device document, create the job, supersede the previous revision. */
    async createDeployment(body: Obj): Promise<Obj> {
      const token = typeof body.clientToken === 'string' ? body.clientToken : undefined;
      const now = deps.clock.now();
      if (token) {
        const cached = tokens.get(token);
        if (cached && now - cached.at < TOKEN_TTL_MS) return cached.result;
      }
      if (typeof body.targetArn !== 'string') throw validation('targetArn is required (a thing or thing group ARN)', [{ name: 'targetArn', message: 'is required' }]);
      const targetArn = body.targetArn;
      const target = parseTargetArn(targetArn);
      if (!target) throw validation(`targetArn ${body.targetArn} is not a thing or thing group ARN (arn:aws:iot:<region>:<account>:thing/<name> or thinggroup/<name>)`, [{ name: 'targetArn', message: 'not a thing or thing group ARN' }]);
      const components = checkComponents(body.components);
      const policies = checkPolicies(body.deploymentPolicies);
      const jobConfig = isObj(body.iotJobConfiguration) ? body.iotJobConfiguration : {};
      const deploymentId = randomUUID();
      const iotJobId = randomUUID();
      const previous = latestFor(body.targetArn);
      const revisionId = String(previous ? Number(previous.revisionId) + 1 : 1);
      const roots = Object.fromEntries(Object.entries(components).map(([n, c]) => [n, c.componentVersion]));
      const candidates = candidateRecipes(roots, catalog);
      const document = {
        deploymentId,
        configurationArn: `arn:aws:greengrass:${region}:${accountId}:configuration:${target.kind}/${target.name}:${revisionId}`,
        creationTimestamp: now,
        components: Object.fromEntries(
          Object.entries(components).map(([n, c]) => {
            const update = parseConfigurationUpdate(c.configurationUpdate, n) as { merge?: Obj; reset?: string[] };
            return [n, { version: c.componentVersion, configurationUpdate: c.configurationUpdate ? update : undefined, runWith: c.runWith }];
          }),
        ),
        failureHandlingPolicy: policies.failureHandlingPolicy,
        componentUpdatePolicy: { timeout: policies.componentUpdatePolicy.timeoutInSeconds, action: policies.componentUpdatePolicy.action },
        configurationValidationPolicy: { timeout: policies.configurationValidationPolicy.timeoutInSeconds },
        requiredCapabilities: [],
        onBehalfOf: `${target.kind}/${target.name}`,
        recipes: candidates.raw,
        artifactUrls: artifactPlaceholders(candidates.parsed),
      };
      const text = JSON.stringify(document);
      let spec: ReturnType<typeof parseCreateJob>;
      try {
        checkDocument(text, 'CreateDeployment');
        spec = parseCreateJob(iotJobId, {
          targets: [body.targetArn],
          document: text,
          targetSelection: target.kind === 'thinggroup' ? 'CONTINUOUS' : 'SNAPSHOT',
          description: `Greengrass deployment ${deploymentId}`,
          jobExecutionsRolloutConfig: jobConfig.jobExecutionsRolloutConfig,
          abortConfig: jobConfig.abortConfig,
          timeoutConfig: jobConfig.timeoutConfig,
        });
      } catch (err) {
        throw validation(`iotJobConfiguration or the device document is not acceptable: ${(err as Error).message}`, [{ name: 'iotJobConfiguration', message: (err as Error).message }]);
      }
      const engine = deps.engine();
      // One commit: the job, the previous revision's cancel and the deployment record are saved together,
      // or (a full disk) none of them remains and the caller gets the error.
      const job = await engine.commit(async () => {
        let created;
        try {
          created = await engine.createJob(spec);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'ResourceNotFoundException') throw notFound(`Target ${targetArn} does not exist: ${(err as Error).message}`, targetArn, target.kind === 'thing' ? 'THING' : 'THING_GROUP');
          throw validation((err as Error).message, [{ name: 'targetArn', message: (err as Error).message }]);
        }
        // The new revision replaces the previous one: its job stops reaching devices (in-flight ones finish).
        if (previous && !previous.canceled && !previous.superseded) {
          deps.deployments.put(previous.deploymentId, { ...previous, superseded: true });
          try {
            engine.cancelJob(previous.iotJobId, { comment: `replaced by deployment ${deploymentId}` });
          } catch {
            // a completed job has nothing left to cancel
          }
        }
        deps.deployments.put(deploymentId, {
          deploymentId,
          deploymentName: typeof body.deploymentName === 'string' ? body.deploymentName : undefined,
          targetArn: targetArn,
          revisionId,
          components,
          deploymentPolicies: policies,
          iotJobConfiguration: isObj(body.iotJobConfiguration) ? body.iotJobConfiguration : undefined,
          iotJobId,
          iotJobArn: created.jobArn,
          parentTargetArn: typeof body.parentTargetArn === 'string' ? body.parentTargetArn : undefined,
          tags: isObj(body.tags) ? (body.tags as Record<string, string>) : {},
          createdAt: now,
          seq: deps.deployments.values().reduce((m, d) => Math.max(m, d.seq), 0) + 1,
        });
        return created;
      });
      const result = { deploymentId, iotJobId, iotJobArn: job.jobArn };
      if (token) tokens.set(token, { at: now, result });
      return result;
    },

    /** GetDeployment. */
    getDeployment(deploymentId: string): Obj {
      return view(get(deploymentId));
    },

    /** ListDeployments (LATEST_ONLY by default), newest first. */
    listDeployments(targetArn: string | null, historyFilter: string | null): Obj[] {
      const filter = historyFilter ?? 'LATEST_ONLY';
      if (filter !== 'ALL' && filter !== 'LATEST_ONLY') throw validation(`historyFilter must be ALL or LATEST_ONLY, got ${filter}`, [{ name: 'historyFilter', message: 'bad value' }]);
      return deps.deployments
        .values()
        .filter((d) => targetArn === null || d.targetArn === targetArn)
        .sort((a, b) => b.seq - a.seq)
        .map(view)
        .filter((d) => filter === 'ALL' || d.isLatestForTarget)
        .map((d) => ({ targetArn: d.targetArn, revisionId: d.revisionId, deploymentId: d.deploymentId, deploymentName: d.deploymentName, creationTimestamp: d.creationTimestamp, deploymentStatus: d.deploymentStatus, isLatestForTarget: d.isLatestForTarget, parentTargetArn: d.parentTargetArn }));
    },

    /** CancelDeployment: the job is force-canceled, so devices mid-way stop and roll back too. */
    async cancelDeployment(deploymentId: string): Promise<Obj> {
      const engine = deps.engine();
      // The job's cancel and the record's mark are saved together, or neither remains.
      await engine.commit(() => {
        const d = get(deploymentId);
        if (d.canceled) throw conflict(`Deployment ${deploymentId} is already canceled`, deploymentId, 'DEPLOYMENT');
        if (d.superseded) throw conflict(`Deployment ${deploymentId} was replaced by a newer deployment to ${d.targetArn}`, deploymentId, 'DEPLOYMENT');
        try {
          engine.cancelJob(d.iotJobId, { force: true, comment: 'CancelDeployment' });
        } catch (err) {
          throw conflict(`Deployment ${deploymentId} cannot be canceled: ${(err as Error).message}`, deploymentId, 'DEPLOYMENT');
        }
        deps.deployments.put(deploymentId, { ...d, canceled: true });
      });
      return { message: 'SUCCESS' };
    },

    /** ListEffectiveDeployments: each deployment's job execution on the device, newest first. */
    listEffectiveDeployments(thingName: string, known: boolean): Obj[] {
      const byJob = new Map<string, DeploymentRecord>(deps.deployments.values().map((d) => [d.iotJobId, d]));
      const execs: ExecutionRecord[] = deps.engine().listExecutionsForThing(thingName).filter((e) => byJob.has(e.jobId));
      if (!known && execs.length === 0) throw notFound(`Core device ${thingName} does not exist`, thingName, 'CORE_DEVICE');
      return execs
        .sort((a, b) => b.seq - a.seq)
        .map((e) => {
          const d = byJob.get(e.jobId) as DeploymentRecord;
          const details = e.statusDetails ?? {};
          const errorStack = details['deployment-error-stack'];
          const errorTypes = details['deployment-error-types'];
          return {
            deploymentId: d.deploymentId,
            deploymentName: d.deploymentName ?? d.deploymentId,
            iotJobId: d.iotJobId,
            iotJobArn: d.iotJobArn,
            targetArn: d.targetArn,
            coreDeviceExecutionStatus: EXECUTION_TO_CORE[e.status] ?? e.status,
            reason: details['deployment-failure-cause'] ?? details['detailed-deployment-status'],
            creationTimestamp: seconds(d.createdAt),
            modifiedTimestamp: seconds(e.lastUpdatedAt),
            statusDetails: errorStack || errorTypes ? { errorStack: stringList(errorStack), errorTypes: stringList(errorTypes) } : undefined,
          };
        });
    },

    /** True when an active deployment uses the component version. */
    inUse(name: string, version: string): boolean {
      return deps.deployments.values().some((d) => !d.canceled && !d.superseded && d.components[name]?.componentVersion === version);
    },
  };
}
