/**
 * Raw frames from outside the agent (stdin, a socket, a file): one CSV row of the original workshop's 23
 * columns or one JSON object per line. Anything else is refused with a reason naming what was wrong.
 */
import { NUMERIC_COLUMNS, RAW_COLUMNS, type RawFrame } from '../turbine/schema';

/** A parsed frame, or why the line is not one. */
export type ParsedLine = { frame: RawFrame } | { problem: string };

const NUMERIC = new Set<string>(NUMERIC_COLUMNS);

/** Parses one input line (CSV row in RAW_COLUMNS order, or a JSON object); never throws. */
export function parseFrameLine(line: string): ParsedLine {
  const text = line.trim();
  if (text.length === 0) return { problem: 'empty line' };
  if (text.startsWith('{')) {
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'JSON line is not an object' };
      return { frame: value as RawFrame };
    } catch (err) {
      return { problem: `garbled JSON (${(err as Error).message})` };
    }
  }
  const fields = text.split(',');
  if (fields.length !== RAW_COLUMNS.length) return { problem: `${fields.length} fields, a frame has ${RAW_COLUMNS.length} (${RAW_COLUMNS.join(',')})` };
  if (fields[0] === RAW_COLUMNS[0]) return { problem: 'header line' };
  const frame: Record<string, number | string> = {};
  for (let i = 0; i < RAW_COLUMNS.length; i++) {
    const column = RAW_COLUMNS[i];
    if (!NUMERIC.has(column)) {
      frame[column] = fields[i];
      continue;
    }
    const raw = fields[i].trim();
    const value = raw === '' ? Number.NaN : Number(raw);
    if (Number.isNaN(value) && raw !== '' && raw.toLowerCase() !== 'nan') return { problem: `column ${column}: "${raw}" is not a number` };
    frame[column] = value;
  }
  return { frame: frame as unknown as RawFrame };
}
