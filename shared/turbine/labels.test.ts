import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CsvFormatError } from './csv';
import type { FaultLabel } from './faults';
import { FarmSimulator, simulateFarm } from './farm';
import { LABELS_HEADER, formatLabelsCsv, labelIndexByRow, labelsPathFor, parseLabelsCsv, readLabelsCsv, writeLabelsCsv } from './labels';

test('labels file: exact header, kind as <kind>:<severity>, round trip', async () => {
  const { labels } = simulateFarm({ turbines: 2, minutes: 10, seed: 8, faults: true });
  assert.ok(labels.length > 3);
  const text = formatLabelsCsv(labels);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'turbineId,start,end,kind');
  const l = labels[0];
  assert.equal(lines[1], `${l.turbineId},${l.start},${l.end},${l.kind}:${l.severity}`);
  assert.deepEqual(parseLabelsCsv(text), labels);
  const dir = await mkdtemp(join(tmpdir(), 'turbine-labels-'));
  try {
    const path = join(dir, 'farm.labels.csv');
    writeLabelsCsv(labels, path);
    assert.equal(readFileSync(path, 'utf8'), text);
    assert.deepEqual(readLabelsCsv(path), labels);
    assert.throws(() => writeLabelsCsv([{ ...l, kind: 'wob,ble' }], join(dir, 'bad.labels.csv')), /fault kind "wob,ble" is not a name/);
    assert.equal(existsSync(join(dir, 'bad.labels.csv')), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the labels file sits beside its data file', () => {
  assert.equal(labelsPathFor('data/farm.csv.gz'), 'data/farm.labels.csv');
  assert.equal(labelsPathFor('data/farm.csv'), 'data/farm.labels.csv');
  assert.equal(labelsPathFor('x.y.csv.gz'), 'x.y.labels.csv');
});

test('bad labels input names the line and column', () => {
  const row = '1,2021-03-01T12:00:00.000000+00:00,2021-03-01T12:00:10.000000+00:00,vib:mild';
  const ok = `${LABELS_HEADER}\n${row}\n`;
  assert.equal(parseLabelsCsv(ok).length, 1);
  const cases: Array<[string, RegExp, number, string | undefined]> = [
    ['turbineId,start,end,kind,severity\n', /line 1: header must be exactly "turbineId,start,end,kind"/, 1, undefined],
    [`${LABELS_HEADER}\n1,2021-03-01T12:00:00Z,vib:mild\n`, /line 2: expected 4 fields, found 3/, 2, undefined],
    [`${LABELS_HEADER}\n${row}\nx,2021-03-01T12:00:00Z,2021-03-01T12:00:01Z,vib:mild\n`, /line 3, column turbineId: "x" is not a non-negative integer/, 3, 'turbineId'],
    [`${LABELS_HEADER}\n1,soon,2021-03-01T12:00:01Z,vib:mild\n`, /line 2, column start: "soon" is not a date-time/, 2, 'start'],
    [`${LABELS_HEADER}\n1,2021-03-01T12:00:05Z,2021-03-01T12:00:01Z,vib:mild\n`, /line 2, column end: .* is before start/, 2, 'end'],
    [`${LABELS_HEADER}\n1,2021-03-01T12:00:00Z,2021-03-01T12:00:01Z,vib:extreme\n`, /line 2, column kind: "vib:extreme" is not <kind> or <kind>:<severity>/, 2, 'kind'],
    [`${LABELS_HEADER}\n1,2021-03-01T12:00:00Z,2021-03-01T12:00:01Z,vib:mild:x\n`, /column kind: "vib:mild:x"/, 2, 'kind'],
    [`${LABELS_HEADER}\n1,2021-03-01T12:00:00Z,2021-03-01T12:00:01Z,blade icing\n`, /column kind: "blade icing"/, 2, 'kind'],
    [`${LABELS_HEADER}\n1,2021-03-01T12:00:00Z,2021-03-01T12:00:01Z,\n`, /column kind: ""/, 2, 'kind'],
  ];
  for (const [text, message, line, column] of cases) {
    let result: FaultLabel[] | undefined;
    assert.throws(
      () => (result = parseLabelsCsv(text, 'farm.labels.csv')),
      (err: unknown) => err instanceof CsvFormatError && message.test(err.message) && err.line === line && err.column === column && err.message.startsWith('farm.labels.csv line'),
      text,
    );
    assert.equal(result, undefined);
  }
});

test('labelIndexByRow marks exactly the scheduled frames of the labelled turbine', () => {
  const farm = new FarmSimulator({ turbines: 3, minutes: 8, seed: 12, faults: true });
  const { frames, labels } = simulateFarm({ turbines: 3, minutes: 8, seed: 12, faults: true });
  const rows = labelIndexByRow(frames, labels);
  const expected = new Int32Array(frames.length).fill(-1);
  for (const f of farm.schedule) {
    const index = labels.findIndex((l) => l.turbineId === f.turbineId && l.start === frames.eventTime[f.startFrame * 3]);
    assert.ok(index >= 0);
    for (let k = f.startFrame; k < f.startFrame + f.durationFrames; k++) expected[k * 3 + f.turbineId] = index;
  }
  assert.deepEqual(rows, expected);
  assert.ok(rows.some((x) => x >= 0));
});

test("a user's own fault kinds: any name, severity optional, written back as read", () => {
  const text = `${LABELS_HEADER}\n3,2021-03-01T12:00:00Z,2021-03-01T12:00:09Z,blade_icing\n4,2021-03-01T12:01:00Z,2021-03-01T12:01:30Z,pitch_bearing:severe\n0,2021-03-01T12:02:00Z,2021-03-01T12:02:01Z,vib:mild\n`;
  const labels = parseLabelsCsv(text);
  assert.deepEqual(labels, [
    { turbineId: 3, start: '2021-03-01T12:00:00Z', end: '2021-03-01T12:00:09Z', kind: 'blade_icing' },
    { turbineId: 4, start: '2021-03-01T12:01:00Z', end: '2021-03-01T12:01:30Z', kind: 'pitch_bearing', severity: 'severe' },
    { turbineId: 0, start: '2021-03-01T12:02:00Z', end: '2021-03-01T12:02:01Z', kind: 'vib', severity: 'mild' },
  ]);
  assert.equal(formatLabelsCsv(labels), text);
});
