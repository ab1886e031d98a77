/**
 * The few ONNX messages the exporter writes, as plain objects, and their protobuf encoding. Field numbers
 * follow onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto,
 * TypeProto, TensorShapeProto, OperatorSetIdProto, StringStringEntryProto).
 */
import { ProtoWriter } from './protobuf';

/** IR version 8 (ONNX 1.10+): every onnxruntime since 1.10 reads it, 1.30 included. */
export const ONNX_IR_VERSION = 8;
/** Default-domain opset the exporter targets (all ops it emits exist unchanged in 13..17). */
export const ONNX_OPSET = 17;

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT8: 3, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used here. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** A constant tensor (an initializer): float32, int8 or int64 data, stored as raw little-endian bytes. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: DataTypeCode;
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
  elemType: DataTypeCode;
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

function encodeTensor(t: OnnxTensor): Uint8Array {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== expected) throw new Error(`tensor ${t.name}: ${t.data.length} values for dims (${t.dims.join(', ')})`);
  const w = new ProtoWriter();
  w.packedVarints(1, t.dims); // dims
  w.varint(2, t.dataType); // data_type
  w.string(8, t.name); // name
  w.bytes(9, littleEndianBytes(t.data)); // raw_data

  return w.finish();
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

function encodeAttribute(name: string, value: OnnxAttributeValue): Uint8Array {
  const w = new ProtoWriter().string(1, name);
  if ('int' in value) w.varint(3, value.int).varint(20, AttributeType.INT);
  else if ('float' in value) w.float(2, value.float).varint(20, AttributeType.FLOAT);
  else if ('string' in value) w.string(4, value.string).varint(20, AttributeType.STRING);
  else if ('ints' in value) w.packedVarints(8, value.ints).varint(20, AttributeType.INTS);
  else {
    for (const f of value.floats) w.float(7, f);
    w.varint(20, AttributeType.FLOATS);
  }
  return w.finish();
}

function encodeNode(n: OnnxNode): Uint8Array {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [name, value] of Object.entries(n.attributes ?? {})) w.bytes(5, encodeAttribute(name, value));
  return w.finish();
}

function encodeValueInfo(v: OnnxValueInfo): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d); // dim_value | dim_param
    shape.bytes(1, dim.finish());
  }
  const tensorType = new ProtoWriter().varint(1, v.elemType).bytes(2, shape.finish()); // elem_type, shape
  const type = new ProtoWriter().bytes(1, tensorType.finish()); // TypeProto.tensor_type
  return new ProtoWriter().string(1, v.name).bytes(2, type.finish()).finish();
}

function encodeGraph(g: OnnxGraph): Uint8Array {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.bytes(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.bytes(5, encodeTensor(t));
  for (const i of g.inputs) w.bytes(11, encodeValueInfo(i));
  for (const o of g.outputs) w.bytes(12, encodeValueInfo(o));
  return w.finish();
}

/** Serialises a model to the bytes of an .onnx file. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, ONNX_IR_VERSION);
  w.string(2, m.producerName).string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.bytes(7, encodeGraph(m.graph));
  w.bytes(8, new ProtoWriter().string(1, '').varint(2, ONNX_OPSET).finish()); // opset_import: default domain
  for (const [key, value] of Object.entries(m.metadata ?? {})) w.bytes(14, new ProtoWriter().string(1, key).string(2, value).finish());
  return w.finish();
}
