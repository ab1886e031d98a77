/**
 * Test support: tiny ONNX models built with shared/packaging's ONNX writer, so agent tests load real
 * onnxruntime sessions without a trained model. y = x * scale + bias with the window shape, optionally
 * reshaped to a wrong output shape or declaring a wrong input shape.
 */
import { DataType, encodeModel, type OnnxNode, type OnnxTensor } from '../packaging/onnx/onnx-proto';

/** What a test model does. */
export interface TestModelOptions {
  /** Output = input * scale + bias (scale 1, bias 0 reconstructs perfectly). */
  scale?: number;
  bias?: number;
  /** Declared input shape after the batch dimension (default [6, 10, 10]). */
  inputShape?: number[];
  /** 'flat' reshapes the output to (N, 600): a model whose output shape is wrong. */
  output?: 'same' | 'flat';
  inputName?: string;
}

/** Bytes of an ONNX model computing input * scale + bias, see TestModelOptions. */
export function testOnnxModel(opts: TestModelOptions = {}): Uint8Array {
  const inputName = opts.inputName ?? 'input';
  const inShape = opts.inputShape ?? [6, 10, 10];
  const flat = opts.output === 'flat';
  const nodes: OnnxNode[] = [
    { name: 'mul', opType: 'Mul', inputs: [inputName, 'scale'], outputs: ['scaled'] },
    { name: 'add', opType: 'Add', inputs: ['scaled', 'bias'], outputs: [flat ? 'sum' : 'output'] },
  ];
  const initializers: OnnxTensor[] = [
    { name: 'scale', dims: [], dataType: DataType.FLOAT, data: new Float32Array([opts.scale ?? 1]) },
    { name: 'bias', dims: [], dataType: DataType.FLOAT, data: new Float32Array([opts.bias ?? 0]) },
  ];
  let outShape: (number | string)[] = ['N', ...inShape];
  if (flat) {
    const size = inShape.reduce((a, b) => a * b, 1);
    initializers.push({ name: 'flat_shape', dims: [2], dataType: DataType.INT64, data: new BigInt64Array([-1n, BigInt(size)]) });
    nodes.push({ name: 'reshape', opType: 'Reshape', inputs: ['sum', 'flat_shape'], outputs: ['output'] });
    outShape = ['N', size];
  }
  return encodeModel({
    producerName: 'edge-agent-tests',
    producerVersion: '1',
    graph: {
      name: 'test-model',
      nodes,
      initializers,
      inputs: [{ name: inputName, elemType: DataType.FLOAT, shape: ['N', ...inShape] }],
      outputs: [{ name: 'output', elemType: DataType.FLOAT, shape: outShape }],
    },
  });
}
