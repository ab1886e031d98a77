import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CSV_HEADER, CsvFormatError, formatFramesCsv, formatNumber, parseFramesCsv, readFramesCsv, writeFramesCsv } from './csv';
import { simulateFarm } from './farm';
import { Random } from './random';
import { NUMERIC_COLUMNS, RAW_COLUMNS, type FrameColumns } from './schema';

const fixture = join(__dirname, 'fixtures', 'original-input.csv');

function assertSameFrames(a: FrameColumns, b: FrameColumns): void {
  assert.equal(a.length, b.length);
  assert.deepEqual(a.eventTime.slice(0, a.length), b.eventTime.slice(0, b.length));
  for (const c of NUMERIC_COLUMNS) assert.deepEqual(a.columns[c].subarray(0, a.length), b.columns[c].subarray(0, b.length), c);
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'turbine-csv-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A small valid CSV text in the original schema (3 rows from the fixture). */
const fixtureText = readFileSync(fixture, 'utf8');
const smallText = fixtureText.split('\n').slice(0, 4).join('\n') + '\n';

test('the original workshop file loads as is', () => {
  const frames = readFramesCsv(fixture);
  assert.equal(frames.length, 1200);
  assert.equal(frames.eventTime[1], '2021-03-01T12:00:00.050000+00:00');
  assert.equal(frames.columns.voltage[0], 43);
  assert.equal(frames.columns.qw[0], 0.99873221128541811);
  assert.equal(frames.columns.wind_speed_rps[0], 2.1499999999999999);
  assert.equal(frames.columns.arduino_timestamp[1199], 60950);
});

test('simulated frames survive a CSV round trip bit for bit, plain and gzip', async () => {
  const { frames } = simulateFarm({ turbines: 4, minutes: 10, seed: 4, faults: true });
  assertSameFrames(parseFramesCsv(formatFramesCsv(frames)), frames);
  await withTempDir(async (dir) => {
    await writeFramesCsv(frames, join(dir, 'farm.csv.gz'));
    await writeFramesCsv(frames, join(dir, 'farm.csv'));
    const gz = readFileSync(join(dir, 'farm.csv.gz'));
    assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b]);
    assert.ok(readFileSync(join(dir, 'farm.csv'), 'utf8').startsWith(`${CSV_HEADER}\n`));
    assertSameFrames(readFramesCsv(join(dir, 'farm.csv.gz')), frames);
    assertSameFrames(readFramesCsv(join(dir, 'farm.csv')), frames);
    // gzip is recognised by content, not by name
    writeFileSync(join(dir, 'named-plain.csv'), gzipSync(readFileSync(join(dir, 'farm.csv'))));
    assertSameFrames(readFramesCsv(join(dir, 'named-plain.csv')), frames);
  });
});

test('numbers are written so they parse back to the same double', () => {
  const rng = new Random('format');
  for (let i = 0; i < 20000; i++) {
    const raw = rng.normal() * 10 ** rng.integer(-8, 5);
    for (const x of [raw, Math.round(raw * 1e6) / 1e6, Math.round(raw * 1e4) / 1e4, Math.round(raw)]) {
      const text = formatNumber(x);
      assert.equal(Number(text), Object.is(x, -0) ? 0 : x, `${x} -> ${text}`);
    }
  }
  assert.equal(formatNumber(0.5), '0.5');
  assert.equal(formatNumber(-0.000012), '-0.000012');
  assert.equal(formatNumber(1013.25), '1013.25');
  assert.equal(formatNumber(43), '43');
  assert.equal(formatNumber(0.99873221128541811), '0.9987322112854181');
});

test('columns in another order and extra columns load; CRLF and a BOM are accepted', () => {
  const lines = smallText.trimEnd().split('\n').map((l) => l.split(','));
  const order = [...RAW_COLUMNS].reverse();
  const idx = order.map((c) => RAW_COLUMNS.indexOf(c));
  const shuffled = lines.map((fields, n) => [...idx.map((i) => fields[i]), n === 0 ? 'note' : 'x'].join(',')).join('\r\n');
  const a = parseFramesCsv(`\uFEFF${shuffled}\r\n`);
  const b = parseFramesCsv(smallText);
  assertSameFrames(a, b);
});

/** Expects parsing to throw a CsvFormatError whose message matches. */
function expectError(text: string, message: RegExp, line?: number, column?: string): void {
  let result: FrameColumns | undefined;
  assert.throws(
    () => {
      result = parseFramesCsv(text, 'data.csv');
    },
    (err: unknown) => {
      assert.ok(err instanceof CsvFormatError, String(err));
      assert.match(err.message, message);
      assert.equal(err.line, line);
      assert.equal(err.column, column);
      return true;
    },
  );
  assert.equal(result, undefined); // no partial result
}

/** smallText with row `row` (1-based data row) changed by fn. */
function editRow(row: number, fn: (fields: string[]) => string[]): string {
  const lines = smallText.split('\n');
  lines[row] = fn(lines[row].split(',')).join(',');
  return lines.join('\n');
}

