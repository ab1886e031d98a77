/**
 * The fault labels file and mapping labels onto frames.
 *
 * File format (CSV, UTF-8, one label per line), header exactly `turbineId,start,end,kind`:
 * - turbineId: the turbine's integer id (the turbineId column of the data file);
 * - start, end: eventTime strings of the first and the last affected frame, both inclusive;
 * - kind: `<kind>` or `<kind>:<severity>`, e.g. `bearing_wear:mild`, `vib:severe` or `blade_icing`: the
 *   simulator's kinds (FAULT_KINDS) or any name of letters, digits, _ . - (a user's own incident labels);
 *   severity, when given, mild | severe. The file keeps the four columns the workshop's contract names.
 *   Evaluation reports per-kind results under the names given.
 * Next to a data file `<name>.csv.gz` (or `<name>.csv`) the labels are `<name>.labels.csv`.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CsvFormatError, renameOrRemove } from './csv';
import { parseEventTime } from './event-time';
import { FAULT_KIND_NAME, type FaultLabel, isFaultSeverity } from './faults';
import type { FrameColumns } from './schema';

/** The labels file's header line. */
export const LABELS_HEADER = 'turbineId,start,end,kind';

/** The labels file that belongs to a data file: strips .csv.gz or .csv and adds .labels.csv. */
export function labelsPathFor(dataPath: string): string {
  return `${dataPath.replace(/\.csv(\.gz)?$/, '')}.labels.csv`;
}

/** The labels as CSV text (header included), in the order given. */
export function formatLabelsCsv(labels: readonly FaultLabel[]): string {
  const lines = [LABELS_HEADER];
  for (const [i, l] of labels.entries()) {
    if (!Number.isInteger(l.turbineId) || l.turbineId < 0) throw new Error(`label ${i}: turbineId must be a non-negative integer, got ${l.turbineId}`);
    if (!FAULT_KIND_NAME.test(l.kind)) throw new Error(`label ${i}: fault kind ${JSON.stringify(l.kind)} is not a name of letters, digits, _ . - (at most 64)`);
    if (l.severity !== undefined && !isFaultSeverity(l.severity)) throw new Error(`label ${i}: fault severity ${JSON.stringify(l.severity)} is not mild or severe`);
    for (const t of [l.start, l.end]) if (!Number.isFinite(parseEventTime(t)) || t.includes(',')) throw new Error(`label ${i}: ${JSON.stringify(t)} is not an eventTime`);
    lines.push(`${l.turbineId},${l.start},${l.end},${l.kind}${l.severity ? `:${l.severity}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the labels file (complete or not at all: written beside it, then renamed). */
export function writeLabelsCsv(labels: readonly FaultLabel[], path: string): void {
  const text = formatLabelsCsv(labels);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  renameOrRemove(tmp, path);
}

/** Parses labels CSV text; errors name the line and column (`source` names the input). */
export function parseLabelsCsv(text: string, source = 'labels'): FaultLabel[] {
  const lines = text.split('\n');
  const header = (lines[0] ?? '').replace(/^\uFEFF/, '').replace(/\r$/, '');
  if (header !== LABELS_HEADER) {
    throw new CsvFormatError(source, 1, undefined, `header must be exactly "${LABELS_HEADER}", found ${JSON.stringify(header)}`);
  }
  const labels: FaultLabel[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line === '') continue;
    const n = i + 1;
    const fields = line.split(',');
    if (fields.length !== 4) throw new CsvFormatError(source, n, undefined, `expected 4 fields, found ${fields.length}`);
    const [id, start, end, kindText] = fields;
    const turbineId = Number(id);
    if (id === '' || !Number.isInteger(turbineId) || turbineId < 0) throw new CsvFormatError(source, n, 'turbineId', `${JSON.stringify(id)} is not a non-negative integer`);
    const startMs = parseEventTime(start);
    const endMs = parseEventTime(end);
    if (!Number.isFinite(startMs)) throw new CsvFormatError(source, n, 'start', `${JSON.stringify(start)} is not a date-time`);
    if (!Number.isFinite(endMs)) throw new CsvFormatError(source, n, 'end', `${JSON.stringify(end)} is not a date-time`);
    if (endMs < startMs) throw new CsvFormatError(source, n, 'end', `${end} is before start ${start}`);
    const [kind, severity, extra] = kindText.split(':');
    if (extra !== undefined || !FAULT_KIND_NAME.test(kind) || (severity !== undefined && !isFaultSeverity(severity))) {
      throw new CsvFormatError(source, n, 'kind', `${JSON.stringify(kindText)} is not <kind> or <kind>:<severity> with kind a name of letters, digits, _ . - (at most 64) and severity mild or severe`);
    }
    labels.push(severity === undefined ? { turbineId, start, end, kind } : { turbineId, start, end, kind, severity });
  }
  return labels;
}

/** Reads a labels file written by writeLabelsCsv (or by hand in the same format). */
export function readLabelsCsv(path: string): FaultLabel[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseLabelsCsv(text, basename(path));
}

/**
 * For every row of frames, the index in `labels` of the label covering it (same turbine, start <= eventTime
 * <= end), or -1 for normal rows. What evaluation compares detections against.
 */
export function labelIndexByRow(frames: FrameColumns, labels: readonly FaultLabel[]): Int32Array {
  const result = new Int32Array(frames.length).fill(-1);
  const byTurbine = new Map<number, Array<{ index: number; start: number; end: number }>>();
  labels.forEach((l, index) => {
    const list = byTurbine.get(l.turbineId) ?? [];
    list.push({ index, start: parseEventTime(l.start), end: parseEventTime(l.end) });
    byTurbine.set(l.turbineId, list);
  });
  if (byTurbine.size === 0) return result;
  const ids = frames.columns.turbineId;
  let lastText = '';
  let lastMs = Number.NaN;
  for (let i = 0; i < frames.length; i++) {
    const list = byTurbine.get(ids[i]);
    if (!list) continue;
    const text = frames.eventTime[i];
    if (text !== lastText) {
      lastText = text;
      lastMs = parseEventTime(text);
    }
    for (const l of list) {
      if (lastMs >= l.start && lastMs <= l.end) {
        result[i] = l.index;
        break;
      }
    }
  }
  return result;
}
