/** The error every CSV reader and writer here throws for bad input: it says where (file, line, column). */

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
