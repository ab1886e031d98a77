/**
 * The recipes participants read in lab/03-Package-Deploy/greengrass-v2/recipes stay valid: they parse
 * (YAML and JSON), resolve together through their version ranges, and every variable of every script
 * resolves on a device.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyConfigurationUpdate } from './configuration';
import { interpolate, type ComponentPaths } from './interpolate';
import { parseRecipe, selectManifest, type Recipe } from './recipe';
import { resolveComponents } from './resolve';

const dir = join(__dirname, '..', '..', 'lab', '03-Package-Deploy', 'greengrass-v2', 'recipes');

test('the lab recipes parse, resolve through their ranges, and leave no variable unresolved', () => {
  const files = readdirSync(dir).sort();
  assert.deepEqual(files.map((f) => f.split('.').pop()).sort(), ['json', 'yaml', 'yaml']);
  const recipes: Recipe[] = files.map((f) => parseRecipe(readFileSync(join(dir, f), 'utf8')));
  const order = resolveComponents({ 'com.windturbine.Detector': '1.0.0' }, (n) => recipes.filter((r) => r.name === n));
  assert.deepEqual(order.map((r) => r.name), ['com.windturbine.InferenceRuntime', 'com.windturbine.Model', 'com.windturbine.Detector']);
  const paths = new Map<string, ComponentPaths>(order.map((r) => [r.name, { configuration: applyConfigurationUpdate(undefined, r.defaultConfiguration), artifactsPath: `/gg/artifacts/${r.name}`, decompressedPath: `/gg/unarchived/${r.name}` }]));
  for (const r of order) {
    const manifest = selectManifest(r, { os: 'linux', architecture: 'aarch64' });
    assert.ok(manifest, `${r.name} runs on linux`);
    for (const a of manifest.artifacts) assert.match(a.uri, /^s3:\/\/edgeml-components\/components\//);
    const dependencies = Object.fromEntries(Object.keys(r.dependencies).map((d) => [d, paths.get(d) as ComponentPaths]));
    for (const [step, spec] of Object.entries(manifest.lifecycle?.steps ?? {})) {
      const script = interpolate(spec.script, { ...(paths.get(r.name) as ComponentPaths), workPath: '/gg/work', rootPath: '/gg', thingName: 't', dependencies });
      assert.doesNotMatch(script, /\{[A-Za-z.]*:?(configuration|artifacts|work|kernel|iot):[^}]*\}/, `${r.name} ${step}: ${script}`);
    }
  }
  const detector = recipes.find((r) => r.name === 'com.windturbine.Detector') as Recipe;
  assert.ok((detector.defaultConfiguration.accessControl as Record<string, unknown>)['aws.greengrass.ipc.mqttproxy']);
});
