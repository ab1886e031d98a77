import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { DescribeModelPackageCommand, ListModelPackagesCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { cloudClientConfig } from '../cloud';
import { startTestCloud, tempDir } from '../edge/agent-testing';
import { ensureLabDataSets, LocalDirectoryRegistry, loadDetector, runTrainingPipeline } from '../detector/index';
import { capturedWindows } from './captured-windows';
import { captureFieldBatches, recalibratedAnemometer } from './field-capture-testing';
import { fieldTrainingSet } from './field-training-set';
import { retrainWithFieldData } from './field-retraining';
import { modelResults, registerCandidate } from './model-candidate';

test('retraining on a drifted farm\'s captured windows: fewer windows over threshold on held-out field data, registered pending approval with both results', { timeout: 600_000 }, async () => {
  const tmp = await tempDir('field-retrain-');
  const cloud = await startTestCloud(join(tmp.dir, 'cloud'));
  const sm = new SageMakerClient(cloudClientConfig(cloud));
  const s3 = new S3Client(cloudClientConfig(cloud));
  try {
    const sets = await ensureLabDataSets(join(tmp.dir, 'data'), { train: { turbines: 4, minutes: 10, seed: 42 }, test: { turbines: 4, minutes: 8, seed: 43 } });
    const training = { epochs: 6 };
    // Both models' thresholds by the same rule (fitted on held-out windows; retraining does not calibrate).
    await runTrainingPipeline({ dataPath: sets.train.path, cacheDir: join(tmp.dir, 'cache'), registry: new LocalDirectoryRegistry(join(tmp.dir, 'deployed')), seed: 1, training, falseAlarmTarget: 0 });
    const deployed = await loadDetector(join(tmp.dir, 'deployed'));
    // The field: three turbines whose anemometers were recalibrated to read 30 % higher, captured by the edge runtime.
    const { batches } = await captureFieldBatches({ turbines: 3, frames: 12000, seed: 31, description: { stats: deployed.stats }, transform: recalibratedAnemometer(1.3) });
    const field = fieldTrainingSet(capturedWindows(batches), []);
    assert.ok(field.train.count > 500 && field.heldOut.count > 300, `field windows: ${field.train.count} train, ${field.heldOut.count} held out`);
    const { modelDir, description } = await retrainWithFieldData({ trainingDataPath: sets.train.path, field, fieldStats: deployed.stats, outDir: join(tmp.dir, 'candidate'), seed: 1, training });
    assert.equal(description.training.options.fieldTrainWindows, field.train.count);
    const candidate = await loadDetector(modelDir);
    const testSet = { path: sets.test.path, labelsPath: sets.test.labelsPath };
    const before = modelResults(deployed, field, deployed.stats, testSet);
    const after = modelResults(candidate, field, deployed.stats, testSet);
    console.log(JSON.stringify({ before, after }));
    assert.ok(before.field.overThresholdShare > 0.02, `the deployed model over threshold on the drifted field (${before.field.overThresholdShare})`);
    assert.ok(after.field.overThresholdShare < before.field.overThresholdShare / 2, `retrained: ${after.field.overThresholdShare} against ${before.field.overThresholdShare}`);
    assert.ok(after.test && after.test.eventRecall > 0.5, 'the retrained model still finds faults on the simulator test set');

    const arn = await registerCandidate(sm, s3, { group: 'wind-turbine-anomaly', bucket: 'models', key: 'field/1.1.0/model.tar.gz', modelDir, version: '1.1.0', candidate: after, deployed: before, deployedVersion: '1.0.0' });
    const d = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    assert.equal(d.ModelApprovalStatus, 'PendingManualApproval');
    assert.equal(d.CustomerMetadataProperties?.['candidate.field.over-threshold-share'], after.field.overThresholdShare.toFixed(4));
    assert.equal(d.CustomerMetadataProperties?.['deployed.test.event-f1'], before.test!.eventF1.toFixed(4));
    assert.equal(d.InferenceSpecification?.Containers?.[0].ModelDataUrl, 's3://models/field/1.1.0/model.tar.gz');
    await assert.rejects(registerCandidate(sm, s3, { group: 'wind-turbine-anomaly', bucket: 'models', key: 'x', modelDir, version: 'v2', candidate: after, deployed: before, deployedVersion: '1.0.0' }), /version must be x.y.z, got "v2"/);
    const listed = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: 'wind-turbine-anomaly' }));
    assert.equal(listed.ModelPackageSummaryList?.length, 1, 'a refused registration adds no version');
    deployed.dispose();
    candidate.dispose();
  } finally {
    sm.destroy();
    s3.destroy();
    await cloud.stop();
    await tmp.remove();
  }
});
