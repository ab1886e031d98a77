import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { hasOutputs, parseNotebook } from './notebook-file';
import { findNotebooks } from './run-notebook';

const ROOT = join(__dirname, '..', '..');
const LAB = join(ROOT, 'lab');

// The documented policy: committed notebooks carry no outputs (small files, clean diffs) and use tslab.
test('every notebook under lab/ is committed with cleared outputs and the TypeScript kernel', () => {
  const notebooks = existsSync(LAB) ? findNotebooks([LAB]) : [];
  for (const path of notebooks) {
    const name = relative(ROOT, path);
    const nb = parseNotebook(readFileSync(path, 'utf8'), name);
    assert.equal(hasOutputs(nb), false, `${name} carries outputs: run npm run notebooks -- --clear ${name}`);
    const kernel = (nb.metadata.kernelspec as { name?: string } | undefined)?.name;
    assert.equal(kernel, 'tslab', `${name} declares kernel ${String(kernel)}; expected tslab`);
  }
});
