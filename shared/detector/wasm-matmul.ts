/**
 * A faster `BatchMatMul` for tfjs-backend-wasm when an operand is transposed, with bit-identical results.
 * tfjs-backend-wasm 4.22 sends every transposed product to its `slow_batch_matmul`, a scalar triple loop,
 * and training a dense layer needs two of them per step (the weight gradient x^T dy and the input gradient
 * dy W^T): they were 60 % of `npm run train` (measured with --cpu-prof). This kernel is a small WebAssembly
 * SIMD module that sums every output element exactly as slow_batch_matmul does (products rounded to f32,
 * added one by one from 0 in blocks of 48 along the shared dimension, each block's sum then added to the
 * output), four output columns per SIMD lane group instead of one, so a trained model's weights stay the
 * same bytes. Untransposed and batched products still go to tfjs's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import wabt from 'wabt';

/** slow_batch_matmul's block along the shared dimension (kBlockSize in batch_mat_mul_impl.cc). */
const K_BLOCK = 48;
/** Output columns per pass of the kernel: four f32x4 accumulators. */
const COLUMNS = 16;

/**
 * out (m x n) = A (m x k) . b (k x n, row-major), n a multiple of 16, A(i, kk) at a + 4 (i ai + kk ak) (so
 * a transposed A needs no copy). Each output is out = (...((0 + S1) + S2) ...) with S the products of one
 * 48-block of k added in order from 0.
 */
const KERNEL_WAT = `
(module
  (memory (export "memory") 1)
  (func (export "matmul") (param $a i32) (param $ai i32) (param $ak i32) (param $b i32) (param $out i32) (param $m i32) (param $k i32) (param $n i32)
    (local $stepA i32) (local $i i32) (local $j i32) (local $k0 i32) (local $k1 i32) (local $kk i32)
    (local $ap i32) (local $bp i32) (local $op i32) (local $rowB i32)
    (local $x v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $rowB (i32.shl (local.get $n) (i32.const 2)))
    (local.set $stepA (i32.shl (local.get $ak) (i32.const 2)))
    (block $doneI (loop $loopI
      (br_if $doneI (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $j (i32.const 0))
      (block $doneJ (loop $loopJ
        (br_if $doneJ (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $op (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
        (v128.store offset=0 (local.get $op) (v128.const i32x4 0 0 0 0))
        (v128.store offset=16 (local.get $op) (v128.const i32x4 0 0 0 0))
        (v128.store offset=32 (local.get $op) (v128.const i32x4 0 0 0 0))
        (v128.store offset=48 (local.get $op) (v128.const i32x4 0 0 0 0))
        (local.set $k0 (i32.const 0))
        (block $doneK0 (loop $loopK0
          (br_if $doneK0 (i32.ge_u (local.get $k0) (local.get $k)))
          (local.set $k1 (i32.add (local.get $k0) (i32.const ${K_BLOCK})))
          (if (i32.gt_u (local.get $k1) (local.get $k)) (then (local.set $k1 (local.get $k))))
          (local.set $c0 (v128.const i32x4 0 0 0 0))
          (local.set $c1 (v128.const i32x4 0 0 0 0))
          (local.set $c2 (v128.const i32x4 0 0 0 0))
          (local.set $c3 (v128.const i32x4 0 0 0 0))
          (local.set $ap (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ai)) (i32.mul (local.get $k0) (local.get $ak))) (i32.const 2))))
          (local.set $bp (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $n)) (local.get $j)) (i32.const 2))))
          (local.set $kk (local.get $k0))
          (block $doneK (loop $loopK
            (br_if $doneK (i32.ge_u (local.get $kk) (local.get $k1)))
            (local.set $x (f32x4.splat (f32.load (local.get $ap))))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $x) (v128.load offset=0 (local.get $bp)))))
            (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $x) (v128.load offset=16 (local.get $bp)))))
            (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $x) (v128.load offset=32 (local.get $bp)))))
            (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $x) (v128.load offset=48 (local.get $bp)))))
            (local.set $ap (i32.add (local.get $ap) (local.get $stepA)))
            (local.set $bp (i32.add (local.get $bp) (local.get $rowB)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (br $loopK)))
          (v128.store offset=0 (local.get $op) (f32x4.add (v128.load offset=0 (local.get $op)) (local.get $c0)))
          (v128.store offset=16 (local.get $op) (f32x4.add (v128.load offset=16 (local.get $op)) (local.get $c1)))
          (v128.store offset=32 (local.get $op) (f32x4.add (v128.load offset=32 (local.get $op)) (local.get $c2)))
          (v128.store offset=48 (local.get $op) (f32x4.add (v128.load offset=48 (local.get $op)) (local.get $c3)))
          (local.set $k0 (local.get $k1))
          (br $loopK0)))
        (local.set $j (i32.add (local.get $j) (i32.const ${COLUMNS})))
        (br $loopJ)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loopI)))))
`;

