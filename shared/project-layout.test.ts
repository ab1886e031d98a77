/**
 * The folder READMEs' file tables say exactly what is in their folders. A table whose first column is
 * headed "file" lists names in backticks: a file (`agent.ts`), a folder (`dashboard/`: everything in it),
 * a path into a subfolder without its own README (`iot/registry.ts`) or a pattern (`*.test.ts`). Every
 * file the README's folder holds (and its subfolders' files, up to the next README) must be listed, and
 * every listed name must exist. And the labs stay thin: no notebook code cell is longer than 15 lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const SHARED = __dirname;

/** Every README.md under dir, as folder paths. */
function readmeFolders(dir: string): string[] {
  const found = existsSync(join(dir, 'README.md')) ? [dir] : [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...readmeFolders(path));
  }
  return found;
}

/** Files under dir (relative to it), not descending into subfolders that have their own README. */
function ownedFiles(dir: string, under = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, under)).sort()) {
    const rel = under ? `${under}/${name}` : name;
    const path = join(dir, rel);
    if (statSync(path).isDirectory()) {
      if (existsSync(join(path, 'README.md'))) out.push(`${rel}/`);
      else out.push(...ownedFiles(dir, rel));
    } else if (rel !== 'README.md') out.push(rel);
  }
  return out;
}

/** The names in backticks in the first column of every table headed "file" (or "files"). */
export function listedNames(markdown: string): string[] {
  const names: string[] = [];
  let inFileTable = false;
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) {
      inFileTable = false;
      continue;
    }
    const first = line.split('|')[1]?.trim() ?? '';
    if (/^files?$/i.test(first)) inFileTable = true;
    else if (inFileTable && !/^-+$/.test(first)) for (const m of first.matchAll(/`([^`]+)`/g)) names.push(m[1]);
  }
  return names;
}

/** Whether a listed name (file, folder/, or * pattern) covers a file path. */
function covers(name: string, path: string): boolean {
  if (name.endsWith('/')) return path.startsWith(name);
  if (name.includes('*')) return new RegExp(`^${name.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`).test(path);
  return name === path;
}

test('listedNames reads the first column of file tables only', () => {
  const md = ['| file | what |', '| --- | --- |', '| `a.ts`, `b.ts` | x `not-this.ts` |', '| `sub/` | y |', '', '| kind | what |', '| --- | --- |', '| `vib` | z |'].join('\n');
  assert.deepEqual(listedNames(md), ['a.ts', 'b.ts', 'sub/']);
  assert.equal(covers('*.test.ts', 'agent.test.ts'), true);
  assert.equal(covers('*.test.ts', 'sub/agent.test.ts'), false);
  assert.equal(covers('dashboard/', 'dashboard/index.html'), true);
});

for (const folder of readmeFolders(SHARED)) {
  const where = relative(join(SHARED, '..'), folder);
  test(`${where}/README.md lists exactly the files of its folder`, () => {
    const names = listedNames(readFileSync(join(folder, 'README.md'), 'utf8'));
    if (/(^|\/)fixtures$/.test(folder) && names.length === 0) return; // a data folder's README may describe its files in prose
    assert.ok(names.length > 0, `${where}/README.md has no table headed "file"`);
    const files = ownedFiles(folder);
    const unlisted = files.filter((f) => !names.some((n) => covers(n, f)));
    const missing = names.filter((n) => !files.some((f) => covers(n, f) || f === n));
    assert.deepEqual(unlisted, [], `${where}: files not in the README table`);
    assert.deepEqual(missing, [], `${where}: README table names files that do not exist`);
  });
}

/** Every .ipynb under dir. */
function notebooks(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name === '.ipynb_checkpoints' || name === 'node_modules') continue;
    if (statSync(path).isDirectory()) found.push(...notebooks(path));
    else if (name.endsWith('.ipynb')) found.push(path);
  }
  return found;
}

test('every lab notebook code cell is at most 15 lines (longer code belongs in shared/labs)', () => {
  const long: string[] = [];
  const lab = join(SHARED, '..', 'lab');
  for (const nb of notebooks(lab)) {
    const cells = (JSON.parse(readFileSync(nb, 'utf8')) as { cells: { cell_type: string; source: string[] | string }[] }).cells;
    cells.forEach((c, i) => {
      const source = (Array.isArray(c.source) ? c.source.join('') : c.source).replace(/\n+$/, '');
      const lines = source === '' ? 0 : source.split('\n').length;
      if (c.cell_type === 'code' && lines > 15) long.push(`${relative(lab, nb)} cell ${i}: ${lines} lines`);
    });
  }
  assert.ok(notebooks(lab).length >= 7, 'the labs are found');
  assert.deepEqual(long, []);
});
