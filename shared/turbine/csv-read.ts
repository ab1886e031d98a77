/**
 * CSV to frames, validating every value: an error names the line and column of the first bad one. The
 * columns may come in any order (extra ones are ignored), so the original workshop's recording loads as is.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CsvFormatError } from './csv-error';
import { createFrameColumns } from './frames';
import { NUMERIC_COLUMNS, RAW_COLUMNS, type FrameColumns, type NumericColumn } from './schema';

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