const col = (name: string): number => RAW_COLUMNS.indexOf(name as (typeof RAW_COLUMNS)[number]);

test('bad CSV input names the line and column, and returns nothing', () => {
  expectError(editRow(2, (f) => f.slice(0, 5)), /^data\.csv line 3: expected 23 fields, found 5$/, 3);
  expectError(editRow(1, (f) => [...f, '7']), /^data\.csv line 2: expected 23 fields, found 24$/, 2);
  expectError(editRow(3, (f) => Object.assign([...f], { [col('voltage')]: 'abc' })), /^data\.csv line 4, column voltage: "abc" is not a number$/, 4, 'voltage');
  expectError(editRow(2, (f) => Object.assign([...f], { [col('qx')]: 'NaN' })), /^data\.csv line 3, column qx: "NaN" is not a number$/, 3, 'qx');
  expectError(editRow(1, (f) => Object.assign([...f], { [col('rps')]: '' })), /line 2, column rps: "" is not a number/, 2, 'rps');
  expectError(editRow(1, (f) => Object.assign([...f], { [col('gas')]: 'Infinity' })), /line 2, column gas: "Infinity" is not a number/, 2, 'gas');
  expectError(editRow(1, (f) => Object.assign([...f], { [col('ax')]: '0x10' })), /line 2, column ax: "0x10" is not a number/, 2, 'ax');
  expectError(editRow(1, (f) => Object.assign([...f], { [col('ay')]: ' 1' })), /line 2, column ay: " 1" is not a number/, 2, 'ay');
  expectError(editRow(2, (f) => Object.assign([...f], { [col('eventTime')]: 'noon' })), /line 3, column eventTime: "noon" is not a date-time/, 3, 'eventTime');
  const withoutVoltageAndRps = smallText
    .split('\n')
    .map((l) => l.split(',').filter((_, i) => i !== col('voltage') && i !== col('rps')).join(','))
    .join('\n');
  expectError(withoutVoltageAndRps, /^data\.csv line 1: header is missing columns rps, voltage$/, 1);
  expectError(smallText.replace('nanoId,', 'nanoId,qw,'), /line 1, column qw: column appears twice in the header/, 1, 'qw');
  expectError('', /^data\.csv: empty file: expected a header line/);
});

test('readFramesCsv names the file; a bad value or missing file throws, a writer error leaves no file', async () => {
  await withTempDir(async (dir) => {
    const bad = join(dir, 'bad.csv.gz');
    writeFileSync(bad, gzipSync(editRow(2, (f) => Object.assign([...f], { [col('voltage')]: 'abc' }))));
    assert.throws(() => readFramesCsv(bad), /bad\.csv\.gz line 3, column voltage: "abc" is not a number$/);
    assert.throws(() => readFramesCsv(join(dir, 'missing.csv')), /missing\.csv: cannot read \(ENOENT\)/);
    writeFileSync(join(dir, 'broken.csv.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    assert.throws(() => readFramesCsv(join(dir, 'broken.csv.gz')), /broken\.csv\.gz: not a valid gzip file/);

    const frames = parseFramesCsv(smallText);
    frames.columns.voltage[1] = Number.NaN;
    const target = join(dir, 'out.csv.gz');
    await assert.rejects(writeFramesCsv(frames, target), /out\.csv\.gz line 3, column voltage: NaN is not a finite number/);
    assert.equal(existsSync(target), false);
    writeFileSync(target, 'before');
    await assert.rejects(writeFramesCsv(frames, target), /not a finite number/);
    assert.equal(readFileSync(target, 'utf8'), 'before');
    await assert.rejects(writeFramesCsv(frames, join(dir, 'out.txt')), /must end in \.csv or \.csv\.gz/);
  });
});

test('numbers parse to exactly what Number() gives, in every notation a CSV may hold', () => {
  const rng = new Random('parse');
  const values: string[] = ['0', '-0', '5.', '+5', '.5', '-.25', '1e-3', '2.5E+4', '0.1', '123456789012345678', '0.000000000000000000000123', '9007199254740993'];
  for (let i = 0; i < 5000; i++) {
    const x = rng.normal() * 10 ** rng.integer(-12, 12);
    values.push(String(x), x.toFixed(rng.integer(0, 20)), x.toPrecision(rng.integer(1, 21)), x.toExponential(rng.integer(0, 18)));
  }
  const header = smallText.split('\n')[0];
  const row = smallText.split('\n')[1].split(',');
  const v = col('voltage');
  const text = [header, ...values.map((s) => Object.assign([...row], { [v]: s }).join(','))].join('\n');
  const frames = parseFramesCsv(text);
  assert.equal(frames.length, values.length);
  values.forEach((s, i) => assert.ok(Object.is(frames.columns.voltage[i], Number(s)), `${s}: ${frames.columns.voltage[i]} vs ${Number(s)}`));
});
