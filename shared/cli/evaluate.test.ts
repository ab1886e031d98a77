/**
 * `npm run evaluate` on a user's own labels: fault kind names the simulator does not know, severity given
 * for some and not for others; the report's per-kind recall is under those names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../edge/agent-testing';
import { trainedTestModel } from '../edge/trained-model-testing';
import { formatLabelsCsv, readLabelsCsv } from '../turbine/labels';

const root = join(__dirname, '..', '..');

test('npm run evaluate with labels of unknown kind names (blade_icing without severity, pitch_bearing with) reports per-kind recall under those names', { timeout: 300_000 }, async () => {
  const trained = await trainedTestModel();
  const tmp = await tempDir('evaluate-kinds-');
  try {
    // The simulator's episodes renamed as a user's incident log would name them.
    const labels = readLabelsCsv(trained.evalLabels).map((l, i) => (i % 2 === 0 ? { turbineId: l.turbineId, start: l.start, end: l.end, kind: 'blade_icing' } : { ...l, kind: 'pitch_bearing' }));
    const path = join(tmp.dir, 'incidents.labels.csv');
    writeFileSync(path, formatLabelsCsv(labels));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'shared', 'cli', 'evaluate.ts'), '--model', trained.modelDir, '--data', trained.evalData, '--labels', path], { cwd: root, encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(report.per_kind), ['blade_icing', 'pitch_bearing']);
    const icing = report.per_kind.blade_icing;
    const bearing = report.per_kind.pitch_bearing;
    assert.equal(icing.events, labels.filter((l) => l.kind === 'blade_icing').length);
    assert.equal(bearing.events, labels.length - icing.events);
    assert.equal(icing.detected + bearing.detected, report.detected);
    for (const k of [icing, bearing]) assert.equal(k.recall, k.events ? k.detected / k.events : 0);
    assert.ok(report.detected > 0, 'the trained model detects some episodes');
    // Severity groups hold only the labels that give one.
    assert.equal(icing.mild.events + icing.severe.events, 0);
    assert.equal(bearing.mild.events + bearing.severe.events, bearing.events);
  } finally {
    await tmp.remove();
  }
});
