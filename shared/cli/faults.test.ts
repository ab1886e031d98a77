import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../edge/agent-testing';
import { type FaultFigure, figuresTable, README_BEGIN, README_END, replaceReadmeTable } from '../faults/figures';

const ROOT = join(__dirname, '..', '..');
const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'shared', 'cli', 'faults.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

const figure: FaultFigure = { scenario: 'demo', scale: 'short', injected: 'a | pipe', held: 'all of it', ok: true, lost: 0, duplicated: 1, refused: 2, durationsMs: { outage: 3000, drain: 12_500 }, recordedAt: '2026-12-03T10:00:00.000Z' };

test('test:faults --help, and bad arguments named', () => {
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--scale <scale>/);
  assert.match(help.stdout, /--write-readme/);
  const scale = run('--scale', 'huge');
  assert.notEqual(scale.status, 0);
  assert.match(scale.stderr, /--scale must be short or full, got "huge"/);
  const only = run('--only', 'no-such-scenario');
  assert.equal(only.status, 1);
  assert.match(only.stderr, /no scenario in shared\/faults matches no-such-scenario/);
});

test('test:faults --table-only prints the recorded figures, and says so when there are none', async () => {
  const tmp = await tempDir('faults-cli-');
  try {
    const empty = run('--table-only', '--results', tmp.dir);
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /no figures in .*: run npm run test:faults first/);
    mkdirSync(tmp.dir, { recursive: true });
    writeFileSync(join(tmp.dir, 'demo.json'), JSON.stringify(figure));
    const out = run('--table-only', '--results', tmp.dir);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /\| demo \| a \\\| pipe \| yes: all of it \| 0 \| 1 \| 2 \| outage 3\.0 s, drain 13 s \|/);
  } finally {
    await tmp.remove();
  }
});

test('the README table goes between its markers, and missing markers are an error', () => {
  const readme = `# x\n${README_BEGIN}\nold\n${README_END}\nafter\n`;
  const table = figuresTable([figure, { ...figure, scenario: 'bad', ok: false }]);
  const out = replaceReadmeTable(readme, table);
  assert.equal(out, `# x\n${README_BEGIN}\n${table}\n${README_END}\nafter\n`);
  assert.match(table, /\| bad \| .* \| \*\*no\*\*: all of it \|/);
  assert.throws(() => replaceReadmeTable('# no markers', table), /README has no .* markers/);
  // The checked-in README has the markers.
  replaceReadmeTable(readFileSync(join(ROOT, 'README.md'), 'utf8'), table);
});
