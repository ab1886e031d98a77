import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ModelRecipe, trainedFleetPackages } from './trained-packages';

// Tiny recipes (minutes of data, one epoch, no calibration): what is tested is the cache, not the model.
const recipe = (seed: number): ModelRecipe => ({ data: { turbines: 2, minutes: 3, seed }, pipeline: { training: { epochs: 1, batchSize: 64 }, falseAlarmTarget: 0 } });

test('a cached model is reused only for the recipe that made it; another recipe trains again', { timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trained-packages-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const hash = (path: string): string => JSON.parse(readFileSync(join(path, 'detector.json'), 'utf8')).trainingDataHash;
  const first = await trainedFleetPackages(dir, () => undefined, recipe(1));
  assert.equal(first.trained, true);
  const firstHash = hash(first.modelDir);
  assert.equal((await trainedFleetPackages(dir, () => undefined, recipe(1))).trained, false);

  const other = await trainedFleetPackages(dir, () => undefined, recipe(2));
  assert.equal(other.trained, true, 'a different recipe must not get the cached model');
  assert.notEqual(hash(other.modelDir), firstHash);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'recipe.json'), 'utf8')), recipe(2));
  assert.equal((await trainedFleetPackages(dir, () => undefined, recipe(2))).trained, false);
});
