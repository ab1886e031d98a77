/**
 * Frames as CSV in the original's 23-column schema: write (plain or gzip, chosen by the file name), and
 * read with validation that names the line and column of the first bad value. Reading accepts the columns
 * in any order (extra columns are ignored), so the original workshop's recording loads as is; writing
 * always uses the original order.
 */
import { createWriteStream, readFileSync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import { createGzip, gunzipSync, type Gzip } from 'node:zlib';
import { createFrameColumns } from './frames';
import { NUMERIC_COLUMNS, RAW_COLUMNS, type FrameColumns, type NumericColumn } from './schema';

/** A CSV input problem, with where it is. `line` is 1-based and counts the header. */
export class CsvFormatError extends Error {
  constructor(
    readonly source: string,
    readonly line: number | undefined,
    readonly column: string | undefined,
    readonly problem: string,
  ) {
    super(`${source}${line !== undefined ? ` line ${line}` : ''}${column !== undefined ? `, column ${column}` : ''}: ${problem}`);
    this.name = 'CsvFormatError';
  }
}

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

const EVENT_TIME = -1;
const IGNORED = -2;
/** Powers of ten that are exact doubles (10^0 .. 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Loose check that a field looks like an ISO date-time (full parsing is left to the consumer). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}/;

/**
 * Parses CSV text incrementally (chunks may split lines anywhere) into growing columns. It never changes
 * anything outside itself, so a thrown error leaves the caller's state as it was.
 */
class FramesCsvParser {
  private line = 0;
  private rest = '';
  private width = 0;
  /** For each field of the file: the NUMERIC_COLUMNS index it fills, EVENT_TIME, or IGNORED. */
  private targetOf: number[] = [];
  private capacity: number;
  private columns: Float64Array[];
  private eventTime: string[];
  private lastTime = '';
  private length = 0;

  constructor(private readonly source: string, expectedRows = 1024) {
    this.capacity = Math.max(1, expectedRows);
    this.columns = NUMERIC_COLUMNS.map(() => new Float64Array(this.capacity));
    this.eventTime = new Array<string>(this.capacity);
  }

  push(chunk: string): void {
    let text = this.rest + chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.parseLine(text, start, nl);
      start = nl + 1;
    }
    this.rest = text.slice(start);
    text = '';
  }

  finish(): FrameColumns {
    if (this.rest.length > 0) this.parseLine(this.rest, 0, this.rest.length);
    this.rest = '';
    if (this.line === 0 || this.width === 0) throw new CsvFormatError(this.source, undefined, undefined, 'empty file: expected a header line with the columns ' + RAW_COLUMNS.join(','));
    const frames = createFrameColumns(0);
    frames.length = this.length;
    NUMERIC_COLUMNS.forEach((name, c) => {
      const column = this.columns[c];
      // The capacity is an upper bound from counting lines: a view wastes at most a few rows, a copy doubles memory.
      frames.columns[name] = column.length - this.length <= 16 ? column.subarray(0, this.length) : column.slice(0, this.length);
    });
    this.eventTime.length = this.length;
    frames.eventTime = this.eventTime;
    return frames;
  }

  private parseLine(text: string, start: number, end: number): void {
    this.line++;
    if (end > start && text.charCodeAt(end - 1) === 13) end--; // CRLF
    if (end === start) return; // blank lines carry no row
    if (this.width === 0) return this.parseHeader(text.slice(start, end));
    if (this.length === this.capacity) this.grow();
    const row = this.length;
    const targets = this.targetOf;
    const last = this.width - 1;
    let pos = start;
    // Scan the fields in place (no substrings): most numbers take the exact fast path below.
    for (let f = 0; f <= last; f++) {
      const target = targets[f];
      let fieldEnd: number;
      if (target >= 0) {
        // Fast path, exact: at most 15 significant digits and 22 decimals make mantissa and 10^decimals exact
        // doubles, and one correctly rounded division gives the same double as Number().
        let i = pos;
        let c = text.charCodeAt(i);
        const negative = c === 45;
        if (negative) c = text.charCodeAt(++i);
        let mantissa = 0;
        let significant = 0;
        let decimals = 0;
        let digits = 0;
        let dot = false;
        for (; i < end; c = text.charCodeAt(++i)) {
          if (c >= 48 && c <= 57) {
            mantissa = mantissa * 10 + (c - 48);
            digits++;
            if (mantissa !== 0) significant++;
            if (dot) decimals++;
          } else if (c === 46 && !dot) {
            dot = true;
          } else {
            break;
          }
        }
        if (digits > 0 && (i === end || c === 44) && significant <= 15 && decimals <= 22) {
          const v = decimals > 0 ? mantissa / POW10[decimals] : mantissa;
          this.columns[target][row] = negative ? -v : v;
          fieldEnd = i;
        } else {
          fieldEnd = text.indexOf(',', pos);
          if (fieldEnd < 0 || fieldEnd > end) fieldEnd = end;
          this.columns[target][row] = this.parseNumber(text.slice(pos, fieldEnd), target);
        }
      } else {
        fieldEnd = text.indexOf(',', pos);
        if (fieldEnd < 0 || fieldEnd > end) fieldEnd = end;
        if (target === EVENT_TIME) this.eventTime[row] = this.parseEventTime(text, pos, fieldEnd);
      }
      if (f < last) {
        if (fieldEnd >= end) this.fieldCountError(text, start, end);
        pos = fieldEnd + 1;
      } else if (fieldEnd !== end) {
        this.fieldCountError(text, start, end);
      }
    }
    this.length++;
  }

  /** Slow path for one numeric field: Number(), minus what Number() accepts but a CSV value must not be. */
  private parseNumber(s: string, column: number): number {
    const v = Number(s);
    const first = s.charCodeAt(0);
    const second = s.charCodeAt(1);
    if (
      !Number.isFinite(v) ||
      s.length === 0 ||
      !((first >= 48 && first <= 57) || first === 45 || first === 43 || first === 46) ||
      second === 120 || second === 88 || second === 98 || second === 66 || second === 111 || second === 79 ||
      s.charCodeAt(s.length - 1) <= 32
    ) {
      throw new CsvFormatError(this.source, this.line, NUMERIC_COLUMNS[column], `${JSON.stringify(s)} is not a number`);
    }
    return v;
  }

  private parseEventTime(text: string, from: number, to: number): string {
    const previous = this.lastTime;
    if (to - from === previous.length && text.startsWith(previous, from)) return previous; // rows of one step share one string
    const t = text.slice(from, to);
    if (!DATE_TIME.test(t)) throw new CsvFormatError(this.source, this.line, 'eventTime', `${JSON.stringify(t)} is not a date-time`);
    // A substring keeps its whole source chunk alive; concatenating and cutting makes V8 copy it.
    this.lastTime = `${t} `.slice(0, -1);
    return this.lastTime;
  }

  private fieldCountError(text: string, start: number, end: number): never {
    const found = text.slice(start, end).split(',').length;
    throw new CsvFormatError(this.source, this.line, undefined, `expected ${this.width} fields, found ${found}`);
  }

  private parseHeader(line: string): void {
    const names = line.replace(/^\uFEFF/, '').split(',').map((n) => n.trim().replace(/^"(.*)"$/, '$1'));
    const seen = new Set<string>();
    for (const n of names) {
      if (n !== '' && seen.has(n)) throw new CsvFormatError(this.source, this.line, n, 'column appears twice in the header');
      seen.add(n);
    }
    const missing = RAW_COLUMNS.filter((c) => !seen.has(c));
    if (missing.length > 0) {
      throw new CsvFormatError(this.source, this.line, undefined, `header is missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    }
    this.width = names.length;
    this.targetOf = names.map((n) => {
      if (n === 'eventTime') return EVENT_TIME;
      const c = (NUMERIC_COLUMNS as readonly string[]).indexOf(n);
      return c >= 0 ? c : IGNORED;
    });
  }

  private grow(): void {
    this.capacity *= 2;
    this.columns = this.columns.map((old) => {
      const bigger = new Float64Array(this.capacity);
      bigger.set(old);
      return bigger;
    });
  }
}

/**
 * Parses CSV text in the original schema into columns. `source` names the input in error messages, e.g.
 * `data.csv line 12, column voltage: "abc" is not a number`.
 */
export function parseFramesCsv(text: string, source = 'input'): FrameColumns {
  let lines = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines++;
  const parser = new FramesCsvParser(source, lines + 1);
  parser.push(text);
  return parser.finish();
}

/** Reads a CSV file (gzip-compressed or plain, recognised by its content) into columns, validating every value. */
export function readFramesCsv(path: string): FrameColumns {
  const source = basename(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new Error(`${path}: not a valid gzip file (${(err as Error).message})`);
    }
  }
  let lines = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) lines++;
  const parser = new FramesCsvParser(source, lines + 1); // an upper bound on rows: no regrowing
  // Decode in slices cut at line ends: bounded string sizes for files larger than V8's string limit.
  const slice = 16 << 20;
  for (let at = 0; at < bytes.length; ) {
    let end = Math.min(bytes.length, at + slice);
    if (end < bytes.length) {
      const nl = bytes.lastIndexOf(0x0a, end - 1);
      if (nl >= at) end = nl + 1;
    }
    parser.push(bytes.toString('utf8', at, end));
    at = end;
  }
  return parser.finish();
}
