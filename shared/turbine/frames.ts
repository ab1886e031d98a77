/**
 * Helpers for frames stored column-wise (FrameColumns): allocate, take one row, slice, and split a farm's
 * interleaved rows into one series per turbine.
 */
import { NUMERIC_COLUMNS, type FrameColumns, type NumericColumn, type RawFrame } from './schema';

/** Empty columns for `length` frames (numbers zero, eventTime empty strings). */
export function createFrameColumns(length: number): FrameColumns {
  const columns = {} as { [K in NumericColumn]: Float64Array };
  for (const name of NUMERIC_COLUMNS) columns[name] = new Float64Array(length);
  return { length, eventTime: new Array<string>(length).fill(''), columns };
}

/** The numeric columns as an array in NUMERIC_COLUMNS order (for loops over every column). */
export function columnList(frames: FrameColumns): Float64Array[] {
  return NUMERIC_COLUMNS.map((name) => frames.columns[name]);
}

/** Row i as a RawFrame object. */
export function frameAt(frames: FrameColumns, i: number): RawFrame {
  if (!Number.isInteger(i) || i < 0 || i >= frames.length) throw new RangeError(`row ${i} is outside 0..${frames.length - 1}`);
  const frame = { eventTime: frames.eventTime[i] } as RawFrame;
  for (const name of NUMERIC_COLUMNS) frame[name] = frames.columns[name][i];
  return frame;
}

/** Rows [start, end) as new columns (copies, so the result owns its data). */
export function sliceFrames(frames: FrameColumns, start: number, end: number = frames.length): FrameColumns {
  const s = Math.max(0, Math.min(frames.length, start));
  const e = Math.max(s, Math.min(frames.length, end));
  const columns = {} as { [K in NumericColumn]: Float64Array };
  for (const name of NUMERIC_COLUMNS) columns[name] = frames.columns[name].slice(s, e);
  return { length: e - s, eventTime: frames.eventTime.slice(s, e), columns };
}

/** The given rows, in the given order, as new columns. */
export function selectRows(frames: FrameColumns, rows: ArrayLike<number>): FrameColumns {
  const out = createFrameColumns(rows.length);
  for (const name of NUMERIC_COLUMNS) {
    const src = frames.columns[name];
    const dst = out.columns[name];
    for (let j = 0; j < rows.length; j++) dst[j] = src[rows[j]];
  }
  for (let j = 0; j < rows.length; j++) out.eventTime[j] = frames.eventTime[rows[j]];
  return out;
}

/** One series per turbine (by the turbineId column), rows kept in file order, turbines in ascending id. */
export function splitByTurbine(frames: FrameColumns): Map<number, FrameColumns> {
  const ids = frames.columns.turbineId;
  const rowsById = new Map<number, number[]>();
  for (let i = 0; i < frames.length; i++) {
    const id = ids[i];
    let rows = rowsById.get(id);
    if (!rows) rowsById.set(id, (rows = []));
    rows.push(i);
  }
  const result = new Map<number, FrameColumns>();
  for (const id of [...rowsById.keys()].sort((a, b) => a - b)) result.set(id, selectRows(frames, rowsById.get(id)!));
  return result;
}

/** Concatenates frame blocks into one FrameColumns. */
export function concatFrames(blocks: FrameColumns[]): FrameColumns {
  const total = blocks.reduce((n, b) => n + b.length, 0);
  const out = createFrameColumns(total);
  let at = 0;
  for (const b of blocks) {
    for (const name of NUMERIC_COLUMNS) out.columns[name].set(b.columns[name].subarray(0, b.length), at);
    for (let i = 0; i < b.length; i++) out.eventTime[at + i] = b.eventTime[i];
    at += b.length;
  }
  return out;
}
