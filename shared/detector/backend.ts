/**
 * Picks and prepares the tfjs backend for training and scoring. wasm is the fastest backend that installs
 * everywhere (no native download), but tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel, so
 * convolution weights cannot be trained on it out of the box. We register that kernel on wasm by running
 * wasm's own `Conv3DBackpropFilterV2` on a depth-1 view of the same buffers (no copies), which makes both
 * architectures trainable on wasm. `@tensorflow/tfjs-node` is used only if it happens to be installed.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

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

/** Registers a wasm `Conv2DBackpropFilter` (stride/dilation 1 paths included) built on wasm's 3-D kernel. */
export function registerWasmConv2dBackpropFilter(): void {
  if (wasmPatched || tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined) {
    wasmPatched = true;
    return;
  }
  const conv3d = tf.getKernel('Conv3DBackpropFilterV2', 'wasm');
  if (!conv3d) throw new Error('tfjs-backend-wasm has no Conv3DBackpropFilterV2 kernel to build Conv2DBackpropFilter on');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    setupFunc: conv3d.setupFunc,
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
      // Same buffers seen as (N, depth 1, H, W, C): the 3-D kernel reads only dataId and shape.
      const x5: tf.TensorInfo = { dataId: x.dataId, dtype: x.dtype, shape: [x.shape[0], 1, x.shape[1], x.shape[2], x.shape[3]] };
      const dy5: tf.TensorInfo = { dataId: dy.dataId, dtype: dy.dtype, shape: [dy.shape[0], 1, dy.shape[1], dy.shape[2], dy.shape[3]] };
      const [fh, fw, ci, co] = a.filterShape;
      const out = conv3d.kernelFunc({
        inputs: { x: x5, dy: dy5 },
        backend,
        attrs: { strides: [1, sh, sw], pad: a.pad, filterShape: [1, fh, fw, ci, co] } as unknown as tf.NamedAttrMap,
      }) as tf.TensorInfo;
      return { dataId: out.dataId, dtype: out.dtype, shape: [fh, fw, ci, co] };
    },
  });
  wasmPatched = true;
}

/**
 * Sets the tfjs backend: `preferred` if given, else tfjs-node when it loads, else wasm (with the
 * Conv2DBackpropFilter kernel added), else cpu. Returns the backend in use.
 */
export async function initBackend(preferred?: BackendName): Promise<BackendName> {
  const order: BackendName[] = preferred ? [preferred] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    if (name === 'tensorflow' && !tryLoadNodeBackend()) continue;
    if (name === 'wasm') registerWasmConv2dBackpropFilter();
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
