/**
 * Frames to CSV in the original's 23-column order: numbers formatted straight into bytes (no per-value
 * strings), streamed to a plain or gzip file chosen by the name, which appears only when complete.
 */
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';
import { CsvFormatError } from './csv-error';
import { NUMERIC_COLUMNS, RAW_COLUMNS, type FrameColumns, type NumericColumn } from './schema';

/** The header line every written file starts with (the original's columns and order). */
export const CSV_HEADER = RAW_COLUMNS.join(',');

const ZEROS = ['', '0', '00', '000', '0000', '00000'];

/**
 * Formats a number so that parsing the text gives the same double back, fast for the simulator's values
 * (integers and numbers with at most six decimals go through integer formatting), else the shortest
 * round-trip form. The same number always gives the same text, on every machine.
 */
export function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  if (x > -2000 && x < 2000) {
    const k = Math.round(x * 1e6);
    if (k / 1e6 === x) {
      // x is the double nearest to k / 10^6, so the decimal text of k / 10^6 parses back to exactly x.
      const neg = k < 0;
      const a = neg ? -k : k;
      const ip = Math.floor(a / 1e6);
      let fp = a - ip * 1e6;
      let digits = 6;
      while (fp % 10 === 0) {
        fp /= 10;
        digits--;
      }
      const fs = String(fp);
      return `${neg ? '-' : ''}${ip}.${ZEROS[digits - fs.length]}${fs}`;
    }
  }
  return String(x);
}

/** Throws a CsvFormatError naming the first row and column whose value cannot be written. */
function validateForWrite(frames: FrameColumns, target: string): void {
  if (!Number.isInteger(frames.length) || frames.length < 0) throw new Error(`${target}: frames.length must be a non-negative integer`);
  if (frames.eventTime.length < frames.length) throw new Error(`${target}: eventTime has ${frames.eventTime.length} rows, expected ${frames.length}`);
  for (const name of NUMERIC_COLUMNS) {
    const col = frames.columns[name];
    if (!col || col.length < frames.length) throw new Error(`${target}: column ${name} has ${col ? col.length : 0} rows, expected ${frames.length}`);
    for (let i = 0; i < frames.length; i++) {
      if (!Number.isFinite(col[i])) throw new CsvFormatError(target, i + 2, name, `${col[i]} is not a finite number`);
    }
  }
  for (let i = 0; i < frames.length; i++) {
    const t = frames.eventTime[i];
    if (typeof t !== 'string' || t.length === 0 || t.includes(',') || t.includes('\n')) {
      throw new CsvFormatError(target, i + 2, 'eventTime', `${JSON.stringify(t)} is not an eventTime`);
    }
  }
}

/** Writes the ASCII digits of a non-negative integer v (< 2^53) at pos; returns the position after them. */
function putDigits(buf: Uint8Array, pos: number, v: number): number {
  if (v < 10) {
    buf[pos] = 48 + v;
    return pos + 1;
  }
  let n = 0;
  for (let t = v; t >= 1; t = Math.floor(t / 10)) n++;
  let at = pos + n - 1;
  for (let t = v; at >= pos; at--) {
    const q = Math.floor(t / 10);
    buf[at] = 48 + (t - q * 10);
    t = q;
  }
  return pos + n;
}

/** Writes a string's characters (ASCII expected) at pos; returns the position after them. */
function putText(buf: Uint8Array, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
  return pos;
}

/** Writes formatNumber(x) as bytes at pos without building a string; returns the position after it. */
function putNumber(buf: Uint8Array, pos: number, x: number): number {
  if (Number.isInteger(x) && x > -1e15 && x < 1e15) {
    if (x < 0) {
      buf[pos++] = 45;
      x = -x;
    }
    return putDigits(buf, pos, x);
  }
  if (x > -2000 && x < 2000) {
    const k = Math.round(x * 1e6);
    if (k / 1e6 === x) {
      let a = k;
      if (k < 0) {
        buf[pos++] = 45;
        a = -k;
      }
      const ip = Math.floor(a / 1e6);
      let fp = a - ip * 1e6;
      pos = putDigits(buf, pos, ip);
      buf[pos++] = 46;
      let digits = 6;
      while (fp % 10 === 0) {
        fp /= 10;
        digits--;
      }
      // fp has `digits` decimals once leading zeros are written.
      let width = 1;
      for (let t = fp; t >= 10; t = Math.floor(t / 10)) width++;
      for (let z = digits - width; z > 0; z--) buf[pos++] = 48;
      return putDigits(buf, pos, fp);
    }
  }
  return putText(buf, pos, String(x));
}

/** Longest text putNumber or an eventTime can produce, with the comma: a bound for buffer sizing. */
const MAX_FIELD_BYTES = 40;

