import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorFromStderr, errorReportText } from './kernel-client';

test('a thrown error reported by tslab on stderr gives its name, message and the cell frames', () => {
  const chunks = [
    'some earlier warning\n',
    "evalmachine.<anonymous>:2\nthrow new RangeError('bad');\n^\n\nRangeError: bad thing\n    at evalmachine.<anonymous>:2:7\n    at sigintHandlersWrap (node:vm:280:12)\n    at Object.execute (x/node_modules/tslab/dist/executor.js:160:38)\n",
  ];
  const e = errorFromStderr(chunks);
  assert.deepEqual(e, { ename: 'RangeError', evalue: 'bad thing', traceback: ['RangeError: bad thing', '    at evalmachine.<anonymous>:2:7'] });
  assert.equal(errorReportText(chunks), chunks[1]);
});

test('TypeScript diagnostics become one compile error listing every diagnostic', () => {
  const chunks = ['1:7 - Type \'string\' is not assignable to type \'number\'.\n', '2:1 - Cannot find name \'nope\'.\n'];
  const e = errorFromStderr(chunks);
  assert.equal(e.ename, 'TypeScript compile error');
  assert.equal(e.evalue, "1:7 - Type 'string' is not assignable to type 'number'.; 2:1 - Cannot find name 'nope'.");
  assert.equal(errorReportText(chunks), chunks.join(''));
});

test('a thrown non-error value and an empty report still give a message', () => {
  assert.deepEqual(errorFromStderr(['plain string thrown\n']), { ename: 'Error', evalue: 'plain string thrown', traceback: ['plain string thrown'] });
  assert.equal(errorFromStderr([]).evalue, '(the kernel reported a failure without a message)');
  assert.equal(errorFromStderr(['Error [ERR_X]: coded\n']).evalue, 'coded');
});
