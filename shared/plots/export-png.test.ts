import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPngs, findChromium } from './export-png';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  assert.equal(bytes.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'PNG signature');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('a figure renders to a PNG of the asked size in headless Chromium', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plots-'));
  try {
    const path = join(dir, 'sub', 'line.png');
    const done: string[] = [];
    await exportPngs([{ figure: { data: [{ type: 'scatter', x: [1, 2, 3], y: [3, 1, 2], mode: 'lines' }], layout: { title: { text: 't' } } }, path, width: 400, height: 300 }], (j) => done.push(j.path));
    assert.deepEqual(pngSize(readFileSync(path)), { width: 400, height: 300 });
    assert.deepEqual(done, [path]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing browser is named with what to do', () => {
  const saved = process.env.CHROMIUM_PATH;
  process.env.CHROMIUM_PATH = '/nonexistent/chromium';
  try {
    assert.throws(() => findChromium(), /CHROMIUM_PATH=\/nonexistent\/chromium does not exist/);
  } finally {
    if (saved === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = saved;
  }
});
