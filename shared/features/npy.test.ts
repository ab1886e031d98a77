import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from './npy';

test('writeNpy / readNpy round trip a (N, 6, 10, 10) float32 array with a NumPy 1.0 header', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npy-'));
  try {
    const data = Float32Array.from({ length: 3 * 600 }, (_, i) => Math.sin(i) * 1e3);
    data[5] = NaN;
    data[6] = -Infinity;
    const path = join(dir, 'windows.npy');
    writeNpy(path, data, [3, 6, 10, 10]);
    const bytes = readFileSync(path);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = bytes.readUInt16LE(8);
    assert.equal((10 + headerLength) % 64, 0, 'data aligned to 64 bytes');
    assert.equal(bytes.subarray(10, 10 + headerLength).toString('latin1').trimEnd(), "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 6, 10, 10), }");
    assert.equal(bytes.length, 10 + headerLength + data.length * 4);
    const back = readNpy(path);
    assert.deepEqual(back.shape, [3, 6, 10, 10]);
    assert.deepEqual(new Uint32Array(back.data.buffer), new Uint32Array(data.buffer));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one-dimensional and empty arrays use NumPy\'s tuple syntax', () => {
  assert.match(encodeNpy(new Float32Array(4), [4]).toString('latin1'), /'shape': \(4,\), }/);
  const empty = decodeNpy(encodeNpy(new Float32Array(0), [0, 6, 10, 10]));
  assert.deepEqual(empty.shape, [0, 6, 10, 10]);
  assert.equal(empty.data.length, 0);
});

test('bad shapes and bad files give clear errors', () => {
  assert.throws(() => encodeNpy(new Float32Array(10), [2, 6]), /holds 12 values but the array has 10/);
  assert.throws(() => encodeNpy(new Float32Array(0), []), /non-negative integers/);
  assert.throws(() => decodeNpy(Buffer.from('not numpy at all'), 'x.npy'), /x.npy: not a .npy file/);
  const f8 = Buffer.from(encodeNpy(new Float32Array(2), [2]).toString('latin1').replace('<f4', '<f8'), 'latin1');
  assert.throws(() => decodeNpy(f8, 'y.npy'), /y.npy: dtype "<f8" is not supported/);
  const truncated = encodeNpy(new Float32Array(8), [8]).subarray(0, -4);
  assert.throws(() => decodeNpy(truncated, 'z.npy'), /z.npy: shape \(8\) needs 32 data bytes, file has 28/);
  const dir = mkdtempSync(join(tmpdir(), 'npy-'));
  try {
    writeFileSync(join(dir, 'a.npy'), 'x');
    assert.throws(() => readNpy(join(dir, 'a.npy')), /a.npy: not a .npy file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
