/**
 * The agent's persistent state (one JSON file in its state folder, replaced atomically): which packages
 * are the active and previous model, the job in flight, and the ids of jobs already finished (so a job
 * delivered again is reported, never run twice). Packages are kept beside it by their sha256.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from './durable-file';

/** A package file the agent keeps. */
export interface StoredModel {
  name: string;
  version: string;
  sha256: string;
  /** File name inside the models folder. */
  file: string;
}

/** A job the agent has finished, with what it reported. */
export interface FinishedJob {
  status: 'SUCCEEDED' | 'FAILED' | 'REJECTED';
  statusDetails: Record<string, string>;
  at: string;
}

/** A job being processed. */
export interface InflightJob {
  jobId: string;
  startedAt: string;
  /** Set once the job's model is active: a restart then only has to report success. */
  installed?: StoredModel;
}

export interface AgentStateData {
  active?: StoredModel;
  previous?: StoredModel;
  inflight?: InflightJob;
  finished: Record<string, FinishedJob>;
}

/** Most finished job ids remembered. */
const KEEP_FINISHED = 500;

/** Reads and writes agent-state.json in a folder. */
export class AgentStateFile {
  readonly path: string;
  readonly modelsDir: string;
  data: AgentStateData;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.modelsDir = join(dir, 'models');
    mkdirSync(this.modelsDir, { recursive: true });
    this.path = join(dir, 'agent-state.json');
    this.data = { finished: {} };
    if (existsSync(this.path)) {
      try {
        const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as AgentStateData;
        this.data = { ...parsed, finished: parsed.finished ?? {} };
      } catch (err) {
        throw new Error(`${this.path}: agent state is unreadable (${(err as Error).message}); move it away to start afresh`);
      }
    }
  }

  /** Writes the state (temp file, fsync, rename, fsync folder); on a full disk it throws and the old state stays. */
  save(): void {
    const ids = Object.keys(this.data.finished);
    if (ids.length > KEEP_FINISHED) for (const id of ids.slice(0, ids.length - KEEP_FINISHED)) delete this.data.finished[id];
    writeFileDurably(this.path, JSON.stringify(this.data, null, 2) + '\n');
  }

  /** Stores package bytes under models/<sha256>.tar.gz (once) and returns the file name. */
  storePackage(sha256: string, bytes: Buffer): string {
    const file = `${sha256}.tar.gz`;
    const path = join(this.modelsDir, file);
    if (!existsSync(path)) writeFileDurably(path, bytes);
    return file;
  }

  /** Bytes of a stored package. */
  readPackage(model: StoredModel): Buffer {
    return readFileSync(join(this.modelsDir, model.file));
  }
}
