/**
 * Jupyter notebook files (nbformat 4): read and check them, list their code cells, put outputs in or take
 * them out, and write them the way Jupyter does (sorted keys, one-space indent, text as line arrays) so a
 * notebook saved here and one saved from JupyterLab diff cleanly.
 */
import type { CellOutput } from './kernel-client';

export interface NotebookCell {
  cell_type: 'code' | 'markdown' | 'raw';
  id?: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: unknown[];
  execution_count?: number | null;
  attachments?: Record<string, unknown>;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

/** The kernelspec notebooks in this project declare: tslab's name, so Jupyter picks the TypeScript kernel. */
export const TSLAB_KERNELSPEC = { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } as const;

/** Parses and checks a notebook; errors name the file and, where it applies, the cell. */
export function parseNotebook(text: string, path: string): Notebook {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not a notebook: invalid JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${path}: not a notebook: top level is not a JSON object`);
  const nb = raw as Partial<Notebook>;
  if (nb.nbformat !== 4) throw new Error(`${path}: nbformat ${String(nb.nbformat)} is not supported; expected 4`);
  if (!Array.isArray(nb.cells)) throw new Error(`${path}: not a notebook: "cells" is missing or not an array`);
  nb.cells.forEach((cell, i) => {
    const where = `${path}: cell ${i + 1}`;
    if (cell === null || typeof cell !== 'object') throw new Error(`${where} is not an object`);
    if (!['code', 'markdown', 'raw'].includes(cell.cell_type)) throw new Error(`${where}: unknown cell_type ${JSON.stringify(cell.cell_type)}`);
    const okSource = typeof cell.source === 'string' || (Array.isArray(cell.source) && cell.source.every((s) => typeof s === 'string'));
    if (!okSource) throw new Error(`${where}: "source" must be a string or an array of strings`);
  });
  return {
    nbformat: 4,
    // Cell ids arrived with 4.5: a file that states no minor version gets the newest one its cells satisfy.
    nbformat_minor: typeof nb.nbformat_minor === 'number' ? nb.nbformat_minor : nb.cells.every((c) => typeof c.id === 'string') ? 5 : 4,
    metadata: nb.metadata && typeof nb.metadata === 'object' ? nb.metadata : {},
    cells: nb.cells,
  };
}

/** The text of a cell, whichever way the file stores it. */
export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

/** Indices (into nb.cells) of the code cells that have code, in order. */
export function codeCellIndices(nb: Notebook): number[] {
  const out: number[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type === 'code') out.push(i);
  });
  return out;
}

/** The first non-empty line of a cell, shortened for messages. */
export function firstLine(cell: NotebookCell): string {
  const line = cellSource(cell).split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}

/** A copy of nb with every code cell's outputs and execution count cleared (the committed form). */
export function clearOutputs(nb: Notebook): Notebook {
  return {
    ...nb,
    cells: nb.cells.map((cell) => (cell.cell_type === 'code' ? { ...cell, outputs: [], execution_count: null } : cell)),
  };
}

/** True when some code cell carries outputs or an execution count. */
export function hasOutputs(nb: Notebook): boolean {
  return nb.cells.some((c) => c.cell_type === 'code' && ((c.outputs?.length ?? 0) > 0 || (c.execution_count ?? null) !== null));
}

/** A copy of nb with the given cells' outputs replaced (cells not in results are cleared: they did not run). */
export function withOutputs(nb: Notebook, results: ReadonlyMap<number, { outputs: CellOutput[]; executionCount: number | null }>): Notebook {
  return {
    ...nb,
    cells: nb.cells.map((cell, i) => {
      if (cell.cell_type !== 'code') return cell;
      const r = results.get(i);
      return { ...cell, outputs: r ? r.outputs.map((o) => ({ ...o })) : [], execution_count: r ? r.executionCount : null };
    }),
  };
}

/** Serialises nb as Jupyter writes it. */
export function serializeNotebook(nb: Notebook): string {
  const cells = nb.cells.map((cell) => {
    const out: Record<string, unknown> = { ...cell, source: toLines(cellSource(cell)), metadata: cell.metadata ?? {} };
    if (cell.cell_type === 'code') {
      out.outputs = (cell.outputs ?? []).map(outputForFile);
      out.execution_count = cell.execution_count ?? null;
    }
    return out;
  });
  return `${JSON.stringify(sortKeys({ ...nb, cells }), null, 1)}\n`;
}

/** Multi-line text as nbformat stores it: lines keeping their "\n", the last without. */
function toLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === '' ? [] : lines;
}

function outputForFile(output: unknown): unknown {
  const o = output as Record<string, unknown>;
  const copy: Record<string, unknown> = { ...o };
  if (typeof o.text === 'string') copy.text = toLines(o.text);
  if (o.data && typeof o.data === 'object') {
    const data: Record<string, unknown> = {};
    for (const [mime, value] of Object.entries(o.data as Record<string, unknown>)) {
      // JSON payloads stay objects; text payloads become line arrays.
      data[mime] = typeof value === 'string' && !mime.endsWith('json') ? toLines(value) : value;
    }
    copy.data = data;
  }
  return copy;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}
