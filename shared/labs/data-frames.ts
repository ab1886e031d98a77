/**
 * The tables participants explore, as danfojs DataFrames (pandas' API): the simulator's typed-array frames
 * become a DataFrame, and a DataFrame shows as an HTML table in a notebook cell (plain text outside one).
 * The pipeline itself stays on typed arrays; a DataFrame is made only to look at the data.
 */
import { DataFrame } from 'danfojs-node';
import { kernelDisplayWriter } from '../plots/notebook-display';
import { RAW_COLUMNS, type FrameColumns, type RawColumn } from '../turbine/schema';

/** Frames (typed arrays, one per column) as a DataFrame of the given columns, in that order (default: all 23). */
export function framesDataFrame(frames: FrameColumns, columns: readonly RawColumn[] = RAW_COLUMNS): DataFrame {
  if (columns.length === 0) throw new Error('framesDataFrame needs at least one column');
  const unknown = columns.filter((c) => !(RAW_COLUMNS as readonly string[]).includes(c));
  if (unknown.length > 0) throw new Error(`unknown frame column(s) ${unknown.map((c) => `"${c}"`).join(', ')}; columns are ${RAW_COLUMNS.join(', ')}`);
  if (new Set(columns).size !== columns.length) throw new Error(`a column is named twice in ${columns.join(', ')}`);
  const data: Record<string, (number | string)[]> = {};
  for (const c of columns) data[c] = c === 'eventTime' ? frames.eventTime.slice(0, frames.length) : Array.from(frames.columns[c].subarray(0, frames.length));
  return new DataFrame(data);
}

/** What showing a table needs of a DataFrame (danfojs' head(), describe() and groupby() return its base class). */
export interface DataFrameLike {
  readonly columns: string[];
  readonly index: (string | number)[];
  readonly values: unknown[];
  readonly shape: number[];
}

/** Display options: at most maxRows rows (default 20) and numbers to `digits` significant digits (default 5). */
export interface DataFrameDisplayOptions {
  maxRows?: number;
  digits?: number;
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function formatCell(v: unknown, digits: number): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number(v.toPrecision(digits)).toString();
  return v === null || v === undefined ? '' : String(v);
}

/** The first rows of df as text cells: header (index name blank, then columns) and one row per index. */
function tableCells(df: DataFrameLike, opts: DataFrameDisplayOptions): { header: string[]; rows: string[][]; omitted: number } {
  const maxRows = opts.maxRows ?? 20;
  if (!(Number.isInteger(maxRows) && maxRows > 0)) throw new Error(`maxRows must be a positive integer, got ${maxRows}`);
  const digits = opts.digits ?? 5;
  const values = df.values as unknown[][];
  const index = df.index;
  const shown = Math.min(values.length, maxRows);
  const rows = values.slice(0, shown).map((row, i) => [String(index[i]), ...row.map((v) => formatCell(v, digits))]);
  return { header: ['', ...df.columns], rows, omitted: values.length - shown };
}

/** df as an HTML table (caption, header, first rows; a note says how many rows are left out). */
export function dataFrameHtml(df: DataFrameLike, caption = '', opts: DataFrameDisplayOptions = {}): string {
  const { header, rows, omitted } = tableCells(df, opts);
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr><th>${escapeHtml(r[0])}</th>${r.slice(1).map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  const note = omitted > 0 ? `<p>… ${omitted} more rows (${df.shape[0]} × ${df.shape[1]})</p>` : '';
  const cap = caption ? `<caption>${escapeHtml(caption)}</caption>` : '';
  return `<table class="dataframe">${cap}<thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>${note}`;
}

/** df as aligned plain text, for logs and headless runs. */
export function dataFrameText(df: DataFrameLike, caption = '', opts: DataFrameDisplayOptions = {}): string {
  const { header, rows, omitted } = tableCells(df, opts);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ').trimEnd();
  const lines = [...(caption ? [caption] : []), line(header), ...rows.map(line)];
  if (omitted > 0) lines.push(`… ${omitted} more rows (${df.shape[0]} × ${df.shape[1]})`);
  return lines.join('\n');
}

/** Shows df in the current notebook cell as an HTML table (with a text form); outside a kernel prints the text. */
export function showDataFrame(df: DataFrameLike, caption = '', opts: DataFrameDisplayOptions = {}): void {
  const text = dataFrameText(df, caption, opts);
  const write = kernelDisplayWriter();
  if (!write) {
    console.log(text);
    return;
  }
  write({ data: { 'text/html': dataFrameHtml(df, caption, opts), 'text/plain': text }, metadata: {}, transient: {} }, false);
}
