/**
 * The model manager: loads verified packages into inference engines, keeps the active model and the
 * previous one for rollback, lists and unloads them. Nothing is loaded before its package's signature
 * and hashes are verified, and a model whose declared input differs from the windows the agent makes is
 * refused. Switching the active model is one assignment, done by the scoring runtime between frames.
 */
import { WINDOW_STEPS } from '../detector/window-score';
import { windowSide } from '../features/params';
import { type EngineFactory, engineFactory, type InferenceEngine } from './inference-engine';
import { type ModelDescription, ModelRejected, type PackageVerifier, rejectionFromVerifyError } from './model-package';

/** A model ready to run. */
export interface LoadedModel {
  readonly description: ModelDescription;
  readonly engine: InferenceEngine;
  /** sha256 of the package bytes it came from (identifies it in state files). */
  readonly packageSha256: string;
  readonly loadedAt: number;
  inferences: number;
}

/** One line of list(). */
export interface ModelListing {
  name: string;
  version: string;
  role: 'active' | 'previous';
  backend: string;
  inferences: number;
  loadedAt: string;
}

/** The shape the agent feeds: [count, 6, side, side]. */
export function windowShape(d: ModelDescription): number[] {
  const side = windowSide(d.params);
  return [d.featureNames.length, side, side];
}

function sameTail(declared: (number | string)[], expected: number[]): boolean {
  return declared.length === expected.length + 1 && expected.every((v, i) => declared[i + 1] === v);
}

/** Keeps the active and previous models; see the file comment. */
export class ModelManager {
  private activeModel: LoadedModel | null = null;
  private previousModel: LoadedModel | null = null;

  constructor(
    private readonly verify: PackageVerifier,
    private readonly createEngine: EngineFactory = engineFactory('auto'),
  ) {}

  get active(): LoadedModel | null {
    return this.activeModel;
  }
  get previous(): LoadedModel | null {
    return this.previousModel;
  }

  /** Verifies package bytes and loads the model (not activated); throws ModelRejected with the reason. */
  async load(packageBytes: Buffer, packageSha256: string): Promise<LoadedModel> {
    let verified;
    try {
      verified = await this.verify(packageBytes);
    } catch (err) {
      throw rejectionFromVerifyError(err);
    }
    const d = verified.description;
    const expected = windowShape(d);
    // The detector's scoring kernel (shared/detector/window-score.ts) scores windows of WINDOW_STEPS steps.
    if (d.params.windowLength !== WINDOW_STEPS) {
      throw new ModelRejected('wrong-input-shape', `model ${d.name} ${d.version}: windows of ${d.params.windowLength} steps; the detector scores windows of ${WINDOW_STEPS}`);
    }
    if (d.featureNames.length !== 6 || !sameTail(d.inputShape, expected)) {
      throw new ModelRejected('wrong-input-shape', `model ${d.name} ${d.version}: manifest input shape (${d.inputShape.join(', ')}) is not (N, ${expected.join(', ')}) for ${d.featureNames.length} features and windows of ${d.params.windowLength}`);
    }
    let engine: InferenceEngine;
    try {
      engine = await this.createEngine(verified.onnx, d.inputName);
    } catch (err) {
      throw new ModelRejected('load-error', `model ${d.name} ${d.version}: the runtime cannot load model.onnx (${(err as Error).message})`);
    }
    if (!engine.inputNames.includes(d.inputName) || !sameTail(engine.inputShape, expected)) {
      await engine.release();
      throw new ModelRejected(
        'wrong-input-shape',
        `model ${d.name} ${d.version}: model.onnx input ${engine.inputNames.join(', ')} (${engine.inputShape.join(', ')}) differs from the manifest's ${d.inputName} (N, ${expected.join(', ')})`,
      );
    }
    return { description: d, engine, packageSha256, loadedAt: Date.now(), inferences: 0 };
  }

  /**
   * Makes a loaded model active; the active one becomes previous, the older previous is released. With no
   * active model yet (a restart), a restored previous model stays previous.
   */
  async activate(model: LoadedModel): Promise<void> {
    if (!this.activeModel) {
      this.activeModel = model;
      return;
    }
    const dropped = this.previousModel;
    this.previousModel = this.activeModel;
    this.activeModel = model;
    if (dropped && dropped !== model) await dropped.engine.release();
  }

  /**
   * Restores the previous model kept from the last run (for rollback) before any model is active; it is
   * judged on real frames again only if a rollback makes it active.
   */
  restorePrevious(model: LoadedModel): void {
    if (this.activeModel || this.previousModel) throw new Error('restorePrevious: only before any model is active or previous');
    this.previousModel = model;
  }

  /** Makes the previous model active again (the active one becomes previous); throws when there is none. */
  rollback(): LoadedModel {
    if (!this.previousModel) throw new Error('no previous model to roll back to');
    [this.activeModel, this.previousModel] = [this.previousModel, this.activeModel];
    return this.activeModel as LoadedModel;
  }

  /** Unloads a model by version: the previous one, or the active one when it is the only model. */
  async unload(version: string): Promise<void> {
    if (this.previousModel?.description.version === version) {
      const m = this.previousModel;
      this.previousModel = null;
      await m.engine.release();
      return;
    }
    if (this.activeModel?.description.version === version) {
      if (this.previousModel) throw new Error(`model ${version} is active; roll back or load another before unloading it`);
      const m = this.activeModel;
      this.activeModel = null;
      await m.engine.release();
      return;
    }
    throw new Error(`no loaded model has version ${version} (loaded: ${this.list().map((m) => m.version).join(', ') || 'none'})`);
  }

  /** The loaded models. */
  list(): ModelListing[] {
    const out: ModelListing[] = [];
    const add = (m: LoadedModel | null, role: ModelListing['role']): void => {
      if (m) out.push({ name: m.description.name, version: m.description.version, role, backend: m.engine.backend, inferences: m.inferences, loadedAt: new Date(m.loadedAt).toISOString() });
    };
    add(this.activeModel, 'active');
    add(this.previousModel, 'previous');
    return out;
  }

  /** Releases every engine. */
  async close(): Promise<void> {
    const models = [this.activeModel, this.previousModel];
    this.activeModel = this.previousModel = null;
    for (const m of models) if (m) await m.engine.release();
  }
}
