import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeModelPackageCommand,
  DescribeModelPackageGroupCommand,
  ListModelPackageGroupsCommand,
  ListModelPackagesCommand,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { rejectsWith, startSageMakerCloud } from './sagemaker-testing';

const INFERENCE = { Containers: [{ Image: 'local/onnxruntime-node:1.30', ModelDataUrl: 's3://models/wind-turbine-1.0.0.tar.gz', Framework: 'ONNX' }], SupportedContentTypes: ['text/csv'], SupportedResponseMIMETypes: ['application/json'] };
const METRICS = { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: 's3://models/metrics.json' } } };

test('model package groups: create, describe by name and ARN, list sorted', async () => {
  const c = await startSageMakerCloud();
  try {
    const created = await c.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'WindTurbine', ModelPackageGroupDescription: 'anomaly detectors' }));
    assert.equal(created.ModelPackageGroupArn, 'arn:aws:sagemaker:us-east-1:000000000000:model-package-group/windturbine');
    await c.clock.advance(1000);
    await c.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'baseline' }));
    for (const ref of ['WindTurbine', created.ModelPackageGroupArn as string]) {
      const d = await c.sm.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: ref }));
      assert.equal(d.ModelPackageGroupName, 'WindTurbine');
      assert.equal(d.ModelPackageGroupDescription, 'anomaly detectors');
      assert.equal(d.ModelPackageGroupStatus, 'Completed');
      assert.ok(d.CreationTime instanceof Date);
    }
    const asc = await c.sm.send(new ListModelPackageGroupsCommand({}));
    assert.deepEqual(asc.ModelPackageGroupSummaryList?.map((g) => g.ModelPackageGroupName), ['WindTurbine', 'baseline']);
    const desc = await c.sm.send(new ListModelPackageGroupsCommand({ SortOrder: 'Descending' }));
    assert.deepEqual(desc.ModelPackageGroupSummaryList?.map((g) => g.ModelPackageGroupName), ['baseline', 'WindTurbine']);
    const contains = await c.sm.send(new ListModelPackageGroupsCommand({ NameContains: 'turb' }));
    assert.deepEqual(contains.ModelPackageGroupSummaryList?.map((g) => g.ModelPackageGroupName), ['WindTurbine']);
    await rejectsWith(c.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'windturbine' })), 'ValidationException', /already exists/);
    await rejectsWith(c.sm.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: 'nothere' })), 'ValidationException', /nothere does not exist/);
  } finally {
    await c.cleanup();
  }
});

test('model packages: versions in a group, approval workflow, latest approved by CreationTime descending', async () => {
  const c = await startSageMakerCloud();
  try {
    await c.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'wind-turbine' }));
    const v1 = await c.sm.send(new CreateModelPackageCommand({
      ModelPackageGroupName: 'wind-turbine',
      ModelPackageDescription: 'dense autoencoder',
      InferenceSpecification: INFERENCE,
      ModelMetrics: METRICS,
      CustomerMetadataProperties: { semver: '1.0.0', f1: '0.91' },
    }));
    assert.equal(v1.ModelPackageArn, 'arn:aws:sagemaker:us-east-1:000000000000:model-package/wind-turbine/1');
    await c.clock.advance(1000);
    const v2 = await c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine', ModelApprovalStatus: 'Approved', CustomerMetadataProperties: { semver: '1.1.0' } }));
    await c.clock.advance(1000);
    const v3 = await c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine', ModelApprovalStatus: 'Rejected' }));
    assert.match(v3.ModelPackageArn as string, /\/wind-turbine\/3$/);

    const d1 = await c.sm.send(new DescribeModelPackageCommand({ ModelPackageName: v1.ModelPackageArn }));
    assert.equal(d1.ModelPackageGroupName, 'wind-turbine');
    assert.equal(d1.ModelPackageVersion, 1);
    assert.equal(d1.ModelApprovalStatus, 'PendingManualApproval');
    assert.equal(d1.ModelPackageStatus, 'Completed');
    assert.deepEqual(d1.ModelPackageStatusDetails, { ValidationStatuses: [] });
    assert.deepEqual(d1.InferenceSpecification, INFERENCE);
    assert.deepEqual(d1.ModelMetrics, METRICS);
    assert.deepEqual(d1.CustomerMetadataProperties, { semver: '1.0.0', f1: '0.91' });
    const byVersion = await c.sm.send(new DescribeModelPackageCommand({ ModelPackageName: 'wind-turbine/2' }));
    assert.equal(byVersion.ModelPackageArn, v2.ModelPackageArn);

    const latestApproved = async () =>
      (await c.sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: 'wind-turbine', ModelApprovalStatus: 'Approved', SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 1 }))).ModelPackageSummaryList?.[0];
    assert.equal((await latestApproved())?.ModelPackageVersion, 2);

    await c.clock.advance(1000);
    const updated = await c.sm.send(new UpdateModelPackageCommand({ ModelPackageArn: v3.ModelPackageArn, ModelApprovalStatus: 'Approved', ApprovalDescription: 'retested', CustomerMetadataProperties: { semver: '1.2.0' } }));
    assert.equal(updated.ModelPackageArn, v3.ModelPackageArn);
    const d3 = await c.sm.send(new DescribeModelPackageCommand({ ModelPackageName: v3.ModelPackageArn }));
    assert.equal(d3.ModelApprovalStatus, 'Approved');
    assert.equal(d3.ApprovalDescription, 'retested');
    assert.equal(d3.LastModifiedTime?.getTime(), c.clock.now());
    assert.equal((await latestApproved())?.ModelPackageVersion, 3);

    await c.sm.send(new UpdateModelPackageCommand({ ModelPackageArn: v1.ModelPackageArn, CustomerMetadataPropertiesToRemove: ['f1'] }));
    assert.deepEqual((await c.sm.send(new DescribeModelPackageCommand({ ModelPackageName: v1.ModelPackageArn }))).CustomerMetadataProperties, { semver: '1.0.0' });

    const all = await c.sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: 'wind-turbine' }));
    assert.deepEqual(all.ModelPackageSummaryList?.map((p) => [p.ModelPackageVersion, p.ModelApprovalStatus]), [[1, 'PendingManualApproval'], [2, 'Approved'], [3, 'Approved']]);
    const pending = await c.sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: 'wind-turbine', ModelApprovalStatus: 'PendingManualApproval' }));
    assert.deepEqual(pending.ModelPackageSummaryList?.map((p) => p.ModelPackageVersion), [1]);
    // Without a group SageMaker lists unversioned packages only.
    await c.sm.send(new CreateModelPackageCommand({ ModelPackageName: 'standalone' }));
    const unversioned = await c.sm.send(new ListModelPackagesCommand({}));
    assert.deepEqual(unversioned.ModelPackageSummaryList?.map((p) => p.ModelPackageName), ['standalone']);
    const both = await c.sm.send(new ListModelPackagesCommand({ ModelPackageType: 'Both' }));
    assert.equal(both.ModelPackageSummaryList?.length, 4);
  } finally {
    await c.cleanup();
  }
});

