/**
 * Picks and prepares the tfjs backend for training and scoring. wasm is the fastest backend that installs
 * everywhere (no native download), but tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel, so
 * convolution weights cannot be trained on it out of the box. We register that kernel on wasm, built from
 * wasm's own kernels, which makes both
 * architectures trainable on wasm (see registerWasmConv2dBackpropFilter). `@tensorflow/tfjs-node` is used
 * only if it happens to be installed.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTransposedMatMul } from './wasm-matmul';

/** Backends this project knows how to use, fastest first. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

let nodeBackendTried = false;
let wasmPatched = false;

/** Loads `@tensorflow/tfjs-node` if present (it registers the 'tensorflow' backend); never required. */
function tryLoadNodeBackend(): boolean {
  if (!nodeBackendTried) {
    nodeBackendTried = true;
    try {
      // Indirect name so bundlers and the type checker do not insist on the optional package.
      const optional = '@tensorflow/tfjs-node';
      require(optional);
    } catch {
      // Not installed or its native library failed to load: wasm/cpu it is.
    }
  }
  return tf.findBackend('tensorflow') !== null || tf.findBackendFactory('tensorflow') !== null;
}

/**
 * Registers a wasm `Conv2DBackpropFilter` for stride 1 and 'valid' padding (what our layers use): one
 * matrix product per filter tap on wasm's XNNPACK BatchMatMul, dW[i, j] = x[:, i.., j.., :]^T . dy (4x
 * faster than running wasm's naive Conv3DBackpropFilterV2 on a depth-1 view, 60x faster than the cpu
 * backend, measured on the original model). Other strides or paddings throw a clear error.
 */
export function registerWasmConv2dBackpropFilter(): void {
  if (wasmPatched || tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined) {
    wasmPatched = true;
    return;
  }
  const kernel = (name: string) => {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`tfjs-backend-wasm has no ${name} kernel to build Conv2DBackpropFilter on`);
    return k;
  };
  const slice = kernel('Slice');
  const matMul = kernel('BatchMatMul');
  const concat = kernel('Concat');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = attrs as unknown as {
        strides: number | [number, number];
        pad: 'valid' | 'same' | number | unknown;
        dataFormat?: string;
        dimRoundingMode?: string;
        filterShape: [number, number, number, number];
      };
      if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') throw new Error(`wasm Conv2DBackpropFilter: only NHWC, got ${a.dataFormat}`);
      if (typeof a.pad !== 'string' && typeof a.pad !== 'number') throw new Error('wasm Conv2DBackpropFilter: explicit padding is not supported');
      if (a.dimRoundingMode !== undefined) throw new Error('wasm Conv2DBackpropFilter: dimRoundingMode is not supported');
      const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
      const [fh, fw, ci, co] = a.filterShape;
      const wasm = backend as unknown as { disposeData(id: object): void };
      if (sh === 1 && sw === 1 && (a.pad === 'valid' || a.pad === 0)) {
        const [n, , , c] = x.shape;
        const [, oh, ow, f] = dy.shape;
        const rows = n * oh * ow;
        const dy3: tf.TensorInfo = { dataId: dy.dataId, dtype: dy.dtype, shape: [1, rows, f] };
        const parts: tf.TensorInfo[] = [];
        for (let i = 0; i < fh; i++) {
          for (let j = 0; j < fw; j++) {
            const tap = slice.kernelFunc({ inputs: { x }, backend, attrs: { begin: [0, i, j, 0], size: [n, oh, ow, c] } }) as tf.TensorInfo;
            const tap3: tf.TensorInfo = { dataId: tap.dataId, dtype: tap.dtype, shape: [1, rows, c] };
            parts.push(matMul.kernelFunc({ inputs: { a: tap3, b: dy3 }, backend, attrs: { transposeA: true, transposeB: false } }) as tf.TensorInfo);
            wasm.disposeData(tap.dataId);
          }
        }
        const out = concat.kernelFunc({ inputs: parts as unknown as tf.NamedTensorInfoMap, backend, attrs: { axis: 0 } }) as tf.TensorInfo;
        for (const p of parts) wasm.disposeData(p.dataId);
        return { dataId: out.dataId, dtype: out.dtype, shape: [fh, fw, ci, co] };
      }
      // Other strides and paddings are not needed by our models; refuse rather than compute something else.
      throw new Error(`wasm Conv2DBackpropFilter supports stride 1 with 'valid' padding only (got strides ${sh},${sw}, pad ${String(a.pad)}): train this model on the cpu backend`);
    },
  });
  wasmPatched = true;
}

/**
 * Sets the tfjs backend: `preferred` if given, else tfjs-node when it loads, else wasm (with the
 * Conv2DBackpropFilter kernel added and transposed products on wasm-matmul.ts), else cpu. Returns the backend in use.
 */
export async function initBackend(preferred?: BackendName): Promise<BackendName> {
  const order: BackendName[] = preferred ? [preferred] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    if (name === 'tensorflow' && !tryLoadNodeBackend()) continue;
    if (name === 'wasm') {
      // First: the Conv2DBackpropFilter kernel multiplies with it. DETECTOR_WASM_MATMUL=tfjs keeps tfjs's own
      // (same results, slower; the bench's baseline).
      if (process.env.DETECTOR_WASM_MATMUL !== 'tfjs') await registerWasmTransposedMatMul();
      registerWasmConv2dBackpropFilter();
    }
    if (tf.getBackend() === name) return name;
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // Try the next backend.
    }
  }
  throw new Error(`no usable tfjs backend among ${order.join(', ')}`);
}
