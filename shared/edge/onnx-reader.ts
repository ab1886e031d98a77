/**
 * Reads an ONNX model into what an interpreter needs: graph nodes with their attributes, initializers as
 * typed arrays, input and output names. Decoding uses the same schema the exporter writes with
 * (shared/packaging/onnx/onnx-schema.ts). Used by the tfjs fallback engine when onnxruntime-node cannot load.
 */
import { AttributeType, type AttributeMessage, DataType, decodeModelMessage, type TensorMessage, type ValueInfoMessage } from '../packaging/onnx/onnx-schema';

/** One attribute value. */
export type OnnxAttribute = { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] };

export interface ReadNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

export interface ReadTensor {
  dims: number[];
  /** ONNX data type: 1 float, 3 int8, 6 int32, 7 int64. */
  dataType: number;
  data: Float32Array | Int8Array | Int32Array | number[];
}

export interface ReadGraph {
  nodes: ReadNode[];
  initializers: Map<string, ReadTensor>;
  inputs: string[];
  /** Declared shape of each graph input. */
  inputShapes: Map<string, (number | string)[]>;
  outputs: string[];
}

/** The attribute's value, by its declared type (or by which field is present when no type is given). */
function attributeValue(a: AttributeMessage): OnnxAttribute {
  if (a.type === AttributeType.INTS) return { ints: a.ints ?? [] };
  if (a.type === AttributeType.FLOATS) return { floats: a.floats ?? [] };
  if (a.type === AttributeType.FLOAT || a.f !== undefined) return { f: a.f ?? 0 };
  if (a.type === AttributeType.INT || a.i !== undefined) return { i: a.i ?? 0 };
  if (a.type === AttributeType.STRING || a.s !== undefined) return { s: Buffer.from(a.s ?? []).toString('utf8') };
  if (a.ints?.length) return { ints: a.ints };
  return { floats: a.floats ?? [] };
}

/** An initializer's values as a typed array (raw little-endian bytes or the typed repeated fields). */
function tensorValues(t: TensorMessage): ReadTensor {
  const name = t.name ?? '';
  const dims = t.dims ?? [];
  const dataType = t.dataType ?? 0;
  // Copy raw bytes so the typed array is aligned whatever the offset inside the file.
  const raw = t.rawData && t.rawData.length > 0 ? Uint8Array.from(t.rawData).buffer : null;
  let data: ReadTensor['data'];
  if (dataType === DataType.FLOAT) data = raw ? new Float32Array(raw) : Float32Array.from(t.floatData ?? []);
  else if (dataType === DataType.INT8) data = raw ? new Int8Array(raw) : Int8Array.from(t.int32Data ?? []);
  else if (dataType === DataType.INT32) data = raw ? new Int32Array(raw) : Int32Array.from(t.int32Data ?? []);
  else if (dataType === DataType.INT64) data = raw ? Array.from(new BigInt64Array(raw), Number) : (t.int64Data ?? []);
  else throw new Error(`ONNX initializer "${name}" has data type ${dataType}, which the tfjs engine does not read`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`ONNX initializer "${name}" holds ${data.length} values for dims (${dims.join(', ')})`);
  return { dims, dataType, data };
}

/** Declared shape of a graph input or output: numbers, or names for free dimensions ('?' when neither). */
function declaredShape(v: ValueInfoMessage): (number | string)[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimValue ?? d.dimParam ?? '?');
}

/** Reads the graph of ONNX model bytes; throws naming what is malformed. */
export function readOnnxGraph(bytes: Uint8Array): ReadGraph {
  const g = decodeModelMessage(bytes).graph;
  if (!g) throw new Error('ONNX model has no graph');
  const graph: ReadGraph = { nodes: [], initializers: new Map(), inputs: [], inputShapes: new Map(), outputs: [] };
  for (const n of g.node ?? []) {
    const attributes: Record<string, OnnxAttribute> = {};
    for (const a of n.attribute ?? []) attributes[a.name ?? ''] = attributeValue(a);
    graph.nodes.push({ opType: n.opType ?? '', inputs: n.input ?? [], outputs: n.output ?? [], attributes });
  }
  for (const t of g.initializer ?? []) graph.initializers.set(t.name ?? '', tensorValues(t));
  for (const v of g.input ?? []) {
    graph.inputs.push(v.name ?? '');
    graph.inputShapes.set(v.name ?? '', declaredShape(v));
  }
  for (const v of g.output ?? []) graph.outputs.push(v.name ?? '');
  graph.inputs = graph.inputs.filter((n) => !graph.initializers.has(n));
  return graph;
}
