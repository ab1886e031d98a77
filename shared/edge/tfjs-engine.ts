/**
 * The fallback inference engine: runs model.onnx with tfjs when onnxruntime-node's native binding does not
 * load on a device. It interprets the ONNX operators our exporter emits (shared/packaging/onnx/export.ts):
 * Conv, ConvTranspose, MatMul, Add, Mul, Relu, Sigmoid, Tanh, Flatten, Reshape, Transpose, Pad, Slice,
 * DequantizeLinear, Identity; a model with any other operator is refused at load time, naming it. Values
 * keep ONNX's NCHW layout; convolutions go through NHWC because that is what every tfjs backend supports.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../detector/backend';
import type { EngineFactory, InferenceEngine } from './inference-engine';
import { type OnnxAttribute, readOnnxGraph, type ReadGraph, type ReadNode, type ReadTensor } from './onnx-reader';

const SUPPORTED = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Add', 'Mul', 'Relu', 'Sigmoid', 'Tanh', 'Flatten', 'Reshape', 'Transpose', 'Pad', 'Slice', 'DequantizeLinear', 'Identity']);

const ints = (a: OnnxAttribute | undefined, fallback: number[]): number[] => (a && 'ints' in a ? a.ints : fallback);
const int = (a: OnnxAttribute | undefined, fallback: number): number => (a && 'i' in a ? a.i : fallback);
const str = (a: OnnxAttribute | undefined, fallback: string): string => (a && 's' in a ? a.s : fallback);

/** Graph constants: float initializers become tensors, integer ones (shapes, pads) stay numbers. */
interface Constants {
  tensors: Map<string, tf.Tensor>;
  numbers: Map<string, number[]>;
}

function dequantize(q: ReadTensor, scale: ReadTensor, axis: number): Float32Array {
  const inner = q.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = q.dims[axis];
  const scales = scale.data as Float32Array;
  const out = new Float32Array(q.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (q.data[i] as number) * scales[Math.floor(i / inner) % channels];
  return out;
}

function constants(graph: ReadGraph): Constants {
  const tensors = new Map<string, tf.Tensor>();
  const numbers = new Map<string, number[]>();
  for (const [name, t] of graph.initializers) {
    if (t.dataType === 1) tensors.set(name, tf.tensor(t.data as Float32Array, t.dims, 'float32'));
    else if (t.dataType === 7 || t.dataType === 6) numbers.set(name, Array.from(t.data as ArrayLike<number>));
  }
  // DequantizeLinear of constant int8 weights is folded here once.
  for (const n of graph.nodes) {
    if (n.opType !== 'DequantizeLinear') continue;
    const q = graph.initializers.get(n.inputs[0]);
    const scale = graph.initializers.get(n.inputs[1]);
    if (!q || !scale) throw new Error(`DequantizeLinear "${n.outputs[0]}": only constant int8 weights are supported`);
    tensors.set(n.outputs[0], tf.tensor(dequantize(q, scale, int(n.attributes.axis, 1)), q.dims, 'float32'));
  }
  return { tensors, numbers };
}

function runNode(n: ReadNode, get: (name: string) => tf.Tensor, num: (name: string) => number[]): tf.Tensor {
  const a = n.attributes;
  switch (n.opType) {
    case 'Identity':
      return get(n.inputs[0]).clone();
    case 'Add':
      return tf.add(get(n.inputs[0]), get(n.inputs[1]));
    case 'Mul':
      return tf.mul(get(n.inputs[0]), get(n.inputs[1]));
    case 'Relu':
      return tf.relu(get(n.inputs[0]));
    case 'Sigmoid':
      return tf.sigmoid(get(n.inputs[0]));
    case 'Tanh':
      return tf.tanh(get(n.inputs[0]));
    case 'MatMul': {
      const x = get(n.inputs[0]);
      const w = get(n.inputs[1]);
      if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D);
      const lead = x.shape.slice(0, -1);
      return tf.reshape(tf.matMul(tf.reshape(x, [-1, x.shape[x.rank - 1] as number]) as tf.Tensor2D, w as tf.Tensor2D), [...lead, w.shape[1] as number]);
    }
    case 'Flatten': {
      const x = get(n.inputs[0]);
      const axis = int(a.axis, 1);
      const outer = x.shape.slice(0, axis).reduce((p, q) => p * q, 1);
      return tf.reshape(x, [outer, -1]);
    }
    case 'Reshape': {
      const x = get(n.inputs[0]);
      const shape = num(n.inputs[1]).map((d, i) => (d === 0 ? x.shape[i] : d));
      return tf.reshape(x, shape);
    }
    case 'Transpose':
      return tf.transpose(get(n.inputs[0]), ints(a.perm, []).length ? ints(a.perm, []) : undefined);
    case 'Pad': {
      if (str(a.mode, 'constant') !== 'constant') throw new Error(`Pad "${n.outputs[0]}": only constant mode is supported`);
      const x = get(n.inputs[0]);
      const pads = num(n.inputs[1]);
      const r = x.rank;
      return tf.pad(x, Array.from({ length: r }, (_, i) => [pads[i], pads[i + r]] as [number, number]));
    }
    case 'Slice': {
      const x = get(n.inputs[0]);
      const starts = num(n.inputs[1]);
      const ends = num(n.inputs[2]);
      const axes = n.inputs[3] ? num(n.inputs[3]) : starts.map((_, i) => i);
      const begin = x.shape.map(() => 0);
      const size = x.shape.map(() => -1);
      axes.forEach((axis0, k) => {
        const axis = axis0 < 0 ? axis0 + x.rank : axis0;
        const dim = x.shape[axis];
        const s = Math.max(0, Math.min(dim, starts[k] < 0 ? starts[k] + dim : starts[k]));
        const e = Math.max(0, Math.min(dim, ends[k] < 0 ? ends[k] + dim : ends[k]));
        begin[axis] = s;
        size[axis] = Math.max(0, e - s);
      });
      return tf.slice(x, begin, size);
    }
    case 'Conv':
    case 'ConvTranspose': {
      const x = tf.transpose(get(n.inputs[0]), [0, 2, 3, 1]) as tf.Tensor4D; // NCHW -> NHWC
      const w = get(n.inputs[1]);
      const strides = ints(a.strides, [1, 1]) as [number, number];
      const dilations = ints(a.dilations, [1, 1]) as [number, number];
      const pads = ints(a.pads, [0, 0, 0, 0]);
      if (int(a.group, 1) !== 1) throw new Error(`${n.opType} "${n.outputs[0]}": grouped convolutions are not supported`);
      let y: tf.Tensor4D;
      if (n.opType === 'Conv') {
        // ONNX OIHW -> tfjs HWIO.
        const filter = tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D;
        const autoPad = str(a.auto_pad, 'NOTSET');
        let input = x;
        let pad: 'same' | 'valid' = 'valid';
        if (autoPad === 'SAME_UPPER') pad = 'same';
        else if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw new Error(`Conv "${n.outputs[0]}": auto_pad ${autoPad} is not supported`);
        else if (pads.some((p) => p !== 0)) input = tf.pad(x, [[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]]);
        y = tf.conv2d(input, filter, strides, pad, 'NHWC', dilations);
      } else {
        if (dilations.some((d) => d !== 1)) throw new Error(`ConvTranspose "${n.outputs[0]}": dilations are not supported`);
        // ONNX (C_in, C_out, kH, kW) -> tfjs [kH, kW, C_out, C_in].
        const filter = tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D;
        const [kh, kw] = [w.shape[2] as number, w.shape[3] as number];
        const extra = ints(a.output_padding, [0, 0]);
        const full = [0, 1].map((i) => strides[i] * (x.shape[1 + i] - 1) + [kh, kw][i] + extra[i]);
        y = tf.conv2dTranspose(x, filter, [x.shape[0], full[0], full[1], w.shape[1] as number], strides, 'valid');
        if (pads.some((p) => p !== 0)) y = tf.slice(y, [0, pads[0], pads[1], 0], [-1, full[0] - pads[0] - pads[2], full[1] - pads[1] - pads[3], -1]);
      }
      if (n.inputs[2]) y = tf.add(y, get(n.inputs[2]));
      return tf.transpose(y, [0, 3, 1, 2]); // back to NCHW
    }
    case 'DequantizeLinear':
      return get(n.outputs[0]).clone();
    default:
      throw new Error(`operator ${n.opType} is not supported by the tfjs engine`);
  }
}

