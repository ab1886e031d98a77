import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataFrame } from 'danfojs-node';
import { simulateFarm } from '../turbine';
import { dataFrameHtml, dataFrameText, framesDataFrame, showDataFrame } from './data-frames';

const farm = simulateFarm({ turbines: 2, minutes: 0.5, seed: 3 });

test('typed-array frames become a DataFrame of the chosen columns, values unchanged', () => {
  const df = framesDataFrame(farm.frames, ['eventTime', 'turbineId', 'rps']);
  assert.deepEqual(df.columns, ['eventTime', 'turbineId', 'rps']);
  assert.deepEqual(df.shape, [farm.frames.length, 3]);
  const values = df.values as unknown[][];
  for (const i of [0, 7, farm.frames.length - 1]) assert.deepEqual(values[i], [farm.frames.eventTime[i], farm.frames.columns.turbineId[i], farm.frames.columns.rps[i]]);
  assert.equal(framesDataFrame(farm.frames).columns.length, 23);
  assert.equal(dataFrameText(df.head(2)).split('\n').length, 3);
});

test('per-turbine groupby and describe work on the frame', () => {
  const df = framesDataFrame(farm.frames, ['turbineId', 'rps']);
  const byTurbine = df.groupby(['turbineId']).agg({ rps: ['count'] });
  assert.deepEqual(byTurbine.values, [[0, farm.frames.length / 2], [1, farm.frames.length / 2]]);
  assert.deepEqual(df.describe().index.slice(0, 2), ['count', 'mean']);
  assert.match(dataFrameHtml(byTurbine), /<th>rps_count<\/th>/);
});

test('bad columns are refused with the reason', () => {
  assert.throws(() => framesDataFrame(farm.frames, ['rps', 'speed' as never]), /unknown frame column\(s\) "speed"; columns are nanoId/);
  assert.throws(() => framesDataFrame(farm.frames, []), /at least one column/);
  assert.throws(() => framesDataFrame(farm.frames, ['rps', 'rps']), /named twice/);
  assert.throws(() => dataFrameText(new DataFrame({ a: [1] }), '', { maxRows: 0 }), /maxRows must be a positive integer, got 0/);
});

test('HTML and text tables: caption, escaped cells, rounded numbers, rows left out are counted', () => {
  const df = new DataFrame({ name: ['<b>', 'x&y', 'z'], value: [1.23456789, 2, 3] });
  const html = dataFrameHtml(df, 'a < b', { maxRows: 2 });
  assert.match(html, /<caption>a &lt; b<\/caption>/);
  assert.match(html, /<td>&lt;b&gt;<\/td><td>1.2346<\/td>/);
  assert.match(html, /<td>x&amp;y<\/td><td>2<\/td>/);
  assert.doesNotMatch(html, /<td>z<\/td>/);
  assert.match(html, /1 more rows \(3 × 2\)/);
  const text = dataFrameText(df, 'caption', { digits: 3 }).split('\n');
  assert.deepEqual(text, ['caption', '   name  value', '0   <b>   1.23', '1   x&y      2', '2     z      3']);
});

test('outside a notebook kernel the table is printed as text', (t) => {
  const log = t.mock.method(console, 'log', () => undefined);
  showDataFrame(new DataFrame({ a: [1, 2] }), 'two rows');
  assert.equal(log.mock.callCount(), 1);
  assert.equal(log.mock.calls[0].arguments[0], 'two rows\n   a\n0  1\n1  2');
});
