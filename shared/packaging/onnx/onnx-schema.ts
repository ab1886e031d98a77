/**
 * The subset of onnx/onnx.proto that this project writes (the exporter) and reads (the device's tfjs
 * fallback engine), described once as a protobufjs schema. Field numbers and types are those of
 * onnx.proto (proto2); fields neither side uses are left out and skipped when reading.
 */
import * as protobuf from 'protobufjs';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT8: 3, INT32: 6, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

const packed = { packed: true };

const ONNX_SUBSET: protobuf.INamespace = {
  nested: {
    ModelProto: {
      fields: {
        irVersion: { type: 'int64', id: 1 },
        producerName: { type: 'string', id: 2 },
        producerVersion: { type: 'string', id: 3 },
        docString: { type: 'string', id: 6 },
        graph: { type: 'GraphProto', id: 7 },
        opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
        metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
      },
    },
    OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
    StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
    GraphProto: {
      fields: {
        node: { rule: 'repeated', type: 'NodeProto', id: 1 },
        name: { type: 'string', id: 2 },
        initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
        input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
        output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
      },
    },
    NodeProto: {
      fields: {
        input: { rule: 'repeated', type: 'string', id: 1 },
        output: { rule: 'repeated', type: 'string', id: 2 },
        name: { type: 'string', id: 3 },
        opType: { type: 'string', id: 4 },
        attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
      },
    },
    AttributeProto: {
      fields: {
        name: { type: 'string', id: 1 },
        f: { type: 'float', id: 2 },
        i: { type: 'int64', id: 3 },
        s: { type: 'bytes', id: 4 },
        floats: { rule: 'repeated', type: 'float', id: 7 },
        ints: { rule: 'repeated', type: 'int64', id: 8, options: packed },
        type: { type: 'int32', id: 20 },
      },
    },
    TensorProto: {
      fields: {
        dims: { rule: 'repeated', type: 'int64', id: 1, options: packed },
        dataType: { type: 'int32', id: 2 },
        floatData: { rule: 'repeated', type: 'float', id: 4, options: packed },
        int32Data: { rule: 'repeated', type: 'int32', id: 5, options: packed },
        int64Data: { rule: 'repeated', type: 'int64', id: 7, options: packed },
        name: { type: 'string', id: 8 },
        rawData: { type: 'bytes', id: 9 },
      },
    },
    ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
    TypeProto: {
      fields: { tensorType: { type: 'Tensor', id: 1 } },
      nested: { Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } } },
    },
    TensorShapeProto: {
      fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
      nested: { Dimension: { fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } } },
    },
  },
};

/** Plain-object form of the messages (what the writer builds and the reader gets back). */
export interface ModelMessage {
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  graph?: GraphMessage;
  opsetImport?: { domain?: string; version?: number }[];
  metadataProps?: { key?: string; value?: string }[];
}
export interface GraphMessage {
  node?: NodeMessage[];
  name?: string;
  initializer?: TensorMessage[];
  input?: ValueInfoMessage[];
  output?: ValueInfoMessage[];
}
export interface NodeMessage {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  attribute?: AttributeMessage[];
}
export interface AttributeMessage {
  name?: string;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
  type?: number;
}
export interface TensorMessage {
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  name?: string;
  rawData?: Uint8Array;
}
export interface ValueInfoMessage {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number; dimParam?: string }[] } } };
}

const modelType = protobuf.Root.fromJSON(ONNX_SUBSET).lookupType('ModelProto');

/** Serialises a model message to the bytes of an .onnx file. */
export function encodeModelMessage(model: ModelMessage): Uint8Array {
  const problem = modelType.verify(model);
  if (problem) throw new Error(`ONNX model is not valid: ${problem}`);
  return modelType.encode(modelType.fromObject(model)).finish();
}

/** Parses the bytes of an .onnx file into a model message (64-bit integers as numbers); throws if malformed. */
export function decodeModelMessage(bytes: Uint8Array): ModelMessage {
  let message: protobuf.Message;
  try {
    message = modelType.decode(bytes);
  } catch (e) {
    throw new Error(`ONNX model is truncated or malformed (${(e as Error).message})`);
  }
  return modelType.toObject(message, { longs: Number }) as ModelMessage;
}
