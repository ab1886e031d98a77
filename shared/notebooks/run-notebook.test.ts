import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { TslabKernel } from './kernel-client';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNotebook } from './notebook-file';
import { findNotebooks, formatFailure, runNotebook, type RunProgress } from './run-notebook';
import { projectImport, writeTestNotebook } from './notebook-files-testing';

// Each notebook starts its own kernel (about 2-3 s), so every test here runs one notebook.

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'run-notebook-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('notebooks run in the order the paths are given, a folder sorted, each once', (t) => {
  const dir = tempDir(t);
  for (const lab of ['00-Warmup', '01-Data', '02-Training']) mkdirSync(join(dir, lab));
  const nb = (lab: string, name: string) => writeTestNotebook(join(dir, lab), name, ['1']);
  const warmup = nb('00-Warmup', 'w.ipynb');
  const data = nb('01-Data', 'd.ipynb');
  const [b, a] = [nb('02-Training', 'b.ipynb'), nb('02-Training', 'a.ipynb')];
  assert.deepEqual(findNotebooks([join(dir, '01-Data'), join(dir, '02-Training'), warmup, data]), [data, a, b, warmup]);
  assert.deepEqual(findNotebooks([dir]), [warmup, data, a, b]);
  assert.throws(() => findNotebooks([join(dir, 'missing')]), /missing: no such notebook or folder/);
});

test('a passing notebook imports the project library relatively, sees the environment, and --write stores valid outputs', async (t) => {
  const dir = tempDir(t);
  const path = writeTestNotebook(dir, 'pass.ipynb', [
    `import { RAW_COLUMNS } from '${projectImport(dir, 'shared/turbine/schema')}';\nconsole.log(RAW_COLUMNS.join(','));`,
    'const seed: number = Number(process.env.LAB_SEED);\nconsole.log(`seed ${seed + 1}`);',
    '',
    'process.cwd()',
  ]);
  const events: RunProgress[] = [];
  const result = await runNotebook(path, { write: true, env: { ...process.env, LAB_SEED: '6' }, onProgress: (e) => events.push(e) });
  assert.equal(result.ok, true, formatFailure(result));
  assert.equal(result.executed, 4);
  const nb = parseNotebook(readFileSync(path, 'utf8'), path);
  const text = (i: number) => JSON.stringify(nb.cells[i].outputs);
  assert.match(text(1), /nanoId,turbineId,arduino_timestamp,nanoFreemem,eventTime,rps,voltage/);
  assert.match(text(2), /seed 7/);
  assert.equal(nb.cells[3].execution_count, null, 'an empty cell is not sent to the kernel');
  assert.ok(text(4).includes(JSON.stringify(dir).slice(1, -1)), 'the kernel runs in the notebook folder');
  assert.deepEqual([nb.cells[1].execution_count, nb.cells[2].execution_count], [1, 2]);
  assert.deepEqual(events.filter((e) => e.kind === 'cell').map((e) => (e.kind === 'cell' ? e.codeCell : 0)), [1, 2, 3, 4]);
});

test('a TypeScript error in a cell fails that cell with the compiler message, and the file stays untouched', async (t) => {
  const dir = tempDir(t);
  const path = writeTestNotebook(dir, 'compile.ipynb', [
    `import { RAW_COLUMNS } from '${projectImport(dir, 'shared/turbine/schema')}';`,
    'const wrong: number = RAW_COLUMNS[0];',
    'console.log("never runs")',
  ]);
  const before = readFileSync(path, 'utf8');
  const result = await runNotebook(path);
  assert.equal(result.ok, false);
  assert.equal(result.failure?.codeCell, 2);
  assert.equal(result.failure?.cell, 3);
  assert.equal(result.failure?.ename, 'TypeScript compile error');
  assert.match(result.failure?.evalue ?? '', /1:7 - Type '[^']+' is not assignable to type 'number'/);
  assert.match(formatFailure(result), /compile\.ipynb: cell 2 failed: TypeScript compile error: 1:7 - Type/);
  assert.match(formatFailure(result), /it starts: const wrong: number = RAW_COLUMNS\[0\];/);
  assert.equal(readFileSync(path, 'utf8'), before);
});

test("a failing cell's report repeats what the cell printed before it threw, so a CI log shows why", async (t) => {
  const dir = tempDir(t);
  const path = writeTestNotebook(dir, 'printed.ipynb', [
    'console.log("fine")',
    'for (let i = 1; i <= 50; i++) console.log(`line ${i}`);\nconsole.table([{ thing: "turbine-1", status: "FAILED" }]);\nthrow new Error("not every turbine took the model");',
  ]);
  const result = await runNotebook(path);
  const report = formatFailure(result);
  assert.match(report, /printed\.ipynb: cell 2 failed: Error: not every turbine took the model/);
  assert.match(report, /\| .*turbine-1.*FAILED/, 'the table printed before the error');
  assert.match(report, /\| line 50\n/);
  assert.doesNotMatch(report, /\| line 1\n/, 'only the last lines are repeated');
  assert.equal(result.failure?.printed.length, 40);
  assert.doesNotMatch(report, /fine/, 'earlier cells are not repeated');
});

test('a cell over the time limit fails with a timeout error, and --write keeps the outputs up to it', async (t) => {
  const dir = tempDir(t);
  const path = writeTestNotebook(dir, 'slow.ipynb', ['console.log("first")', 'await new Promise((r) => setTimeout(r, 300000));']);
  const started = Date.now();
  const result = await runNotebook(path, { cellTimeoutMs: 1500, write: true });
  // The slow cell sleeps 5 minutes; kernel start-up on a loaded 2-core machine can take 15 s or more.
  assert.ok(Date.now() - started < 120000, 'the runner does not wait for the slow cell');
  assert.equal(result.failure?.codeCell, 2);
  assert.equal(result.failure?.ename, 'Timeout');
  assert.match(result.failure?.evalue ?? '', /did not finish within 1\.5 s/);
  const nb = parseNotebook(readFileSync(path, 'utf8'), path);
  assert.match(JSON.stringify(nb.cells[1].outputs), /first/);
  assert.match(JSON.stringify(nb.cells[2].outputs), /"ename":"Timeout"/);
});

test('a notebook for another kernel or a broken file is refused before any kernel starts', async (t) => {
  const dir = tempDir(t);
  const path = writeTestNotebook(dir, 'py.ipynb', ['print(1)']);
  const nb = JSON.parse(readFileSync(path, 'utf8'));
  nb.metadata.kernelspec.name = 'python3';
  writeFileSync(path, JSON.stringify(nb));
  await assert.rejects(runNotebook(path), { message: /py\.ipynb: uses kernel "python3"; only TypeScript \(tslab\) notebooks/ });
  writeFileSync(path, '{"nbformat": 4}');
  await assert.rejects(runNotebook(path), { message: /py\.ipynb: not a notebook: "cells" is missing/ });
});

test('the kernel answers on every channel: kernel_info on shell, status on iopub, echo on heartbeat', async (t) => {
  const dir = tempDir(t);
  const kernel = await TslabKernel.start({ cwd: dir });
  t.after(() => kernel.shutdown());
  await kernel.heartbeat();
  const r = await kernel.execute('process.cwd()', 30_000);
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.outputs, [{ output_type: 'stream', name: 'stdout', text: `${realpathSync(dir)}\n` }]);
});
