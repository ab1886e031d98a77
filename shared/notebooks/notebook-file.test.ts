import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellSource, clearOutputs, codeCellIndices, firstLine, hasOutputs, parseNotebook, serializeNotebook, withOutputs, type Notebook } from './notebook-file';

function sample(): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: [
      { cell_type: 'markdown', id: 'm1', metadata: {}, source: ['# Title\n', 'text'] },
      { cell_type: 'code', id: 'c1', metadata: {}, source: '\n// load\nconst x = 1;\n', outputs: [], execution_count: null },
      { cell_type: 'code', id: 'c2', metadata: {}, source: ['x + 1'], outputs: [{ output_type: 'stream', name: 'stdout', text: 'old\n' }], execution_count: 4 },
    ],
  };
}

test('code cells, their text and first line are read whichever way the source is stored', () => {
  const nb = sample();
  assert.deepEqual(codeCellIndices(nb), [1, 2]);
  assert.equal(cellSource(nb.cells[0]), '# Title\ntext');
  assert.equal(firstLine(nb.cells[1]), '// load');
  assert.equal(firstLine({ cell_type: 'code', metadata: {}, source: 'y'.repeat(150) }).length, 100);
});

test('serialising writes Jupyter form (sorted keys, line arrays, one-space indent) and parses back to the same notebook', () => {
  const nb = sample();
  const text = serializeNotebook(nb);
  assert.match(text, /^\{\n "cells": \[\n  \{\n   "cell_type": "markdown",/);
  assert.ok(text.endsWith('}\n'));
  const again = parseNotebook(text, 'x.ipynb');
  assert.deepEqual(again.cells[1].source, ['\n', '// load\n', 'const x = 1;\n']);
  assert.equal(cellSource(again.cells[1]), cellSource(nb.cells[1]));
  assert.equal(serializeNotebook(again), text);
});

test('outputs go in with execution counts; cells that did not run are cleared; clearing gives the committed form', () => {
  const nb = sample();
  assert.equal(hasOutputs(nb), true);
  const ran = withOutputs(nb, new Map([[1, { outputs: [{ output_type: 'display_data' as const, data: { 'text/plain': 'a\nb', 'application/json': { k: 1 } }, metadata: {} }], executionCount: 1 }]]));
  assert.equal(ran.cells[1].execution_count, 1);
  assert.deepEqual(ran.cells[2].outputs, []);
  assert.equal(ran.cells[2].execution_count, null);
  const written = JSON.parse(serializeNotebook(ran));
  assert.deepEqual(written.cells[1].outputs[0].data, { 'application/json': { k: 1 }, 'text/plain': ['a\n', 'b'] });
  const cleared = clearOutputs(ran);
  assert.equal(hasOutputs(cleared), false);
  assert.deepEqual(cleared.cells[0], nb.cells[0]);
  assert.equal(hasOutputs(nb), true, 'the input is not modified');
});

test('a file without nbformat_minor gets 4.5 only when every cell has an id', () => {
  assert.equal(parseNotebook('{"nbformat": 4, "cells": [{"cell_type": "code", "id": "a", "source": ""}]}', 'x').nbformat_minor, 5);
  assert.equal(parseNotebook('{"nbformat": 4, "cells": [{"cell_type": "code", "source": ""}]}', 'x').nbformat_minor, 4);
});

test('bad files are refused with the file and cell named', () => {
  const cases: [string, RegExp][] = [
    ['{not json', /^bad\.ipynb: not a notebook: invalid JSON/],
    ['[]', /^bad\.ipynb: not a notebook: top level is not a JSON object/],
    ['{"nbformat": 3, "cells": []}', /^bad\.ipynb: nbformat 3 is not supported; expected 4/],
    ['{"nbformat": 4}', /^bad\.ipynb: not a notebook: "cells" is missing/],
    ['{"nbformat": 4, "cells": [{"cell_type": "code", "source": "1"}, {"cell_type": "python", "source": ""}]}', /^bad\.ipynb: cell 2: unknown cell_type "python"/],
    ['{"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}', /^bad\.ipynb: cell 1: "source" must be a string or an array of strings/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseNotebook(text, 'bad.ipynb'), { message }, text);
});
