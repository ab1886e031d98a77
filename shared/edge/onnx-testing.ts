/**
 * Test support: tiny ONNX models written by hand (protobuf wire format, no Python), so agent tests can
 * load real onnxruntime sessions without a trained model. y = x * scale + bias with the window shape,
 * optionally reshaped to a wrong output shape or declaring a wrong input shape.
 */

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

function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function field(num: number, wire: 0 | 2, value: number | bigint | Uint8Array | string): number[] {
  const key = varint((num << 3) | wire);
  if (wire === 0) return [...key, ...varint(value as number)];
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : (value as Uint8Array);
  return [...key, ...varint(bytes.length), ...bytes];
}

const msg = (...parts: number[][]): Uint8Array => Uint8Array.from(parts.flat());

function tensor(name: string, dims: number[], dataType: number, raw: Buffer): Uint8Array {
  return msg(...dims.map((d) => field(1, 0, d)), field(2, 0, dataType), field(8, 2, name), field(9, 2, raw));
}

function valueInfo(name: string, dims: (number | string)[]): Uint8Array {
  const dimMsgs = dims.map((d) => field(1, 2, typeof d === 'number' ? msg(field(1, 0, d)) : msg(field(2, 2, d))));
  const shape = msg(...dimMsgs);
  const tensorType = msg(field(1, 0, 1), field(2, 2, shape));
  const type = msg(field(1, 2, tensorType));
  return msg(field(1, 2, name), field(2, 2, type));
}

function node(op: string, inputs: string[], outputs: string[], name: string): Uint8Array {
  return msg(...inputs.map((i) => field(1, 2, i)), ...outputs.map((o) => field(2, 2, o)), field(3, 2, name), field(4, 2, op));
}

const f32 = (x: number): Buffer => Buffer.from(new Float32Array([x]).buffer);

/** Bytes of an ONNX model (opset 13) computing input * scale + bias, see TestModelOptions. */
export function testOnnxModel(opts: TestModelOptions = {}): Uint8Array {
  const inputName = opts.inputName ?? 'input';
  const inShape = opts.inputShape ?? [6, 10, 10];
  const nodes = [node('Mul', [inputName, 'scale'], ['scaled'], 'mul'), node('Add', ['scaled', 'bias'], [opts.output === 'flat' ? 'sum' : 'output'], 'add')];
  const inits = [tensor('scale', [], 1, f32(opts.scale ?? 1)), tensor('bias', [], 1, f32(opts.bias ?? 0))];
  let outShape: (number | string)[] = ['N', ...inShape];
  if (opts.output === 'flat') {
    const size = inShape.reduce((a, b) => a * b, 1);
    inits.push(tensor('flat_shape', [2], 7, Buffer.from(new BigInt64Array([-1n, BigInt(size)]).buffer)));
    nodes.push(node('Reshape', ['sum', 'flat_shape'], ['output'], 'reshape'));
    outShape = ['N', size];
  }
  const graph = msg(
    ...nodes.map((n) => field(1, 2, n)),
    field(2, 2, 'test-model'),
    ...inits.map((t) => field(5, 2, t)),
    field(11, 2, valueInfo(inputName, ['N', ...inShape])),
    field(12, 2, valueInfo('output', outShape)),
  );
  const opset = msg(field(1, 2, ''), field(2, 0, 13));
  return msg(field(1, 0, 8), field(2, 2, 'edge-agent-tests'), field(7, 2, graph), field(8, 2, opset));
}
