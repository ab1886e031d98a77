import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRecipe, type Recipe } from './recipe';
import { findCycle, resolveComponents } from './resolve';

function recipe(name: string, version: string, deps: Record<string, string> = {}): Recipe {
  return parseRecipe({
    RecipeFormatVersion: '2020-01-25',
    ComponentName: name,
    ComponentVersion: version,
    ComponentDependencies: Object.fromEntries(Object.entries(deps).map(([n, r]) => [n, { VersionRequirement: r }])),
    Manifests: [{ Lifecycle: { Run: 'true' } }],
  });
}

function source(...recipes: Recipe[]) {
  return (name: string) => recipes.filter((r) => r.name === name);
}

test('the highest version satisfying every range is chosen, dependencies first', () => {
  const src = source(recipe('App', '1.0.0', { Model: '>=1.0.0 <2.0.0', Runtime: '^1.2.0' }), recipe('Model', '1.0.0'), recipe('Model', '1.4.2'), recipe('Model', '2.0.0'), recipe('Runtime', '1.1.0'), recipe('Runtime', '1.3.0', { Model: '~1.4.0' }));
  const order = resolveComponents({ App: '1.0.0' }, src);
  assert.deepEqual(order.map((r) => `${r.name}@${r.version}`), ['Model@1.4.2', 'Runtime@1.3.0', 'App@1.0.0']);
});

test('a choice that adds a requirement is revisited until the versions settle', () => {
  // Runtime 2 needs Model <1.2, so Model 1.4.2 (first choice) must give way to 1.1.0.
  const src = source(recipe('App', '1.0.0', { Model: '1.x', Runtime: '2.x' }), recipe('Model', '1.1.0'), recipe('Model', '1.4.2'), recipe('Runtime', '2.0.0', { Model: '<1.2.0' }));
  const order = resolveComponents({ App: '1.0.0' }, src);
  assert.deepEqual(order.map((r) => `${r.name}@${r.version}`), ['Model@1.1.0', 'Runtime@2.0.0', 'App@1.0.0']);
});

test('a conflict names the component, every range and who asked, and what exists', () => {
  const src = source(recipe('App', '1.0.0', { Model: '>=2.0.0', Runtime: '1.0.0' }), recipe('Runtime', '1.0.0', { Model: '<2.0.0' }), recipe('Model', '1.5.0'), recipe('Model', '2.1.0'));
  assert.throws(() => resolveComponents({ App: '1.0.0' }, src), {
    name: 'ResolutionError',
    message: 'component Model: no version satisfies ">=2.0.0" (required by App 1.0.0) and "<2.0.0" (required by Runtime 1.0.0); available: 1.5.0, 2.1.0',
  });
  assert.throws(() => resolveComponents({ Missing: '1.0.0' }, src), /component Missing: no version satisfies "1.0.0" \(required by deployment\); no version is known/);
});

test('a cycle is named with its path, at resolution and when a new recipe would close it', () => {
  const a = recipe('A', '1.0.0', { B: '^1.0.0' });
  const b = recipe('B', '1.0.0', { A: '1.x' });
  assert.throws(() => resolveComponents({ A: '1.0.0' }, source(a, b)), /dependency cycle: A -> B -> A/);
  assert.equal(findCycle(a, source(b)), 'A 1.0.0 -> B 1.0.0 -> A');
  assert.equal(findCycle(recipe('A', '2.0.0', { B: '^1.0.0' }), source(b)), undefined, 'B accepts only A 1.x: no cycle with A 2.0.0');
});

test('recipes: keys are case-insensitive, YAML and JSON give the same recipe, problems are all listed', () => {
  const yaml = `---
recipeformatversion: '2020-01-25'
componentname: com.example.X
componentversion: 1.2.3
ComponentConfiguration:
  DefaultConfiguration:
    threshold: 2
Manifests:
  - Platform: { os: /lin.*/ }
    Lifecycle:
      Install: { Script: npm ci, Timeout: 300 }
      Run: node app.js
`;
  const r = parseRecipe(yaml);
  assert.equal(r.name, 'com.example.X');
  assert.deepEqual(r.defaultConfiguration, { threshold: 2 });
  assert.equal(r.manifests[0].lifecycle?.steps.install?.timeoutSec, 300);
  assert.equal(r.manifests[0].lifecycle?.steps.run?.script, 'node app.js');
  assert.deepEqual(parseRecipe(JSON.stringify(r.raw)).manifests, r.manifests);
  try {
    parseRecipe({ RecipeFormatVersion: '2020-01-25', ComponentDependencies: { B: { VersionRequirement: 'not a range' } }, Manifests: [{ Lifecycle: { Startup: 'a', Run: 'b' } }] });
    assert.fail('accepted');
  } catch (err) {
    const names = (err as { problems: { name: string }[] }).problems.map((p) => p.name);
    assert.deepEqual(names, ['ComponentName', 'ComponentVersion', 'ComponentDependencies.B.VersionRequirement', 'Manifests[0].Lifecycle']);
  }
});
