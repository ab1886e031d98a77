/**
 * The Greengrass v2 control plane through the official @aws-sdk/client-greengrassv2: components with
 * recipes in YAML and JSON and artifacts in the local S3, bad recipes refused whole, deployments as IoT
 * jobs with revisions and cancel, and everything kept across a restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CancelDeploymentCommand,
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  DeleteComponentCommand,
  DescribeComponentCommand,
  GetComponentCommand,
  GetDeploymentCommand,
  ListComponentsCommand,
  ListComponentVersionsCommand,
  ListDeploymentsCommand,
  ValidationException,
} from '@aws-sdk/client-greengrassv2';
import { AddThingToThingGroupCommand, CreateThingCommand, CreateThingGroupCommand, DescribeJobCommand, GetJobDocumentCommand } from '@aws-sdk/client-iot';
import YAML from 'yaml';
import { parseFleetStatus } from './core-devices';
import { startGreengrassCloud, testRecipe, type GreengrassCloud } from './greengrass-testing';

let gc: GreengrassCloud;
const enc = (o: unknown, yaml = false): Uint8Array => Buffer.from(yaml ? YAML.stringify(o) : JSON.stringify(o));
const create = (recipe: unknown, yaml = false) => gc.gg.send(new CreateComponentVersionCommand({ inlineRecipe: enc(recipe, yaml) }));
const arnOf = (name: string, version?: string): string => `arn:aws:greengrass:${gc.cloud.region}:${gc.cloud.accountId}:components:${name}${version ? `:versions:${version}` : ''}`;
const groupArn = (g: string): string => `arn:aws:iot:${gc.cloud.region}:${gc.cloud.accountId}:thinggroup/${g}`;

async function refusal(p: Promise<unknown>): Promise<ValidationException> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ValidationException) return err;
    throw err;
  }
  throw new Error('the call succeeded; a ValidationException was expected');
}

async function componentCount(): Promise<number> {
  const out = await gc.gg.send(new ListComponentsCommand({}));
  return (out.components ?? []).length;
}

before(async () => {
  gc = await startGreengrassCloud();
});
after(async () => {
  await gc.cleanup();
});

test('a YAML recipe with an S3 artifact becomes a component version whose recipe carries the artifact digest', async () => {
  const body = 'print("model")\n';
  const uri = await gc.putArtifact('model/1.0.0/model.py', body);
  const out = await create(testRecipe('com.example.Model', '1.0.0', { ComponentDescription: 'the model', Manifests: [{ Platform: { os: 'linux' }, Artifacts: [{ URI: uri }], Lifecycle: { Run: 'python3 {artifacts:path}/model.py' } }] }), true);
  assert.equal(out.componentName, 'com.example.Model');
  assert.equal(out.status?.componentState, 'DEPLOYABLE');
  const described = await gc.gg.send(new DescribeComponentCommand({ arn: out.arn }));
  assert.equal(described.description, 'the model');
  assert.deepEqual(described.platforms, [{ attributes: { os: 'linux' } }]);
  assert.ok(described.creationTimestamp instanceof Date);
  for (const format of ['JSON', 'YAML'] as const) {
    const got = await gc.gg.send(new GetComponentCommand({ arn: out.arn, recipeOutputFormat: format }));
    const text = Buffer.from(got.recipe as Uint8Array).toString('utf8');
    const recipe = format === 'JSON' ? JSON.parse(text) : YAML.parse(text);
    assert.equal(recipe.Manifests[0].Artifacts[0].Digest, createHash('sha256').update(body).digest('base64'));
    assert.equal(recipe.Manifests[0].Artifacts[0].Algorithm, 'SHA-256');
  }
  const again = await create(testRecipe('com.example.Model', '1.1.0'));
  assert.equal(again.componentVersion, '1.1.0');
  const versions = await gc.gg.send(new ListComponentVersionsCommand({ arn: arnOf('com.example.Model') }));
  assert.deepEqual(versions.componentVersions?.map((v) => v.componentVersion), ['1.1.0', '1.0.0']);
  const list = await gc.gg.send(new ListComponentsCommand({}));
  assert.equal(list.components?.find((c) => c.componentName === 'com.example.Model')?.latestVersion?.componentVersion, '1.1.0');
  await assert.rejects(create(testRecipe('com.example.Model', '1.1.0')), { name: 'ConflictException', message: /already exists/ });
});

test('bad recipes are refused with a message naming the problem and change nothing', async () => {
  await create(testRecipe('com.example.Base', '1.0.0', { ComponentDependencies: { 'com.example.Top': { VersionRequirement: '^1.0.0' } } }));
  const before = await componentCount();
  const cases: [string, unknown, RegExp][] = [
    ['missing fields', { RecipeFormatVersion: '2020-01-25', ComponentName: 'x.Missing' }, /ComponentVersion is required/],
    ['wrong format version', { ...testRecipe('x.Fmt', '1.0.0'), RecipeFormatVersion: '2021-01-01' }, /RecipeFormatVersion must be 2020-01-25/],
    ['not a semantic version', testRecipe('x.Ver', 'one'), /ComponentVersion must be a semantic version/],
    ['bad version range', testRecipe('x.Range', '1.0.0', { ComponentDependencies: { 'com.example.Base': { VersionRequirement: '>>1.0' } } }), /">>1.0" is not a valid version range/],
    ['dependency cycle', testRecipe('com.example.Top', '1.0.0', { ComponentDependencies: { 'com.example.Base': { VersionRequirement: '1.0.0' } } }), /cycle: com.example.Top 1.0.0 -> com.example.Base 1.0.0 -> com.example.Top/],
    ['self dependency', testRecipe('x.Self', '1.0.0', { ComponentDependencies: { 'x.Self': { VersionRequirement: '*' } } }), /cannot depend on itself/],
    ['unknown artifact', testRecipe('x.Art', '1.0.0', { Manifests: [{ Artifacts: [{ URI: `s3://${gc.bucket}/nowhere/a.bin` }], Lifecycle: { Run: 'true' } }] }), /nowhere\/a.bin does not exist in S3/],
    ['artifact URI not s3', testRecipe('x.Uri', '1.0.0', { Manifests: [{ Artifacts: [{ URI: 'https://example.com/a' }], Lifecycle: { Run: 'true' } }] }), /URI must be an s3:/],
    ['hash mismatch', testRecipe('x.Hash', '1.0.0', { Manifests: [{ Artifacts: [{ URI: await gc.putArtifact('hash/a.bin', 'abc'), Digest: createHash('sha256').update('abd').digest('base64') }], Lifecycle: { Run: 'true' } }] }), /hash mismatch/],
    ['unknown lifecycle step', testRecipe('x.Step', '1.0.0', { Manifests: [{ Lifecycle: { Runn: 'true' } }] }), /unknown lifecycle step/],
    ['not YAML or JSON', '{ not json', /not valid JSON or YAML/],
  ];
  for (const [what, recipe, message] of cases) {
    const err = await refusal(gc.gg.send(new CreateComponentVersionCommand({ inlineRecipe: typeof recipe === 'string' ? Buffer.from(recipe) : enc(recipe) })));
    assert.match(err.message, message, what);
    assert.ok((err.fields ?? []).length > 0, `${what}: fields name the problem`);
  }
  assert.equal(await componentCount(), before, 'no refused recipe was stored');
});

test('deployments travel as IoT jobs; a new revision supersedes the old one; cancel and delete guard state', async () => {
  await gc.iot.send(new CreateThingGroupCommand({ thingGroupName: 'farm' }));
  await gc.iot.send(new CreateThingCommand({ thingName: 'turbine-1' }));
  await gc.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'farm', thingName: 'turbine-1' }));
  await create(testRecipe('com.example.App', '1.0.0', { ComponentDependencies: { 'com.example.Model': { VersionRequirement: '>=1.0.0 <2.0.0' } } }));
  const first = await gc.gg.send(new CreateDeploymentCommand({
    targetArn: groupArn('farm'),
    deploymentName: 'farm',
    components: { 'com.example.App': { componentVersion: '1.0.0', configurationUpdate: { merge: '{"threshold":3}', reset: ['/old'] } } },
    deploymentPolicies: { failureHandlingPolicy: 'ROLLBACK', componentUpdatePolicy: { action: 'NOTIFY_COMPONENTS', timeoutInSeconds: 30 } },
    iotJobConfiguration: { timeoutConfig: { inProgressTimeoutInMinutes: 10 } },
  }));
  const job = await gc.iot.send(new DescribeJobCommand({ jobId: first.iotJobId }));
  assert.equal(job.job?.targetSelection, 'CONTINUOUS');
  const doc = JSON.parse((await gc.iot.send(new GetJobDocumentCommand({ jobId: first.iotJobId }))).document as string);
  assert.equal(doc.deploymentId, first.deploymentId);
  assert.deepEqual(doc.components['com.example.App'].configurationUpdate, { merge: { threshold: 3 }, reset: ['/old'] });
  assert.deepEqual(doc.recipes['com.example.Model'].map((r: { ComponentVersion: string }) => r.ComponentVersion).sort(), ['1.0.0', '1.1.0'], 'every version the range reaches');
  assert.match(doc.artifactUrls[`s3://${gc.bucket}/model/1.0.0/model.py`], /^\$\{aws:iot:s3-presigned-url:https:\/\/s3.amazonaws.com\//);
  const got = await gc.gg.send(new GetDeploymentCommand({ deploymentId: first.deploymentId }));
  assert.equal(got.deploymentStatus, 'ACTIVE');
  assert.equal(got.revisionId, '1');
  assert.equal(got.isLatestForTarget, true);

  await assert.rejects(gc.gg.send(new DeleteComponentCommand({ arn: arnOf('com.example.App', '1.0.0') })), { name: 'ConflictException', message: /used by an active deployment/ });

  const second = await gc.gg.send(new CreateDeploymentCommand({ targetArn: groupArn('farm'), components: { 'com.example.App': { componentVersion: '1.0.0' } } }));
  const old = await gc.gg.send(new GetDeploymentCommand({ deploymentId: first.deploymentId }));
  assert.deepEqual([old.deploymentStatus, old.isLatestForTarget], ['INACTIVE', false]);
  assert.equal((await gc.iot.send(new DescribeJobCommand({ jobId: first.iotJobId }))).job?.status, 'CANCELED');
  assert.equal((await gc.gg.send(new GetDeploymentCommand({ deploymentId: second.deploymentId }))).revisionId, '2');
  const latest = await gc.gg.send(new ListDeploymentsCommand({ targetArn: groupArn('farm') }));
  assert.deepEqual(latest.deployments?.map((d) => d.deploymentId), [second.deploymentId]);
  const all = await gc.gg.send(new ListDeploymentsCommand({ targetArn: groupArn('farm'), historyFilter: 'ALL' }));
  assert.equal(all.deployments?.length, 2);

  await gc.gg.send(new CancelDeploymentCommand({ deploymentId: second.deploymentId }));
  assert.equal((await gc.gg.send(new GetDeploymentCommand({ deploymentId: second.deploymentId }))).deploymentStatus, 'CANCELED');
  await assert.rejects(gc.gg.send(new CancelDeploymentCommand({ deploymentId: second.deploymentId })), { name: 'ConflictException' });
  await gc.gg.send(new DeleteComponentCommand({ arn: arnOf('com.example.App', '1.0.0') }));
  await assert.rejects(gc.gg.send(new DescribeComponentCommand({ arn: arnOf('com.example.App', '1.0.0') })), { name: 'ResourceNotFoundException' });
});

test('bad deployments are refused and create no job', async () => {
  const jobsBefore = (await gc.gg.send(new ListDeploymentsCommand({ historyFilter: 'ALL' }))).deployments?.length;
  await create(testRecipe('com.example.Strict', '1.0.0', { ComponentDependencies: { 'com.example.Model': { VersionRequirement: '>=2.0.0' } } }));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ targetArn: 'arn:aws:iot:us-east-1:000000000000:bucket/x', components: { 'com.example.Model': { componentVersion: '1.0.0' } } }, /not a thing or thing group ARN/],
    [{ targetArn: groupArn('farm'), components: {} }, /at least one component/],
    [{ targetArn: groupArn('farm'), components: { 'com.example.Model': { componentVersion: '9.9.9' } } }, /version 9.9.9 does not exist/],
    [{ targetArn: groupArn('farm'), components: { 'com.example.Strict': { componentVersion: '1.0.0' } } }, /component com.example.Model: no version satisfies ">=2.0.0" \(required by com.example.Strict 1.0.0\); available: 1.0.0, 1.1.0/],
    [{ targetArn: groupArn('farm'), components: { 'com.example.Model': { componentVersion: '1.0.0', configurationUpdate: { merge: '{oops' } } } }, /merge is not valid JSON/],
    [{ targetArn: groupArn('farm'), components: { 'com.example.Model': { componentVersion: '1.0.0' } }, deploymentPolicies: { failureHandlingPolicy: 'MAYBE' } }, /ROLLBACK or DO_NOTHING/],
  ];
  for (const [input, message] of cases) {
    const err = await refusal(gc.gg.send(new CreateDeploymentCommand(input as never)));
    assert.match(err.message, message);
  }
  await assert.rejects(gc.gg.send(new CreateDeploymentCommand({ targetArn: groupArn('farm').replace('thinggroup/farm', 'thing/no-such-thing'), components: { 'com.example.Model': { componentVersion: '1.0.0' } } })), { name: 'ResourceNotFoundException' });
  assert.equal((await gc.gg.send(new ListDeploymentsCommand({ historyFilter: 'ALL' }))).deployments?.length, jobsBefore);
});

test('components and deployments survive a cloud restart', async () => {
  const listBefore = await gc.gg.send(new ListDeploymentsCommand({ historyFilter: 'ALL' }));
  const componentsBefore = await componentCount();
  gc = await gc.restart();
  assert.equal(await componentCount(), componentsBefore);
  const listAfter = await gc.gg.send(new ListDeploymentsCommand({ historyFilter: 'ALL' }));
  assert.deepEqual(listAfter.deployments?.map((d) => [d.deploymentId, d.deploymentStatus]), listBefore.deployments?.map((d) => [d.deploymentId, d.deploymentStatus]));
  const got = await gc.gg.send(new GetComponentCommand({ arn: arnOf('com.example.Model', '1.0.0') }));
  assert.match(Buffer.from(got.recipe as Uint8Array).toString(), /"Digest"/);
});

test('fleet status reports are checked before they are stored', () => {
  const ok = parseFleetStatus(Buffer.from(JSON.stringify({ overallDeviceStatus: 'HEALTHY', ggcVersion: '2.0.0', components: [{ componentName: 'A', version: '1.0.0', componentStatus: 'RUNNING', isRoot: true }] })));
  assert.equal(typeof ok === 'object' && ok.components[0].componentStatus, 'RUNNING');
  assert.equal(parseFleetStatus(Buffer.from('not json')), 'not JSON');
  assert.equal(parseFleetStatus(Buffer.from('{"overallDeviceStatus":"SO-SO","components":[]}')), 'overallDeviceStatus must be HEALTHY or UNHEALTHY');
  assert.equal(parseFleetStatus(Buffer.from('{"overallDeviceStatus":"HEALTHY","components":[{"componentName":"A"}]}')), 'each component needs componentName, version and componentStatus');
});
