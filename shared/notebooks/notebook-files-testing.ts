/**
 * Helpers for tests that need small notebooks on disk: write one from code-cell sources, and compute the
 * relative import a cell in some folder uses to reach a project module.
 */
import { writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { serializeNotebook, TSLAB_KERNELSPEC } from './notebook-file';

const PROJECT_ROOT = resolve(__dirname, '..', '..');

/** Writes dir/name as a notebook with a title cell then one code cell per source; returns its path. */
export function writeTestNotebook(dir: string, name: string, codeCells: readonly string[]): string {
  const path = join(dir, name);
  const cells = [
    { cell_type: 'markdown' as const, id: 'title', metadata: {}, source: `# ${name}` },
    ...codeCells.map((source, i) => ({ cell_type: 'code' as const, id: `code-${i + 1}`, metadata: {}, source, outputs: [], execution_count: null })),
  ];
  writeFileSync(path, serializeNotebook({ nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { ...TSLAB_KERNELSPEC } }, cells }));
  return path;
}

/** The relative module specifier from a notebook in dir to a project file (e.g. 'shared/turbine/schema'). */
export function projectImport(dir: string, projectModule: string): string {
  const rel = relative(dir, join(PROJECT_ROOT, projectModule)).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}
