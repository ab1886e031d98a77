/** Why a model package was refused: a stable reason code for programs and a message for people. */

/** Every reason `verifyPackage` can give. */
export const VERIFICATION_REASONS = [
  'unreadable', // the package file cannot be read
  'too-large', // compressed or unpacked size over the limit
  'corrupt-archive', // not gzip, bad gzip CRC, bad tar header checksum, truncated
  'path-traversal', // an entry name with a directory part, "..", or an absolute path
  'unexpected-entry', // an entry that is not a regular file (directory, link, device, pax header...)
  'duplicate-entry', // the same name twice
  'missing-file', // manifest.json, manifest.sig or a file the manifest lists is absent
  'extra-file', // a file the manifest does not list
  'bad-public-key', // the trusted key given is not an Ed25519 public key
  'wrong-key', // the manifest was signed by another key than the trusted one
  'bad-signature', // manifest.json or manifest.sig changed
  'bad-manifest', // manifest.json is not JSON or lacks a required field
  'bad-version', // the version is not a semantic version
  'hash-mismatch', // a file's bytes differ from its sha256/size in the manifest
  'wrong-name', // the package is for another model name than expected
  'wrong-input-name', // the model's input name differs from the expected one
  'wrong-input-shape', // the model's input shape differs from the expected one (or model.onnx's from the manifest's)
  'bad-model', // model.onnx cannot be loaded by onnxruntime (loadPackagedModel)
] as const;
export type VerificationReason = (typeof VERIFICATION_REASONS)[number];

/** A package that must not be loaded; `reason` says why in one word, `message` in a sentence. */
export class PackageVerificationError extends Error {
  constructor(
    readonly reason: VerificationReason,
    message: string,
  ) {
    super(message);
    this.name = 'PackageVerificationError';
  }
}