/** The parts of the WebAssembly API used here (the project's TypeScript lib has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const wasmApi = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => { exports: Record<string, unknown> } } }).WebAssembly;

/** The assembled kernel and its memory. */
export interface TransposedMatMul {
  /**
   * out (m x n) = op(a) . op(b) as tfjs-backend-wasm's slow_batch_matmul computes it: `a` holds a (m x k)
   * or, transposed, (k x m); `b` holds (k x n) or, transposed, (n x k).
   */
  multiply(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean, out: Float32Array): void;
}

/** Assembles the kernel (once per process). */
export async function loadTransposedMatMul(): Promise<TransposedMatMul> {
  const w = await wabt();
  const parsed = w.parseWat('transposed-matmul.wat', KERNEL_WAT, { simd: true });
  let binary: Uint8Array;
  try {
    binary = parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
  const instance = new wasmApi.Instance(new wasmApi.Module(binary), {});
  const memory = instance.exports.memory as WasmMemory;
  const matmul = instance.exports.matmul as (a: number, ai: number, ak: number, b: number, out: number, m: number, k: number, n: number) => void;
  return {
    multiply(a, b, m, k, n, transposeA, transposeB, out) {
      const n16 = Math.ceil(n / COLUMNS) * COLUMNS;
      const bytes = 4 * (m * k + k * n16 + m * n16);
      if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
      const heap = new Float32Array(memory.buffer);
      const aAt = 0;
      const bAt = m * k;
      const outAt = bAt + k * n16;
      // a as it is (strides tell the kernel its layout), b row-major (k x n16) with zero padding: copies,
      // which change no arithmetic.
      heap.set(a.subarray(0, m * k), aAt);
      if (transposeB) {
        for (let j = 0; j < n; j++) for (let kk = 0; kk < k; kk++) heap[bAt + kk * n16 + j] = b[j * k + kk];
      } else if (n16 === n) {
        heap.set(b.subarray(0, k * n), bAt);
      } else {
        for (let kk = 0; kk < k; kk++) heap.set(b.subarray(kk * n, (kk + 1) * n), bAt + kk * n16);
      }
      if (n16 !== n) for (let kk = 0; kk < k; kk++) heap.fill(0, bAt + kk * n16 + n, bAt + (kk + 1) * n16);
      matmul(aAt * 4, transposeA ? 1 : k, transposeA ? m : 1, bAt * 4, outAt * 4, m, k, n16);
      if (n16 === n) out.set(heap.subarray(outAt, outAt + m * n));
      else for (let i = 0; i < m; i++) out.set(heap.subarray(outAt + i * n16, outAt + i * n16 + n), i * n);
    },
  };
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

let registered: Promise<void> | null = null;

/**
 * Replaces the wasm backend's BatchMatMul with one that runs transposed, unbatched float32 products on the
 * kernel above and everything else on tfjs's own kernel. Call before the wasm backend is first set.
 */
export function registerWasmTransposedMatMul(): Promise<void> {
  registered ??= (async () => {
    const original = tf.getKernel('BatchMatMul', 'wasm');
    if (!original) throw new Error('tfjs-backend-wasm has no BatchMatMul kernel to wrap');
    const kernel = await loadTransposedMatMul();
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
        const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
        const batch = (s: number[]) => s.slice(0, -2).reduce((p, d) => p * d, 1);
        if (!(transposeA || transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32' || batch(a.shape) !== 1 || batch(b.shape) !== 1) {
          return original.kernelFunc(args);
        }
        const [ar, ac] = a.shape.slice(-2);
        const [br, bc] = b.shape.slice(-2);
        const [m, k] = transposeA ? [ac, ar] : [ar, ac];
        const [kb, n] = transposeB ? [bc, br] : [br, bc];
        if (k !== kb) throw new Error(`matMul: inner dimensions ${k} and ${kb} of shapes [${a.shape}] and [${b.shape}] (transposeA ${transposeA}, transposeB ${transposeB}) differ`);
        const backend = args.backend as unknown as WasmBackendLike;
        const outShape = [...(a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2), m, n];
        const out = backend.makeOutput(outShape, 'float32');
        // Views of the wasm heap are taken after makeOutput, which may grow (and so replace) the heap.
        kernel.multiply(backend.typedArrayFromHeap(a), backend.typedArrayFromHeap(b), m, k, n, transposeA, transposeB, backend.typedArrayFromHeap(out));
        return out;
      },
    });
  })();
  return registered;
}
