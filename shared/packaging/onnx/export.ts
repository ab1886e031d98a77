/**
 * Exports a tfjs LayersModel to ONNX without Python: the model's layer graph and weights become an ONNX
 * graph (opset 17, IR 8) that onnxruntime runs with the same results (proven in export.test.ts).
 *
 * Layout: tfjs convolutions are channels-last (NHWC) while ONNX Conv is channels-first (NCHW). Instead of
 * translating every Permute into a Transpose, each value remembers how its ONNX tensor's axes map onto the
 * tfjs tensor's axes; Permute only changes that mapping, and a Transpose is emitted only where an op needs
 * another layout (Flatten, Reshape, Dense on a permuted value, the graph output). For the workshop's
 * convolutional autoencoder, whose Permutes sit at its NCHW boundary, no Transpose is emitted at all.
 *
 * Supported layers: InputLayer, Flatten, Dense, Activation/ReLU, Reshape, Permute, ZeroPadding2D, Conv2D,
 * Conv2DTranspose ('valid' padding), Cropping2D, Dropout (identity at inference). Anything else is refused
 * with an error naming the layer and its class.
 */
import type * as tf from '@tensorflow/tfjs';
import { DataType, encodeModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-proto';

/** The exported graph's input name (the data contract's; tfjs may have renamed its layer "input_1"). */
export const ONNX_INPUT_NAME = 'input';
/** The exported graph's output name. */
export const ONNX_OUTPUT_NAME = 'reconstruction';
/** Name of the symbolic batch dimension. */
export const ONNX_BATCH_DIM = 'N';

export interface OnnxExportOptions {
  /** Graph input name; default "input". */
  inputName?: string;
  /** Graph output name; default "reconstruction". */
  outputName?: string;
  /**
   * 'float32' (default) keeps weights as trained. 'int8' stores Dense and convolution kernels as int8 with
   * one float scale per output channel (symmetric), dequantised by DequantizeLinear: a file about 4x
   * smaller for over-the-air updates, at a measured cost in accuracy (see the bench); biases stay float.
   */
  weights?: 'float32' | 'int8';
  /** Stored as model metadata (e.g. name and version of the package). */
  metadata?: Record<string, string>;
}

/** What `exportToOnnx` produced: the .onnx bytes and the I/O signature a runtime needs. */
export interface OnnxExport {
  bytes: Uint8Array;
  inputName: string;
  /** Input shape with the batch dimension as null, e.g. [null, 6, 10, 10]. */
  inputShape: Array<number | null>;
  outputName: string;
  outputShape: Array<number | null>;
  /** Op types in graph order (for reports and tests). */
  ops: string[];
}

/** Raised for a model the exporter cannot translate; names the layer and its class. */
export class UnsupportedLayerError extends Error {
  constructor(
    readonly layerName: string,
    readonly className: string,
    detail: string,
  ) {
    super(`cannot export layer "${layerName}" (${className}) to ONNX: ${detail}`);
    this.name = 'UnsupportedLayerError';
  }
}

/** An ONNX value standing for one tfjs tensor: `order[i]` is the tfjs axis held by ONNX axis i. */
interface Value {
  name: string;
  /** tfjs (logical) shape, batch first as null. */
  shape: Array<number | null>;
  order: number[];
}

type LayerConfig = Record<string, unknown>;

const identity = (rank: number) => Array.from({ length: rank }, (_, i) => i);
const sameOrder = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Builds the ONNX graph for a tfjs LayersModel with one input and one output; returns its bytes. */
export function exportToOnnx(model: tf.LayersModel, options: OnnxExportOptions = {}): OnnxExport {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(`cannot export model "${model.name}" to ONNX: it has ${model.inputs.length} inputs and ${model.outputs.length} outputs (expected one of each)`);
  }
  const outputName = options.outputName ?? ONNX_OUTPUT_NAME;
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const values = new Map<number, Value>(); // SymbolicTensor id -> value
  const used = new Set<string>();
  const unique = (base: string) => {
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
  const floatInit = (name: string, dims: number[], data: Float32Array) => {
    const n = unique(name);
    initializers.push({ name: n, dims, dataType: DataType.FLOAT, data });
    return n;
  };
  /** A kernel initializer, or int8 + per-channel scale + DequantizeLinear when quantising (axis: output channels). */
  const kernelInit = (layer: string, dims: number[], data: Float32Array, axis: number) => {
    if ((options.weights ?? 'float32') === 'float32') return floatInit(`${layer}.kernel`, dims, data);
    const { values, scales } = quantizeSymmetric(data, dims, axis);
    const q = unique(`${layer}.kernel_int8`);
    initializers.push({ name: q, dims, dataType: DataType.INT8, data: values });
    const scale = floatInit(`${layer}.kernel_scale`, [scales.length], scales);
    const zero = unique(`${layer}.kernel_zero`);
    initializers.push({ name: zero, dims: [scales.length], dataType: DataType.INT8, data: new Int8Array(scales.length) });
    return node(layer, 'DequantizeLinear', [q, scale, zero], { axis: { int: axis } });
  };
  const intInit = (name: string, data: number[]) => {
    const n = unique(name);
    initializers.push({ name: n, dims: [data.length], dataType: DataType.INT64, data: BigInt64Array.from(data.map(BigInt)) });
    return n;
  };
  const node = (layer: string, opType: string, inputs: string[], attributes?: OnnxNode['attributes']) => {
    const out = unique(`${layer}/${opType}`);
    nodes.push({ name: out, opType, inputs, outputs: [out], attributes });
    return out;
  };
  /** The value with its ONNX axes rearranged to `target` (a Transpose only if needed). */
  const inLayout = (layer: string, v: Value, target: number[]): Value => {
    if (sameOrder(v.order, target)) return v;
    const perm = target.map((axis) => v.order.indexOf(axis));
    return { ...v, name: node(layer, 'Transpose', [v.name], { perm: { ints: perm } }), order: [...target] };
  };

  const input = model.inputs[0];
  const inputName = options.inputName ?? ONNX_INPUT_NAME;
  const inputShape = [...input.shape];
  used.add(inputName);
  values.set(input.id, { name: inputName, shape: inputShape, order: identity(inputShape.length) });

  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === 'InputLayer') continue;
    const refuse = (detail: string): never => {
      throw new UnsupportedLayerError(layer.name, className, detail);
    };
    if (layer.inboundNodes.length !== 1) refuse(`it is used ${layer.inboundNodes.length} times (shared layers are not supported)`);
    const inbound = layer.inboundNodes[0];
    if (inbound.inputTensors.length !== 1) refuse(`it has ${inbound.inputTensors.length} inputs (only single-input layers are supported)`);
    const x = values.get(inbound.inputTensors[0].id);
    if (!x) refuse('its input is not produced by an earlier layer');
    const src = x as Value;
    const config = layer.getConfig() as LayerConfig;
    const outShape = [...(layer.outputShape as Array<number | null>)];
    const weights = layer.getWeights();
    const weight = (k: number) => {
      if (!weights[k]) refuse(`weight ${k} is missing`);
      return { data: weights[k].dataSync() as Float32Array, shape: weights[k].shape };
    };
    const rank = src.shape.length;
    /** Channels-first ONNX layout of a 4-D tfjs value in the layer's data format. */
    const convLayout = () => {
      if (rank !== 4) refuse(`expected a 4-D input, got rank ${rank}`);
      return config.dataFormat === 'channelsFirst' ? [0, 1, 2, 3] : [0, 3, 1, 2];
    };
    const activate = (name: string, order: number[]): Value => {
      const activation = (config.activation as string | undefined) ?? 'linear';
      return { name: activationNode(layer.name, className, activation, name, node), shape: outShape, order };
    };
    let y: Value;
    switch (className) {
      case 'Dropout':
      case 'SpatialDropout1D':
        y = { ...src, shape: outShape };
        break;
      case 'Activation':
        y = activate(src.name, src.order);
        break;
      case 'ReLU':
        if (config.maxValue !== undefined && config.maxValue !== null) refuse('maxValue is not supported');
        y = { ...src, name: node(layer.name, 'Relu', [src.name]), shape: outShape };
        break;
      case 'Flatten': {
        const v = inLayout(layer.name, src, identity(rank));
        y = { name: node(layer.name, 'Flatten', [v.name], { axis: { int: 1 } }), shape: outShape, order: [0, 1] };
        break;
      }
      case 'Reshape': {
        const v = inLayout(layer.name, src, identity(rank));
        const target = (config.targetShape as number[]).map((d) => (d === null ? -1 : d));
        y = { name: node(layer.name, 'Reshape', [v.name, intInit(`${layer.name}.shape`, [0, ...target])]), shape: outShape, order: identity(outShape.length) };
        break;
      }
      case 'Permute': {
        // tfjs output axis j+1 is input axis dims[j]; only the axis mapping changes, no data moves.
        const p = [0, ...(config.dims as number[])];
        const inverse: number[] = [];
        p.forEach((axis, j) => (inverse[axis] = j));
        y = { name: src.name, shape: outShape, order: src.order.map((axis) => inverse[axis]) };
        break;
      }
      case 'Dense': {
        const v = inLayout(layer.name, src, identity(rank));
        const kernel = weight(0);
        let out = node(layer.name, 'MatMul', [v.name, kernelInit(layer.name, kernel.shape, kernel.data, 1)]);
        if (config.useBias !== false) {
          const bias = weight(1);
          out = node(layer.name, 'Add', [out, floatInit(`${layer.name}.bias`, bias.shape, bias.data)]);
        }
        y = activate(out, identity(outShape.length));
        break;
      }
      case 'ZeroPadding2D': {
        const layout = convLayout();
        const v = inLayout(layer.name, src, layout);
        const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
        const pads = intInit(`${layer.name}.pads`, [0, 0, top, left, 0, 0, bottom, right]);
        y = { name: node(layer.name, 'Pad', [v.name, pads], { mode: { string: 'constant' } }), shape: outShape, order: layout };
        break;
      }
      case 'Cropping2D': {
        const layout = convLayout();
        const v = inLayout(layer.name, src, layout);
        const [[top, bottom], [left, right]] = config.cropping as [[number, number], [number, number]];
        const [h, w] = layout[1] === 1 ? [src.shape[2], src.shape[3]] : [src.shape[1], src.shape[2]];
        if (typeof h !== 'number' || typeof w !== 'number') refuse('its input height and width must be fixed');
        const starts = intInit(`${layer.name}.starts`, [top, left]);
        const ends = intInit(`${layer.name}.ends`, [(h as number) - bottom, (w as number) - right]);
        const axes = intInit(`${layer.name}.axes`, [2, 3]);
        y = { name: node(layer.name, 'Slice', [v.name, starts, ends, axes]), shape: outShape, order: layout };
        break;
      }
      case 'Conv2D':
      case 'Conv2DTranspose': {
        const layout = convLayout();
        const v = inLayout(layer.name, src, layout);
        const transposed = className === 'Conv2DTranspose';
        if ((config.groups ?? 1) !== 1) refuse('grouped convolutions are not supported');
        const kernel = weight(0);
        // tfjs kernels: Conv2D [kh, kw, in, out] -> ONNX OIHW; Conv2DTranspose [kh, kw, out, in] -> ONNX IOHW.
        // Both are the same axis permutation (3, 2, 0, 1).
        const onnxKernel = permute4(kernel.data, kernel.shape as number[], [3, 2, 0, 1]);
        const inputs = [v.name, kernelInit(layer.name, onnxKernel.shape, onnxKernel.data, transposed ? 1 : 0)];
        if (config.useBias !== false) {
          const bias = weight(1);
          inputs.push(floatInit(`${layer.name}.bias`, bias.shape, bias.data));
        }
        const [kh, kw] = kernel.shape;
        const strides = (config.strides as number[]) ?? [1, 1];
        const dilations = (config.dilationRate as number[] | number | undefined) ?? [1, 1];
        const dil = Array.isArray(dilations) ? dilations : [dilations, dilations];
        const attributes: OnnxNode['attributes'] = { kernel_shape: { ints: [kh, kw] }, strides: { ints: strides }, dilations: { ints: dil } };
        if (config.padding === 'valid') attributes.pads = { ints: [0, 0, 0, 0] };
        else if (config.padding === 'same' && !transposed) attributes.auto_pad = { string: 'SAME_UPPER' }; // TF puts the odd pixel at the end
        else refuse(`padding "${String(config.padding)}" is not supported${transposed ? " (only 'valid')" : ''}`);
        if (transposed) {
          // ONNX gives stride*(in-1) + k; tfjs 'valid' gives in*stride + max(k - stride, 0): the difference is output_padding.
          const inHW = layout[1] === 1 ? [src.shape[2], src.shape[3]] : [src.shape[1], src.shape[2]];
          const outHW = layout[1] === 1 ? [outShape[2], outShape[3]] : [outShape[1], outShape[2]];
          const extra = [0, 1].map((a) => (outHW[a] as number) - (strides[a] * ((inHW[a] as number) - 1) + (dil[a] * ([kh, kw][a] - 1) + 1)));
          if (extra.some((e) => !Number.isFinite(e) || e < 0)) refuse('its output size cannot be expressed with ONNX ConvTranspose');
          if (extra.some((e) => e > 0)) attributes.output_padding = { ints: extra };
        }
        const out = node(layer.name, transposed ? 'ConvTranspose' : 'Conv', inputs, attributes);
        y = activate(out, layout);
        break;
      }
      default:
        y = refuse('this layer class has no ONNX translation here');
    }
    values.set(layer.output instanceof Array ? refuse('it has several outputs') : (layer.output as tf.SymbolicTensor).id, y);
  }

  const output = model.outputs[0];
  let last = values.get(output.id);
  if (!last) throw new Error(`cannot export model "${model.name}" to ONNX: its output is not produced by any layer`);
  last = inLayout('output', last, identity(last.shape.length));
  // Give the final value the graph output name (rename its producer, or add an Identity for a bare input).
  const producer = nodes.find((n) => n.outputs[0] === last!.name);
  if (producer && last.name !== inputName) producer.outputs[0] = outputName;
  else nodes.push({ name: 'output/Identity', opType: 'Identity', inputs: [last.name], outputs: [outputName] });

  const info = (name: string, shape: Array<number | null>): OnnxValueInfo => ({
    name,
    elemType: DataType.FLOAT,
    shape: shape.map((d, i) => (d === null ? (i === 0 ? ONNX_BATCH_DIM : `d${i}`) : d)),
  });
  const bytes = encodeModel({
    producerName: 'wind-turbine-edge-ml-labs tfjs-to-onnx',
    producerVersion: '1',
    docString: `exported from tfjs model "${model.name}"`,
    metadata: options.metadata,
    graph: { name: model.name, nodes, initializers, inputs: [info(inputName, inputShape)], outputs: [info(outputName, last.shape)] },
  });
  return { bytes, inputName, inputShape, outputName, outputShape: last.shape, ops: nodes.map((n) => n.opType) };
}

