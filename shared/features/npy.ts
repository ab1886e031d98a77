/**
 * NumPy .npy files (format 1.0, little-endian float32 '<f4', C order), so windows written here load with
 * numpy.load and in any tool that reads .npy.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const HEADER_ALIGNMENT = 64;

/** A float32 array and its shape (C order). */
export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

/** Encodes a float32 array of the given shape as .npy bytes (header + raw little-endian data). */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Buffer {
  return Buffer.concat([npyHeader(data.length, shape), littleEndianBytes(data)]);
}

/** The .npy header (magic, version, padded dict) for a float32 array of the given shape. */
function npyHeader(length: number, shape: readonly number[]): Buffer {
  checkShape(length, shape);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad with spaces so the data starts on a 64-byte boundary; the header ends with a newline.
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((HEADER_ALIGNMENT - (unpadded % HEADER_ALIGNMENT)) % HEADER_ALIGNMENT) + '\n';
  const prefix = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1; // major version
  prefix[7] = 0; // minor version
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1')]);
}

/** Decodes .npy bytes holding a C-order '<f4' array; throws naming what is not supported. */
export function decodeNpy(bytes: Buffer, source = 'npy data'): NpyArray {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) throw new Error(`${source}: not a .npy file (bad magic)`);
  const major = bytes[6];
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = bytes.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLength = bytes.readUInt32LE(8);
    headerStart = 12;
  } else throw new Error(`${source}: unsupported .npy version ${major}`);
  const header = bytes.subarray(headerStart, headerStart + headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr !== '<f4') throw new Error(`${source}: dtype "${descr}" is not supported (only little-endian float32 '<f4')`);
  if (fortran !== 'False') throw new Error(`${source}: Fortran-order arrays are not supported`);
  if (shapeText === undefined) throw new Error(`${source}: header has no shape`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${source}: bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart !== count * 4) {
    throw new Error(`${source}: shape (${shape.join(', ')}) needs ${count * 4} data bytes, file has ${bytes.length - dataStart}`);
  }
  const start = bytes.byteOffset + dataStart;
  if (endianness() === 'LE') return { data: new Float32Array(bytes.buffer.slice(start, start + count * 4)), shape };
  const data = new Float32Array(count);
  const view = new DataView(bytes.buffer, start, count * 4);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
  return { data, shape };
}

/** Writes a float32 array of the given shape to a .npy file. */
export function writeNpy(path: string, data: Float32Array, shape: readonly number[]): void {
  writeNpyChunks(path, [data], shape);
}

/** Writes consecutive float32 chunks as one .npy array of the given shape, without concatenating them. */
export function writeNpyChunks(path: string, chunks: readonly Float32Array[], shape: readonly number[]): void {
  const length = chunks.reduce((sum, c) => sum + c.length, 0);
  const header = npyHeader(length, shape);
  // Separate writes instead of one concatenated buffer: window files can be hundreds of megabytes.
  const fd = openSync(path, 'w');
  try {
    writeAll(fd, header);
    for (const chunk of chunks) writeAll(fd, littleEndianBytes(chunk));
  } finally {
    closeSync(fd);
  }
}

/** Reads a float32 .npy file. */
export function readNpy(path: string): NpyArray {
  return decodeNpy(readFileSync(path), path);
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
}

function checkShape(length: number, shape: readonly number[]): void {
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`npy shape must be non-negative integers, got (${shape.join(', ')})`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== length) throw new Error(`npy shape (${shape.join(', ')}) holds ${count} values but the array has ${length}`);
}

function littleEndianBytes(data: Float32Array): Buffer {
  if (endianness() === 'LE') return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], i * 4);
  return out;
}
