import { test } from 'node:test';
import assert from 'node:assert/strict';
import { figureTitle, toPlainJson, Figure } from './figure';
import { figureHtml } from './notebook-display';

const fig: Figure = {
  data: [{ type: 'scatter', x: new Float64Array([1, 2]), y: new Float32Array([0.5, 1.5]), mode: 'lines' }],
  layout: { title: { text: 'Rotor speed' } },
};

test('typed arrays become plain arrays so Plotly and JSON.stringify see numbers', () => {
  const plain = toPlainJson(fig);
  assert.deepEqual(plain.data[0].x, [1, 2]);
  assert.deepEqual(plain.data[0].y, [0.5, 1.5]);
  assert.ok(fig.data[0].x instanceof Float64Array, 'input left unchanged');
  const long = toPlainJson({ data: [{ type: 'scatter', y: new Float64Array([Math.PI, 0, -1e-9 / 3]) }], layout: {} });
  assert.deepEqual(long.data[0].y, [3.14159, 0, -3.33333e-10], 'typed arrays rounded to 6 significant digits');
});

test('figureTitle reads string and object titles', () => {
  assert.equal(figureTitle(fig), 'Rotor speed');
  assert.equal(figureTitle({ data: [], layout: { title: 'Voltage' } }), 'Voltage');
  assert.equal(figureTitle({ data: [], layout: {} }), 'figure');
});

test('figure HTML embeds plotly.js only when asked and escapes </script> in data', () => {
  const evil: Figure = { data: [{ type: 'bar', name: '</script><b>', x: [1], y: [1] }], layout: {} };
  const withLib = figureHtml(evil, true);
  const without = figureHtml(evil, false);
  assert.ok(withLib.length > 1_000_000, 'library embedded');
  assert.ok(without.length < 10_000, 'no library');
  assert.ok(!without.includes('</script><b>'), 'closing tag in data escaped');
});
