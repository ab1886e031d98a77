/**
 * Frames as CSV in the original's 23-column schema: write (plain or gzip, chosen by the file name), and
 * read with validation that names the line and column of the first bad value. Reading accepts the columns
 * in any order (extra columns are ignored), so the original workshop's recording loads as is; writing
 * always uses the original order.
 */
export { CsvFormatError } from './csv-error';
export { CSV_HEADER, formatFrameRows, formatFrameRowsBytes, formatFramesCsv, formatNumber, FramesCsvWriter, renameOrRemove, writeFramesCsv } from './csv-write';
export { parseFramesCsv, readFramesCsv } from './csv-read';
