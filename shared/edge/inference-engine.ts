/**
 * Inference engines: onnxruntime-node runs the package's model.onnx; where its native binding does not
 * load, the tfjs engine (tfjs-engine.ts) interprets the same model.onnx. `engineFactory('auto')` picks.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';

/** A loaded model that maps a batch of windows to a batch of outputs. */
export interface InferenceEngine {
  readonly backend: string;
  /** Declared input shape (batch dimension first; strings or -1 for free dimensions). */
  readonly inputShape: (number | string)[];
  readonly inputNames: string[];
  /** Runs `count` windows (count x shape values) and returns the output values and dims. */
  run(input: Float32Array, shape: number[]): Promise<{ data: Float32Array; dims: number[] }>;
  release(): Promise<void>;
}

/** Builds an engine from ONNX bytes. */
export type EngineFactory = (onnx: Uint8Array, inputName: string) => Promise<InferenceEngine>;

type Ort = typeof import('onnxruntime-node');
let ortModule: Ort | null | undefined;

/** onnxruntime-node, or null when its native binding does not load on this machine. */
export function loadOrt(): Ort | null {
  if (ortModule === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      ortModule = require('onnxruntime-node') as Ort;
    } catch {
      ortModule = null;
    }
  }
  return ortModule;
}

/** An onnxruntime-node session (one intra-op thread: a device runs one window at a time). */
export const onnxEngineFactory: EngineFactory = async (onnx, inputName) => {
  const ort = loadOrt();
  if (!ort) throw new Error('onnxruntime-node does not load on this machine (no native binding for this platform)');
  const session: InferenceSession = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const meta = session.inputMetadata.find((m) => m.name === inputName);
  const inputShape = meta && meta.isTensor ? [...meta.shape] : [];
  const outputName = session.outputNames[0];
  return {
    backend: 'onnxruntime-node',
    inputShape,
    inputNames: [...session.inputNames],
    async run(input, shape) {
      const tensor = new ort.Tensor('float32', input, shape);
      const result = await session.run({ [inputName]: tensor });
      const out = result[outputName] as Tensor;
      tensor.dispose();
      const data = out.data instanceof Float32Array ? new Float32Array(out.data) : Float32Array.from(out.data as ArrayLike<number>);
      const dims = [...out.dims];
      for (const t of Object.values(result)) (t as Tensor).dispose();
      return { data, dims };
    },
    release: () => session.release(),
  };
};

/** Which engine runs models: onnxruntime-node, the tfjs interpreter, or 'auto' (onnxruntime when it loads). */
export type EngineChoice = 'auto' | 'onnxruntime' | 'tfjs';

/** The engine factory for a choice; 'auto' falls back to tfjs only when onnxruntime-node does not load. */
export function engineFactory(choice: EngineChoice = 'auto'): EngineFactory {
  if (choice === 'onnxruntime' || (choice === 'auto' && loadOrt())) return onnxEngineFactory;
  // Loaded lazily: tfjs costs start-up time a device with onnxruntime never needs to pay.
  return async (onnx, inputName) => (await import('./tfjs-engine')).tfjsEngineFactory(onnx, inputName);
}