test('the same ClientToken creates one version', async () => {
  const c = await startSageMakerCloud();
  try {
    await c.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'g' }));
    const a = await c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'g', ClientToken: 'token-1' }));
    const b = await c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'g', ClientToken: 'token-1' }));
    assert.equal(a.ModelPackageArn, b.ModelPackageArn);
    await c.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'h' }));
    await rejectsWith(c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'h', ClientToken: 'token-1' })), 'ConflictException', /token-1/);
    const listed = await c.sm.send(new ListModelPackagesCommand({ ModelPackageType: 'Both' }));
    assert.equal(listed.ModelPackageSummaryList?.length, 1);
  } finally {
    await c.cleanup();
  }
});

test('bad registry input is a ValidationException naming the member, and changes nothing', async () => {
  const c = await startSageMakerCloud({ limits: { modelPackageGroups: 1 } });
  try {
    await c.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'wind-turbine' }));
    const v1 = await c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine' }));
    const cases: [Promise<unknown>, string, RegExp][] = [
      [c.sm.send(new CreateModelPackageGroupCommand({} as never)), 'ValidationException', /Value null at 'modelPackageGroupName'/],
      [c.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: '-leading' })), 'ValidationException', /modelPackageGroupName.*regular expression/],
      [c.sm.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'another' })), 'ResourceLimitExceeded', /limit 1/],
      [c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'nogroup' })), 'ValidationException', /nogroup does not exist/],
      [c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine', ModelPackageName: 'x' })), 'ValidationException', /either/],
      [c.sm.send(new CreateModelPackageCommand({})), 'ValidationException', /ModelPackageGroupName/],
      [c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine', ModelApprovalStatus: 'Maybe' as never })), 'ValidationException', /modelApprovalStatus.*enum value set/],
      [c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine', InferenceSpecification: { Containers: [] } })), 'ValidationException', /inferenceSpecification.containers/],
      [c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine', InferenceSpecification: { Containers: [{ ModelDataUrl: 's3://b/k' }] } as never })), 'ValidationException', /inferenceSpecification.containers.1.image/],
      [c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine', ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json' } } } as never })), 'ValidationException', /modelMetrics.modelQuality.statistics.s3Uri/],
      [c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine', CustomerMetadataProperties: { k: 'v'.repeat(257) } })), 'ValidationException', /customerMetadataProperties/],
      [c.sm.send(new DescribeModelPackageCommand({ ModelPackageName: 'wind-turbine/9' })), 'ValidationException', /does not exist/],
      [c.sm.send(new UpdateModelPackageCommand({ ModelPackageArn: 'wind-turbine/1', ModelApprovalStatus: 'Approved' })), 'ValidationException', /modelPackageArn.*regular expression/],
      [c.sm.send(new UpdateModelPackageCommand({ ModelPackageArn: v1.ModelPackageArn?.replace(/1$/, '7'), ModelApprovalStatus: 'Approved' })), 'ValidationException', /does not exist/],
      [c.sm.send(new UpdateModelPackageCommand({ ModelPackageArn: v1.ModelPackageArn, ModelApprovalStatus: 'Yes' as never })), 'ValidationException', /enum value set/],
      [c.sm.send(new UpdateModelPackageCommand({ ModelPackageArn: v1.ModelPackageArn })), 'ValidationException', /nothing to update/],
      [c.sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: 'nogroup' })), 'ValidationException', /nogroup does not exist/],
      [c.sm.send(new ListModelPackagesCommand({ MaxResults: 0 })), 'ValidationException', /maxResults.*greater than or equal to 1/],
    ];
    for (const [p, name, message] of cases) await rejectsWith(p, name, message);
    const listed = await c.sm.send(new ListModelPackagesCommand({ ModelPackageType: 'Both' }));
    assert.deepEqual(listed.ModelPackageSummaryList?.map((p) => [p.ModelPackageVersion, p.ModelApprovalStatus]), [[1, 'PendingManualApproval']]);
    assert.deepEqual((await c.sm.send(new ListModelPackageGroupsCommand({}))).ModelPackageGroupSummaryList?.map((g) => g.ModelPackageGroupName), ['wind-turbine']);
    // Version numbers are not used up by refused requests.
    const v2 = await c.sm.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'wind-turbine' }));
    assert.match(v2.ModelPackageArn as string, /\/2$/);
  } finally {
    await c.cleanup();
  }
});
