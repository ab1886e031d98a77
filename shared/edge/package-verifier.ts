/**
 * The agent's verifier over shared/packaging's format: signature, archive and hashes are checked by
 * verifyPackage with the device's trusted public key; the manifest is then turned into what the agent
 * runs (statistics, preprocessing, thresholds), and packaging's reason codes into the agent's.
 */
import type { KeyObject } from 'node:crypto';
import { statisticsFromJson } from '../features/statistics';
import { PackageVerificationError, verifyPackage } from '../packaging';
import { type ModelDescription, ModelRejected, type PackageVerifier, type RejectionReason } from './model-package';

const REASONS: Record<string, RejectionReason> = {
  'bad-signature': 'bad-signature',
  'wrong-key': 'bad-signature',
  'bad-public-key': 'bad-signature',
  'hash-mismatch': 'bad-hash',
  'missing-file': 'bad-hash',
  'extra-file': 'bad-hash',
  'wrong-input-shape': 'wrong-input-shape',
  'wrong-input-name': 'wrong-input-shape',
  'wrong-name': 'wrong-model-name',
};

/** A PackageVerifier for signed tar.gz model packages and one trusted Ed25519 public key (PEM). */
export function packageVerifier(publicKey: string | KeyObject): PackageVerifier {
  return async (bytes) => {
    let verified;
    try {
      verified = verifyPackage(bytes, publicKey);
    } catch (err) {
      if (err instanceof PackageVerificationError) throw new ModelRejected(REASONS[err.reason] ?? 'invalid-package', `${err.reason}: ${err.message}`);
      throw new ModelRejected('invalid-package', (err as Error).message);
    }
    const m = verified.manifest;
    let parsed;
    try {
      parsed = statisticsFromJson({ ...m.statistics, preprocessing: m.preprocessing ?? m.statistics.preprocessing });
    } catch (err) {
      throw new ModelRejected('invalid-package', `model ${m.name} ${m.version}: manifest statistics are unusable (${(err as Error).message})`);
    }
    const description: ModelDescription = {
      name: m.name,
      version: m.version,
      inputName: m.model.inputName,
      inputShape: m.model.inputShape.map((d) => (d === null ? 'N' : d)),
      featureNames: m.featureNames,
      stats: parsed.stats,
      params: parsed.params,
      thresholds: m.thresholds,
    };
    return { description, onnx: verified.model };
  };
}
