/**
 * `npm run package -- --model <dir> --name <n> --version <semver> --out <file.tar.gz> [--key-dir <dir>]`:
 * exports a trained model directory to ONNX, writes manifest.json and signs it with the project key.
 * `npm run package -- --verify <file.tar.gz> --public-key <pem> [--name <n>] [--input-shape N,6,10,10]`:
 * verifies a package as a device would and prints its manifest summary (exit 1 with the reason otherwise).
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { initBackend } from '../detector/backend';
import { PackageVerificationError } from '../packaging/errors';
import { packageModel, validateNameAndVersion } from '../packaging/package-model';
import { DEFAULT_SIGNING_KEY_DIR, loadOrCreateSigningKey } from '../packaging/signing-key';
import { verifyPackage } from '../packaging/verify-package';

interface Options {
  model?: string;
  name?: string;
  version?: string;
  out?: string;
  keyDir: string;
  verify?: string;
  publicKey?: string;
  inputShape?: string;
  int8?: boolean;
}

/** Parses "N,6,10,10" (N or ? for the batch dimension). */
function parseShape(text: string): Array<number | null> {
  return text.split(',').map((part, i) => {
    const p = part.trim();
    if (i === 0 && /^(N|\?|null)$/i.test(p)) return null;
    if (!/^[1-9]\d*$/.test(p)) throw new Error(`--input-shape: "${p}" is not a positive integer (e.g. N,6,10,10)`);
    return Number(p);
  });
}

async function main(): Promise<void> {
  const program = new Command('package')
    .description('Export a trained model to ONNX and make a signed package, or verify a package.')
    .option('--model <dir>', 'model directory written by npm run train')
    .option('--name <name>', 'model name (letters, digits, inner hyphens); with --verify: the expected name')
    .option('--version <semver>', 'package version, e.g. 1.0.0')
    .option('--out <file>', 'package file to write (.tar.gz)')
    .option('--int8', 'store kernels as int8 (about 4x smaller, slightly less exact; see npm run bench)')
    .option('--key-dir <dir>', 'signing key folder (made on first use)', DEFAULT_SIGNING_KEY_DIR)
    .option('--verify <file>', 'verify this package instead of making one')
    .option('--public-key <pem>', 'trusted public key PEM file for --verify (default: <key-dir>/signing-key.pub.pem)')
    .option('--input-shape <dims>', 'with --verify: expected input shape, e.g. N,6,10,10')
    .showHelpAfterError('(run with --help for usage)');
  program.parse();
  const o = program.opts<Options>();

  if (o.verify) {
    if (o.model || o.version || o.out || o.int8) throw new Error('--verify takes no --model, --version, --out or --int8');
    const pemPath = o.publicKey ?? `${o.keyDir}/signing-key.pub.pem`;
    let pem: string;
    try {
      pem = readFileSync(pemPath, 'utf8');
    } catch (err) {
      throw new Error(`cannot read public key ${pemPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const { manifest, sha256 } = verifyPackage(o.verify, pem, { name: o.name, inputShape: o.inputShape ? parseShape(o.inputShape) : undefined });
    const shape = manifest.model.inputShape.map((d) => d ?? 'N').join(', ');
    process.stdout.write(`OK ${o.verify}: ${manifest.name} ${manifest.version} (${manifest.model.architecture}), input ${manifest.model.inputName} (${shape}), created ${manifest.createdAt}, sha256 ${sha256}\n`);
    return;
  }

  const missing = (['model', 'name', 'version', 'out'] as const).filter((k) => !o[k]);
  if (missing.length > 0) throw new Error(`missing ${missing.map((k) => `--${k}`).join(', ')} (or use --verify <file>)`);
  validateNameAndVersion(o.name!, o.version!); // before a key is made: bad input changes nothing
  if (!existsSync(o.model!)) throw new Error(`model directory ${o.model} does not exist (train one with npm run train)`);
  await initBackend();
  const key = loadOrCreateSigningKey(o.keyDir);
  if (key.created) process.stderr.write(`package: made a new signing key in ${o.keyDir} (give devices ${key.dir}/signing-key.pub.pem)\n`);
  const built = await packageModel({ modelDir: o.model!, name: o.name!, version: o.version!, out: o.out!, key, weights: o.int8 ? 'int8' : 'float32' });
  process.stdout.write(`${built.out}: ${built.manifest.name} ${built.manifest.version} (${built.manifest.model.weights} weights), ${built.bytes.length} bytes, sha256 ${built.sha256}, key ${key.fingerprint.slice(0, 16)}\n`);
}

main().catch((err: Error) => {
  const reason = err instanceof PackageVerificationError ? ` [${err.reason}]` : '';
  process.stderr.write(`package: ${err.message}${reason}\n`);
  process.exit(1);
});
