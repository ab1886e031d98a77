/**
 * Turbine simulator and CSV throughput. Simulation is compared with filling the same 22 columns from the
 * same PRNG alone (the floor any seeded simulator pays); CSV writing with the naive `String(x)` + join
 * formatting; CSV reading with splitting the same text into fields without parsing numbers.
 */
import { gzipSync } from 'node:zlib';
import type { BenchLine } from '../bench/types';
import { formatFrameRowsBytes, parseFramesCsv, CSV_HEADER } from './csv';
import { simulateFarm } from './farm';
import { columnList, createFrameColumns } from './frames';
import { Random } from './random';
import { RAW_COLUMNS, type FrameColumns, type NumericColumn } from './schema';

export const name = 'turbine simulator and CSV';

const TURBINES = 4;
const MINUTES = 60; // 4 turbines x 60 min = 288,000 frames

/** Best of `repeats` timings of fn, in ms (the machine is shared; the best run is the least disturbed). */
function bestMs(repeats: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

function prngFill(rows: number): void {
  const frames = createFrameColumns(rows);
  const cols = columnList(frames);
  const rng = new Random('bench');
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols.length; c++) cols[c][i] = rng.normal();
}

function naiveCsv(frames: FrameColumns): string {
  const lines: string[] = [CSV_HEADER];
  for (let i = 0; i < frames.length; i++) {
    lines.push(RAW_COLUMNS.map((c) => (c === 'eventTime' ? frames.eventTime[i] : String(frames.columns[c as NumericColumn][i]))).join(','));
  }
  return lines.join('\n');
}

/** Runs the measurements (about 10 s). */
export async function run(): Promise<BenchLine[]> {
  const rows = TURBINES * MINUTES * 1200;
  simulateFarm({ turbines: TURBINES, minutes: 5, seed: 1, faults: true }); // warm up the JIT
  let frames: FrameColumns = createFrameColumns(0);
  const simMs = bestMs(3, () => {
    frames = simulateFarm({ turbines: TURBINES, minutes: MINUTES, seed: 1, faults: true }).frames;
  });
  const fillMs = bestMs(3, () => prngFill(rows));

  let bytes = Buffer.alloc(0);
  const writeMs = bestMs(3, () => {
    bytes = formatFrameRowsBytes(frames);
  });
  const naiveMs = bestMs(3, () => naiveCsv(frames));
  const text = `${CSV_HEADER}\n${bytes.toString('latin1')}`;
  const gzipMs = bestMs(1, () => gzipSync(bytes, { level: 3 }));

  const readMs = bestMs(3, () => parseFramesCsv(text, 'bench.csv'));
  const splitMs = bestMs(3, () => {
    let fields = 0;
    for (const line of text.split('\n')) fields += line.split(',').length;
    if (fields === 0) throw new Error('nothing split');
  });

  const perS = (n: number, ms: number): number => (n / ms) * 1000;
  return [
    {
      label: `simulateFarm (${TURBINES} turbines x ${MINUTES} min, faults)`,
      value: perS(rows, simMs),
      unit: 'frames/s',
      baseline: { label: 'PRNG normal deviates into the same 22 columns', value: perS(rows, fillMs) },
    },
    {
      label: 'CSV formatting (bytes, no gzip)',
      value: perS(rows, writeMs),
      unit: 'rows/s',
      baseline: { label: 'String(x) per value + join', value: perS(rows, naiveMs) },
      note: `${(bytes.length / rows).toFixed(0)} bytes/row; gzip level 3 alone: ${Math.round(perS(rows, gzipMs)).toLocaleString('en-US')} rows/s`,
    },
    {
      label: 'CSV parsing with validation',
      value: perS(rows, readMs),
      unit: 'rows/s',
      baseline: { label: 'splitting lines and fields only', value: perS(rows, splitMs) },
    },
  ];
}