/** Builds a tfjs interpreter for ONNX bytes; throws naming an unsupported operator. */
export const tfjsEngineFactory: EngineFactory = async (onnx, inputName) => {
  const graph = readOnnxGraph(onnx);
  const unsupported = [...new Set(graph.nodes.map((n) => n.opType).filter((op) => !SUPPORTED.has(op)))];
  if (unsupported.length) throw new Error(`the tfjs engine cannot run operator(s) ${unsupported.join(', ')}`);
  const backend = await initBackend();
  const { tensors, numbers } = constants(graph);
  const outputName = graph.outputs[0];
  const nodes = graph.nodes.filter((n) => n.opType !== 'DequantizeLinear');
  return {
    backend: `tfjs-${backend}`,
    inputShape: graph.inputShapes.get(inputName) ?? [],
    inputNames: [...graph.inputs],
    async run(input, shape) {
      const y = tf.tidy(() => {
        const values = new Map<string, tf.Tensor>(tensors);
        values.set(inputName, tf.tensor(input, shape, 'float32'));
        const get = (name: string): tf.Tensor => {
          const v = values.get(name);
          if (!v) throw new Error(`value "${name}" is not computed before it is used`);
          return v;
        };
        const num = (name: string): number[] => {
          const v = numbers.get(name);
          if (!v) throw new Error(`"${name}" must be a constant integer tensor`);
          return v;
        };
        for (const n of nodes) values.set(n.outputs[0], runNode(n, get, num));
        return get(outputName).clone();
      });
      const data = (await y.data()) as Float32Array;
      const dims = [...y.shape];
      y.dispose();
      return { data, dims };
    },
    async release() {
      for (const t of tensors.values()) t.dispose();
      tensors.clear();
    },
  };
};
