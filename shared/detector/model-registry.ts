/** Where the training pipeline hands a finished model: the registry seam and the local-directory registry. */
import { type ModelDirContents, writeModelDir } from './model-dir';

/** Where a finished model goes. The local one writes a directory; issue 6 adds the SageMaker registry. */
export interface ModelRegistry {
  /** Stores the model; returns where it can be found (a path, or a model package ARN). */
  register(contents: ModelDirContents): Promise<string>;
}

/** Registers a model by writing its directory atomically. */
export class LocalDirectoryRegistry implements ModelRegistry {
  constructor(readonly dir: string) {}
  async register(contents: ModelDirContents): Promise<string> {
    writeModelDir(this.dir, contents);
    return this.dir;
  }
}
