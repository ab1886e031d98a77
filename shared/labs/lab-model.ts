/**
 * The labs' model: Lab 02's data sets and training pipeline with the configured epoch budget. Lab 02 and
 * Lab 03 (and anything after) call trainLabModel with the same configuration, so they share one model:
 * the pipeline caches every step by the hash of its inputs, and a second call only reads it back.
 */
import { join } from 'node:path';
import type { LabConfig } from '../config/lab-config';
import { ensureLabDataSets, formatPipelineEvent, labDataSpecs, LocalDirectoryRegistry, runTrainingPipeline, type LabDataSets, type PipelineResult } from '../detector/index';

/** The lab model and the data sets it was trained and evaluated on. */
export interface LabModel extends PipelineResult {
  sets: LabDataSets;
  /** The model directory (model, statistics, thresholds, metrics). */
  modelDir: string;
}

/** Where the labs keep their data and model under the configured data folder. */
export function labModelPaths(config: Pick<LabConfig, 'dataDir' | 'profile'>): { labDir: string; modelDir: string; cacheDir: string } {
  const labDir = join(config.dataDir, 'lab02');
  return { labDir, modelDir: join(labDir, `model-${config.profile}`), cacheDir: join(labDir, 'cache') };
}

/** Writes the lab data sets if missing and trains (or reads back from cache) the lab model; log gets one line per pipeline event. */
export async function trainLabModel(config: LabConfig, log: (line: string) => void = console.log): Promise<LabModel> {
  const { labDir, modelDir, cacheDir } = labModelPaths(config);
  const sets = await ensureLabDataSets(labDir, labDataSpecs(config.profile, config.turbines, config.minutes, config.seed));
  const result = await runTrainingPipeline({
    dataPath: sets.train.path,
    evalDataPath: sets.test.path,
    evalLabelsPath: sets.test.labelsPath,
    cacheDir,
    registry: new LocalDirectoryRegistry(modelDir),
    seed: config.seed,
    training: { epochs: config.trainingEpochs },
    // The ci profile's model (minutes of data, a few epochs) is too rough to calibrate for a false-alarm
    // rate: its thresholds are fitted on held-out data only. The full profile calibrates (detector README).
    ...(config.profile === 'ci' ? { falseAlarmTarget: 0 } : {}),
    onEvent: (e) => {
      const line = formatPipelineEvent(e);
      if (line) log(line);
    },
  });
  return { ...result, sets, modelDir };
}