/** CSV bytes (ASCII) of rows [start, end) without the header, each line ending in a newline. */
export function formatFrameRowsBytes(frames: FrameColumns, start = 0, end = frames.length): Buffer {
  const cols = RAW_COLUMNS.map((name) => (name === 'eventTime' ? null : frames.columns[name as NumericColumn]));
  const width = cols.length;
  let buf = Buffer.allocUnsafe(Math.max(1024, (end - start) * 220));
  let pos = 0;
  for (let i = start; i < end; i++) {
    if (pos + width * MAX_FIELD_BYTES + 64 > buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, pos);
      buf = bigger;
    }
    for (let c = 0; c < width; c++) {
      const col = cols[c];
      if (c > 0) buf[pos++] = 44;
      if (col === null) {
        const t = frames.eventTime[i];
        if (t.length > 64) throw new Error(`row ${i}: eventTime is too long`);
        pos = putText(buf, pos, t);
      } else {
        pos = putNumber(buf, pos, col[i]);
      }
    }
    buf[pos++] = 10;
  }
  return buf.subarray(0, pos);
}

/** CSV text of rows [start, end) without the header, one line per row, each ending in a newline. */
export function formatFrameRows(frames: FrameColumns, start = 0, end = frames.length): string {
  return formatFrameRowsBytes(frames, start, end).toString('latin1');
}

/** The whole CSV text (header and rows) of frames; for small data sets. */
export function formatFramesCsv(frames: FrameColumns): string {
  validateForWrite(frames, 'frames');
  return `${CSV_HEADER}\n${formatFrameRows(frames)}`;
}

/**
 * Streams frame blocks to a CSV file, gzip-compressed if the path ends in .gz. It writes to a temporary
 * file beside the target and renames it on close(), so a failed or aborted run never leaves a partial file
 * under the target name.
 */
export class FramesCsvWriter {
  private readonly tmpPath: string;
  private readonly file: WriteStream;
  private readonly sink: Gzip | WriteStream;
  private failure: Error | null = null;
  private closed = false;
  private rows = 0;

  private constructor(readonly path: string) {
    this.tmpPath = `${path}.tmp-${process.pid}-${Date.now()}`;
    this.file = createWriteStream(this.tmpPath);
    this.file.on('error', (err) => (this.failure ??= err));
    if (path.endsWith('.gz')) {
      const gzip = createGzip({ level: 3 });
      gzip.on('error', (err) => (this.failure ??= err));
      gzip.pipe(this.file);
      this.sink = gzip;
    } else {
      this.sink = this.file;
    }
    this.sink.write(`${CSV_HEADER}\n`);
  }

  /** Opens a writer for path (.csv or .csv.gz). */
  static create(path: string): FramesCsvWriter {
    if (!/\.csv(\.gz)?$/.test(path)) throw new Error(`${path}: output file name must end in .csv or .csv.gz`);
    return new FramesCsvWriter(path);
  }

  /** Rows written so far. */
  get rowsWritten(): number {
    return this.rows;
  }

  /** Appends frames (validated first: a bad value throws before anything of this block is written). */
  async write(frames: FrameColumns): Promise<void> {
    if (this.closed) throw new Error(`${this.path}: writer is closed`);
    validateForWrite(frames, basename(this.path));
    const chunkRows = 8192;
    for (let at = 0; at < frames.length; at += chunkRows) {
      if (this.failure) throw this.failure;
      const text = formatFrameRowsBytes(frames, at, Math.min(frames.length, at + chunkRows));
      if (!this.sink.write(text)) await new Promise<void>((resolve) => this.sink.once('drain', resolve));
    }
    this.rows += frames.length;
  }

  /** Finishes the file and moves it to its name. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve, reject) => {
      this.file.once('close', resolve);
      this.file.once('error', reject);
      this.sink.end();
    });
    if (this.failure) {
      rmSync(this.tmpPath, { force: true });
      throw this.failure;
    }
    renameOrRemove(this.tmpPath, this.path);
  }

  /** Stops writing and removes the temporary file; the target is left as it was. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.file.once('close', resolve);
      this.sink.end();
    });
    rmSync(this.tmpPath, { force: true });
  }
}

/** Move a finished temporary file to its name; when that fails, remove it and throw (nothing is left behind). */
export function renameOrRemove(tmpPath: string, path: string): void {
  try {
    renameSync(tmpPath, path);
  } catch (err) {
    rmSync(tmpPath, { force: true });
    throw err;
  }
}

/** Writes frames to path as CSV (gzip if the name ends in .gz). The file appears only when complete. */
export async function writeFramesCsv(frames: FrameColumns, path: string): Promise<void> {
  const writer = FramesCsvWriter.create(path);
  try {
    await writer.write(frames);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  await writer.close();
}
