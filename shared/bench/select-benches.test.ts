import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBenches } from './select-benches';

// The project's benches as findBenches lists them (project-relative, sorted).
const BENCHES = [
  'shared/cloud/jobs/jobs.bench.ts',
  'shared/cloud/mqtt/broker.bench.ts',
  'shared/cloud/s3/xml.bench.ts',
  'shared/cloud/s3.bench.ts',
  'shared/detector/detector.bench.ts',
  'shared/edge/agent-build.bench.ts',
  'shared/edge/edge.bench.ts',
  'shared/edge/memory.bench.ts',
  'shared/fleet/fleet.bench.ts',
  'shared/greengrass/detector-update.bench.ts',
  'shared/greengrass/greengrass.bench.ts',
];

test('no filter selects every bench', () => {
  assert.deepEqual(selectBenches(BENCHES, []), { selected: BENCHES, unmatched: [] });
});

test('a folder name selects that folder, not other paths that contain the word', () => {
  assert.deepEqual(selectBenches(BENCHES, ['detector']).selected, ['shared/detector/detector.bench.ts']);
  assert.deepEqual(selectBenches(BENCHES, ['detector/']).selected, ['shared/detector/detector.bench.ts']);
  assert.deepEqual(selectBenches(BENCHES, ['shared/detector']).selected, ['shared/detector/detector.bench.ts']);
  assert.deepEqual(selectBenches(BENCHES, ['greengrass']).selected, ['shared/greengrass/detector-update.bench.ts', 'shared/greengrass/greengrass.bench.ts']);
});

test("a folder selects its subfolders' benches; a path of folders selects the subfolder only", () => {
  assert.deepEqual(selectBenches(BENCHES, ['cloud']).selected, BENCHES.slice(0, 4));
  assert.deepEqual(selectBenches(BENCHES, ['cloud/mqtt']).selected, ['shared/cloud/mqtt/broker.bench.ts']);
  assert.deepEqual(selectBenches(BENCHES, ['s3']).selected, ['shared/cloud/s3/xml.bench.ts']);
});

test('other text matches by substring of the path', () => {
  assert.deepEqual(selectBenches(BENCHES, ['fleet.bench']).selected, ['shared/fleet/fleet.bench.ts']);
  assert.deepEqual(selectBenches(BENCHES, ['memory']).selected, ['shared/edge/memory.bench.ts']);
  assert.deepEqual(selectBenches(BENCHES, ['detector-update']).selected, ['shared/greengrass/detector-update.bench.ts']);
  assert.deepEqual(selectBenches(BENCHES, ['s3.bench']).selected, ['shared/cloud/s3.bench.ts']);
  assert.deepEqual(selectBenches(BENCHES, ['shared/edge/agent-build.bench']).selected, ['shared/edge/agent-build.bench.ts']);
});

test('several filters select the union once each, in path order', () => {
  assert.deepEqual(selectBenches(BENCHES, ['memory', 'edge', 'fleet']).selected, ['shared/edge/agent-build.bench.ts', 'shared/edge/edge.bench.ts', 'shared/edge/memory.bench.ts', 'shared/fleet/fleet.bench.ts']);
});

test('a filter that selects nothing is reported, beside what the others selected', () => {
  assert.deepEqual(selectBenches(BENCHES, ['detectr', 'fleet']), { selected: ['shared/fleet/fleet.bench.ts'], unmatched: ['detectr'] });
});
