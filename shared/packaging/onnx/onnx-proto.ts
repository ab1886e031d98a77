/**
 * The few ONNX messages the exporter writes, as plain objects, and their encoding through the one schema
 * in onnx-schema.ts (which the device's reader decodes with too).
 */
import { AttributeType, DataType, type AttributeMessage, encodeModelMessage, type NodeMessage, type TensorMessage, type ValueInfoMessage } from './onnx-schema';

export { DataType, type DataTypeCode } from './onnx-schema';

/** IR version 8 (ONNX 1.10+): every onnxruntime since 1.10 reads it, 1.30 included. */
export const ONNX_IR_VERSION = 8;
/** Default-domain opset the exporter targets (all ops it emits exist unchanged in 13..17). */
export const ONNX_OPSET = 17;

/** A constant tensor (an initializer): float32, int8 or int64 data, stored as raw little-endian bytes. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: typeof DataType.FLOAT | typeof DataType.INT8 | typeof DataType.INT64;
  data: Float32Array | Int8Array | BigInt64Array;
}

/** A node attribute: number (int), float marker, string or int list. */
export type OnnxAttributeValue = { int: number } | { float: number } | { string: string } | { ints: number[] } | { floats: number[] };

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, OnnxAttributeValue>;
}

/** A graph input/output: float tensor with fixed dims or named symbolic dims. */
export interface OnnxValueInfo {
  name: string;
  elemType: typeof DataType.FLOAT;
  shape: Array<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** raw_data is little-endian whatever the host: copy byte-swapped on a big-endian machine. */
function littleEndianBytes(data: Float32Array | Int8Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_IS_LITTLE_ENDIAN) return bytes;
  const width = data.BYTES_PER_ELEMENT;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += width) for (let k = 0; k < width; k++) out[i + k] = bytes[i + width - 1 - k];
  return out;
}

function tensorMessage(t: OnnxTensor): TensorMessage {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== expected) throw new Error(`tensor ${t.name}: ${t.data.length} values for dims (${t.dims.join(', ')})`);
  return { dims: t.dims, dataType: t.dataType, name: t.name, rawData: littleEndianBytes(t.data) };
}

function attributeMessage(name: string, value: OnnxAttributeValue): AttributeMessage {
  if ('int' in value) return { name, i: value.int, type: AttributeType.INT };
  if ('float' in value) return { name, f: value.float, type: AttributeType.FLOAT };
  if ('string' in value) return { name, s: new TextEncoder().encode(value.string), type: AttributeType.STRING };
  if ('ints' in value) return { name, ints: value.ints, type: AttributeType.INTS };
  return { name, floats: value.floats, type: AttributeType.FLOATS };
}

function nodeMessage(n: OnnxNode): NodeMessage {
  const attribute = Object.entries(n.attributes ?? {}).map(([name, value]) => attributeMessage(name, value));
  return { input: n.inputs, output: n.outputs, name: n.name, opType: n.opType, attribute };
}

function valueInfoMessage(v: OnnxValueInfo): ValueInfoMessage {
  const dim = v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name: v.name, type: { tensorType: { elemType: v.elemType, shape: { dim } } } };
}

/** Serialises a model to the bytes of an .onnx file. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const g = m.graph;
  return encodeModelMessage({
    irVersion: ONNX_IR_VERSION,
    producerName: m.producerName,
    producerVersion: m.producerVersion,
    docString: m.docString || undefined,
    graph: {
      node: g.nodes.map(nodeMessage),
      name: g.name,
      initializer: g.initializers.map(tensorMessage),
      input: g.inputs.map(valueInfoMessage),
      output: g.outputs.map(valueInfoMessage),
    },
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: Object.entries(m.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}
