import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPngs } from './export-png';
import { npmChromiumSupported } from '../browser/npm-chromium';
import type { FindChromiumOptions } from '../browser/find-chromium';
import type { Figure } from './figure';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  assert.equal(bytes.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'PNG signature');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** Renders one small line plot with the given browser choice and checks the file it wrote. */
async function renderLine(options: FindChromiumOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'plots-'));
  try {
    const path = join(dir, 'sub', 'line.png');
    const done: string[] = [];
    const figure: Figure = { data: [{ type: 'scatter', x: [1, 2, 3], y: [3, 1, 2], mode: 'lines' }], layout: { title: { text: 't' } } };
    await exportPngs([{ figure, path, width: 400, height: 300 }], (j) => done.push(j.path), options);
    const bytes = readFileSync(path);
    assert.deepEqual(pngSize(bytes), { width: 400, height: 300 });
    assert.ok(bytes.length > 2000, `a plot, not an empty image (${bytes.length} bytes)`);
    assert.deepEqual(done, [path]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a figure renders to a PNG of the asked size in headless Chromium', () => renderLine({}));

test('the npm-shipped Chromium renders a figure without any system browser', { skip: !npmChromiumSupported() && 'Linux x64 only' }, () => renderLine({ npmOnly: true }));

