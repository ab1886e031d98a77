/**
 * What the edge agent needs from a verified model package, independent of the package's byte format:
 * the packaging module's verifier is adapted to `PackageVerifier` (see package-verifier.ts), so the agent
 * logic is tested with any verifier and runs with the real one.
 */
import type { PreprocessingParams } from '../features/params';
import type { FeatureStatistics } from '../features/statistics';
import type { Thresholds } from '../detector/thresholds';

/** The manifest facts the agent uses. */
export interface ModelDescription {
  name: string;
  /** Semantic version (x.y.z). */
  version: string;
  /** ONNX input name (DESIGN: "input"). */
  inputName: string;
  /** Input shape with the batch dimension first, e.g. [-1, 6, 10, 10] (-1 or a name: any batch). */
  inputShape: (number | string)[];
  featureNames: string[];
  stats: FeatureStatistics;
  params: PreprocessingParams;
  thresholds: Thresholds;
}

/** A package whose signature and file hashes were checked. */
export interface VerifiedModel {
  description: ModelDescription;
  /** model.onnx bytes. */
  onnx: Uint8Array;
}

/** Verifies package bytes (signature, hashes, shape) and returns its content; throws naming what failed. */
export type PackageVerifier = (packageBytes: Buffer) => Promise<VerifiedModel>;

/** Why a model was refused; job executions report it in statusDetails.reason. */
export type RejectionReason =
  | 'bad-signature'
  | 'bad-hash'
  | 'invalid-package'
  | 'wrong-input-shape'
  | 'load-error'
  | 'failed-health-check'
  | 'wrong-model-name'
  | 'not-newer'
  | 'download-failed'
  | 'invalid-job-document';

/** A model the agent refused, with a machine-readable reason and a sentence saying why. */
export class ModelRejected extends Error {
  constructor(
    readonly reason: RejectionReason,
    message: string,
  ) {
    super(message);
    this.name = 'ModelRejected';
  }
}

/** Maps a verifier's error to a rejection reason by what its message names. */
export function rejectionFromVerifyError(err: unknown): ModelRejected {
  if (err instanceof ModelRejected) return err;
  const message = (err as Error)?.message ?? String(err);
  const reason: RejectionReason = /signature|public key|wrong key/i.test(message)
    ? 'bad-signature'
    : /sha-?256|hash|digest/i.test(message)
      ? 'bad-hash'
      : /shape/i.test(message)
        ? 'wrong-input-shape'
        : 'invalid-package';
  return new ModelRejected(reason, message);
}

/** Parses x.y.z (optionally -pre); throws naming the bad version. */
export function parseVersion(version: string): [number, number, number, string] {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/.exec(version);
  if (!m) throw new Error(`"${version}" is not a semantic version (x.y.z)`);
  return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] ?? ''];
}

/** Negative when a < b, 0 when equal, positive when a > b (semver precedence; a pre-release is older). */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  if (x[3] === y[3]) return 0;
  if (!x[3]) return 1;
  if (!y[3]) return -1;
  return x[3] < y[3] ? -1 : 1;
}