/** Emits the activation (none for linear); returns the value name. */
function activationNode(
  layer: string,
  className: string,
  activation: string,
  input: string,
  node: (layer: string, op: string, inputs: string[]) => string,
): string {
  switch (activation) {
    case 'linear':
      return input;
    case 'relu':
      return node(layer, 'Relu', [input]);
    case 'sigmoid':
      return node(layer, 'Sigmoid', [input]);
    case 'tanh':
      return node(layer, 'Tanh', [input]);
    default:
      throw new UnsupportedLayerError(layer, className, `activation "${activation}" is not supported (relu, sigmoid, tanh, linear)`);
  }
}

/** Symmetric int8 quantisation with one scale per index along `axis` (max |w| maps to 127). */
function quantizeSymmetric(data: Float32Array, dims: number[], axis: number): { values: Int8Array; scales: Float32Array } {
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = dims[axis];
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    maxAbs[c] = Math.max(maxAbs[c], Math.abs(data[i]));
  }
  const scales = maxAbs.map((m) => (m > 0 ? m / 127 : 1));
  const values = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    values[i] = Math.max(-127, Math.min(127, Math.round(data[i] / scales[c])));
  }
  return { values, scales };
}

/** Transposes a row-major 4-D array: output axis i is input axis perm[i]. */
function permute4(data: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const s = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  let at = 0;
  for (let a = 0; a < outShape[0]; a++)
    for (let b = 0; b < outShape[1]; b++)
      for (let c = 0; c < outShape[2]; c++)
        for (let d = 0; d < outShape[3]; d++) out[at++] = data[a * s[0] + b * s[1] + c * s[2] + d * s[3]];
  return { data: out, shape: outShape };
}
