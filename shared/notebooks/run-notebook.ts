/**
 * Runs notebooks headless: each in its own tslab kernel started in the notebook's folder, code cells in
 * order, stopping at the first failing cell. Outputs are written back only when asked.
 */
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CellTimeoutError, TslabKernel, type CellOutput } from './kernel-client';
import { cellSource, codeCellIndices, firstLine, parseNotebook, serializeNotebook, withOutputs } from './notebook-file';

export interface CellFailure {
  /** 1-based position among the notebook's code cells. */
  codeCell: number;
  /** 1-based position among all cells (markdown included), as JupyterLab numbers them. */
  cell: number;
  firstLine: string;
  ename: string;
  evalue: string;
  traceback: string[];
  /** The last lines the cell printed before it failed (what a reader of a CI log needs to see why). */
  printed: string[];
}

/** How many printed lines of a failed cell its report repeats. */
const PRINTED_LINES_SHOWN = 40;

export interface NotebookRunResult {
  path: string;
  ok: boolean;
  codeCells: number;
  /** Code cells that ran to completion. */
  executed: number;
  elapsedMs: number;
  failure?: CellFailure;
}

export type RunProgress =
  | { kind: 'notebook'; path: string; codeCells: number }
  | { kind: 'cell'; path: string; codeCell: number; codeCells: number; firstLine: string; elapsedMs: number }
  | { kind: 'done'; result: NotebookRunResult };

export interface RunOptions {
  /** Per-cell limit; a cell running longer fails the notebook (default 10 minutes). */
  cellTimeoutMs?: number;
  /** Write outputs (and execution counts) back into the .ipynb. */
  write?: boolean;
  /** Environment of the kernel (default: this process's). */
  env?: NodeJS.ProcessEnv;
  onProgress?: (event: RunProgress) => void;
  /** Aborting shuts the kernel down and rejects with an "interrupted" error. */
  signal?: AbortSignal;
}

export const DEFAULT_CELL_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Expands paths (notebooks or folders, searched recursively, skipping hidden folders, node_modules and
 * .ipynb_checkpoints) into a list of notebook files, in the order the paths were given (a folder's
 * notebooks sorted), each once: labs that build on each other run in the order asked for
 * (`lab/01-... lab/02-... lab/00-Warmup`). A path that does not exist is an error.
 */
export function findNotebooks(paths: readonly string[]): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (!name.startsWith('.') && name !== 'node_modules') walk(path);
      } else if (name.endsWith('.ipynb')) found.add(path);
    }
  };
  for (const p of paths) {
    if (!existsSync(p)) throw new Error(`${p}: no such notebook or folder`);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ipynb')) found.add(p);
    else throw new Error(`${p}: not a notebook (expected a .ipynb file or a folder)`);
  }
  return [...found];
}

/** Runs one notebook top to bottom in a fresh kernel; resolves with the outcome (a failing cell does not reject). */
export async function runNotebook(path: string, options: RunOptions = {}): Promise<NotebookRunResult> {
  const started = Date.now();
  const nb = parseNotebook(readFileSync(path, 'utf8'), path);
  const kernelName = (nb.metadata.kernelspec as { name?: unknown } | undefined)?.name;
  if (kernelName !== undefined && kernelName !== 'tslab') {
    throw new Error(`${path}: uses kernel "${String(kernelName)}"; only TypeScript (tslab) notebooks can run here`);
  }
  const indices = codeCellIndices(nb);
  const timeoutMs = options.cellTimeoutMs ?? DEFAULT_CELL_TIMEOUT_MS;
  const progress = options.onProgress ?? (() => undefined);
  progress({ kind: 'notebook', path, codeCells: indices.length });
  const outputs = new Map<number, { outputs: CellOutput[]; executionCount: number | null }>();
  const result: NotebookRunResult = { path, ok: true, codeCells: indices.length, executed: 0, elapsedMs: 0 };

  const interrupted = new Promise<never>((_, reject) => {
    if (options.signal?.aborted) reject(new Error('interrupted'));
    options.signal?.addEventListener('abort', () => reject(new Error('interrupted')), { once: true });
  });
  interrupted.catch(() => undefined);
  const kernel = await TslabKernel.start({ cwd: dirname(resolve(path)), env: options.env, signal: options.signal });
  try {
    for (const [k, index] of indices.entries()) {
      const cell = nb.cells[index];
      const code = cellSource(cell);
      progress({ kind: 'cell', path, codeCell: k + 1, codeCells: indices.length, firstLine: firstLine(cell), elapsedMs: Date.now() - started });
      if (code.trim() === '') {
        result.executed++;
        continue;
      }
      const failure = (ename: string, evalue: string, traceback: string[], printed: CellOutput[] = []): CellFailure => ({
        codeCell: k + 1,
        cell: index + 1,
        firstLine: firstLine(cell),
        ename,
        evalue,
        traceback,
        printed: printedLines(printed).slice(-PRINTED_LINES_SHOWN),
      });
      try {
        const r = await Promise.race([kernel.execute(code, timeoutMs), interrupted]);
        outputs.set(index, { outputs: r.outputs, executionCount: r.executionCount });
        if (r.status !== 'ok') {
          const e = r.error ?? { ename: 'Aborted', evalue: 'the kernel aborted the cell', traceback: [] };
          result.failure = failure(e.ename, e.evalue, e.traceback, r.outputs);
          break;
        }
      } catch (err) {
        if (err instanceof Error && err.message === 'interrupted') throw err;
        const ename = err instanceof CellTimeoutError ? 'Timeout' : 'KernelError';
        const evalue = err instanceof Error ? err.message : String(err);
        result.failure = failure(ename, evalue, []);
        outputs.set(index, { outputs: [{ output_type: 'error', ename, evalue, traceback: [] }], executionCount: null });
        break;
      }
      result.executed++;
    }
  } finally {
    await kernel.shutdown();
  }
  result.ok = result.failure === undefined;
  result.elapsedMs = Date.now() - started;
  if (options.write) {
    // Write to a sibling file first so an interrupted write never leaves a half notebook.
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, serializeNotebook(withOutputs(nb, outputs)));
    renameSync(tmp, path);
  }
  progress({ kind: 'done', result });
  return result;
}

/** The one-line report of a failed notebook: `<path>: cell <n> failed: <ename>: <evalue>`. */
export function formatFailure(result: NotebookRunResult): string {
  const f = result.failure;
  if (!f) return `${result.path}: ok`;
  return [
    `${result.path}: cell ${f.codeCell} failed: ${f.ename}: ${f.evalue}`,
    `  (code cell ${f.codeCell} of ${result.codeCells}, cell ${f.cell} counting markdown; it starts: ${f.firstLine})`,
    ...f.traceback.slice(0, 12).map((l) => `  ${l}`),
    ...(f.printed.length > 0 ? [`  the cell printed (last ${f.printed.length} lines):`, ...f.printed.map((l) => `  | ${l}`)] : []),
  ].join('\n');
}

/** The text a cell printed (streams, and the plain-text form of displayed results), as lines. */
function printedLines(outputs: readonly CellOutput[]): string[] {
  const text = outputs
    .map((o) => {
      if (o.output_type === 'stream') return o.text;
      if (o.output_type === 'display_data' || o.output_type === 'execute_result') {
        const plain = o.data['text/plain'];
        return typeof plain === 'string' ? `${plain}\n` : Array.isArray(plain) ? `${plain.join('')}\n` : '';
      }
      return '';
    })
    .join('');
  return text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1);
}
