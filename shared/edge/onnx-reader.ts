/**
 * Reads an ONNX model (protobuf wire format) into plain objects: graph nodes with their attributes,
 * initializers as typed arrays, input and output names. Only what an interpreter needs; unknown fields
 * are skipped. Used by the tfjs fallback engine when onnxruntime-node cannot load.
 */

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

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('ONNX model is truncated (inside a varint)');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7n;
    }
    return Number(BigInt.asIntN(64, result));
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (n < 0 || this.pos + n > this.buf.length) throw new Error('ONNX model is truncated (inside a field)');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }
  fixed32(): number {
    const v = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 4).readFloatLE(0);
    this.pos += 4;
    return v;
  }
  /** Reads fields: calls fn(fieldNumber, wireType) which must consume the value or return false to skip it. */
  fields(fn: (field: number, wire: number) => boolean): void {
    while (!this.done) {
      const key = this.varint();
      const field = key >>> 3;
      const wire = key & 7;
      if (!fn(field, wire)) this.skip(wire);
    }
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`ONNX model holds an unsupported protobuf wire type ${wire}`);
  }
}

function packedVarints(r: Reader, wire: number, into: number[]): void {
  if (wire === 2) {
    const sub = new Reader(r.bytes());
    while (!sub.done) into.push(sub.varint());
  } else into.push(r.varint());
}

function readAttribute(buf: Uint8Array): [string, OnnxAttribute] {
  const r = new Reader(buf);
  let name = '';
  let value: OnnxAttribute | undefined;
  const ints: number[] = [];
  const floats: number[] = [];
  let type = 0;
  r.fields((field, wire) => {
    if (field === 1) name = r.string();
    else if (field === 2 && wire === 5) value = { f: r.fixed32() };
    else if (field === 3) value = { i: r.varint() };
    else if (field === 4) value = { s: r.string() };
    else if (field === 7) {
      if (wire === 2) {
        const sub = new Reader(r.bytes());
        while (!sub.done) floats.push(sub.fixed32());
      } else floats.push(r.fixed32());
    } else if (field === 8) packedVarints(r, wire, ints);
    else if (field === 20) type = r.varint();
    else return false;
    return true;
  });
  if (type === 7 || (ints.length > 0 && !value)) value = { ints };
  if (type === 6 || (floats.length > 0 && !value)) value = { floats };
  if (!value) value = type === 7 ? { ints: [] } : { floats: [] };
  return [name, value];
}

function readNode(buf: Uint8Array): ReadNode {
  const r = new Reader(buf);
  const node: ReadNode = { opType: '', inputs: [], outputs: [], attributes: {} };
  r.fields((field) => {
    if (field === 1) node.inputs.push(r.string());
    else if (field === 2) node.outputs.push(r.string());
    else if (field === 4) node.opType = r.string();
    else if (field === 5) {
      const [k, v] = readAttribute(r.bytes());
      node.attributes[k] = v;
    } else return false;
    return true;
  });
  return node;
}

function readTensor(buf: Uint8Array): [string, ReadTensor] {
  const r = new Reader(buf);
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: Uint8Array | null = null;
  const floats: number[] = [];
  const ints: number[] = [];
  r.fields((field, wire) => {
    if (field === 1) packedVarints(r, wire, dims);
    else if (field === 2) dataType = r.varint();
    else if (field === 8) name = r.string();
    else if (field === 9) raw = r.bytes();
    else if (field === 4) {
      if (wire === 2) {
        const sub = new Reader(r.bytes());
        while (!sub.done) floats.push(sub.fixed32());
      } else floats.push(r.fixed32());
    } else if (field === 5 || field === 7) packedVarints(r, wire, ints);
    else return false;
    return true;
  });
  const count = dims.reduce((a, b) => a * b, 1);
  let data: ReadTensor['data'];
  const bytes = raw as Uint8Array | null;
  if (dataType === 1) data = bytes ? new Float32Array(Uint8Array.from(bytes).buffer) : Float32Array.from(floats);
  else if (dataType === 3) data = bytes ? new Int8Array(Uint8Array.from(bytes).buffer) : Int8Array.from(ints);
  else if (dataType === 6) data = bytes ? new Int32Array(Uint8Array.from(bytes).buffer) : Int32Array.from(ints);
  else if (dataType === 7) data = bytes ? Array.from(new BigInt64Array(Uint8Array.from(bytes).buffer), Number) : ints;
  else throw new Error(`ONNX initializer "${name}" has data type ${dataType}, which the tfjs engine does not read`);
  if (data.length !== count) throw new Error(`ONNX initializer "${name}" holds ${data.length} values for dims (${dims.join(', ')})`);
  return [name, { dims, dataType, data }];
}

/** Name and declared shape (numbers, or names for free dimensions) of a ValueInfoProto. */
function valueInfo(buf: Uint8Array): { name: string; shape: (number | string)[] } {
  const r = new Reader(buf);
  let name = '';
  const shape: (number | string)[] = [];
  r.fields((field) => {
    if (field === 1) name = r.string();
    else if (field === 2) {
      // TypeProto.tensor_type(1) -> shape(2) -> dim(1) -> dim_value(1) | dim_param(2)
      const type = new Reader(r.bytes());
      type.fields((f1) => {
        if (f1 !== 1) return false;
        const tensor = new Reader(type.bytes());
        tensor.fields((f2) => {
          if (f2 !== 2) return false;
          const sh = new Reader(tensor.bytes());
          sh.fields((f3) => {
            if (f3 !== 1) return false;
            const dim = new Reader(sh.bytes());
            let d: number | string = '?';
            dim.fields((f4) => {
              if (f4 === 1) d = dim.varint();
              else if (f4 === 2) d = dim.string();
              else return false;
              return true;
            });
            shape.push(d);
            return true;
          });
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return { name, shape };
}

/** Reads the graph of ONNX model bytes; throws naming what is malformed. */
export function readOnnxGraph(bytes: Uint8Array): ReadGraph {
  let graphBytes: Uint8Array | null = null;
  const top = new Reader(bytes);
  top.fields((field, wire) => {
    if (field !== 7 || wire !== 2) return false;
    graphBytes = top.bytes();
    return true;
  });
  if (!graphBytes) throw new Error('ONNX model has no graph');
  const g = new Reader(graphBytes);
  const graph: ReadGraph = { nodes: [], initializers: new Map(), inputs: [], inputShapes: new Map(), outputs: [] };
  g.fields((field) => {
    if (field === 1) graph.nodes.push(readNode(g.bytes()));
    else if (field === 5) {
      const [name, t] = readTensor(g.bytes());
      graph.initializers.set(name, t);
    } else if (field === 11) {
      const v = valueInfo(g.bytes());
      graph.inputs.push(v.name);
      graph.inputShapes.set(v.name, v.shape);
    } else if (field === 12) graph.outputs.push(valueInfo(g.bytes()).name);
    else return false;
    return true;
  });
  graph.inputs = graph.inputs.filter((n) => !graph.initializers.has(n));
  return graph;
}
