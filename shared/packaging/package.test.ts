import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Header, list } from 'tar';
import { initBackend } from '../detector/backend';
import { loadDetector } from '../detector/detector';
import { readModelDir } from '../detector/model-dir';
import { type VerificationReason, PackageVerificationError } from './errors';
import { type PackageManifest } from './manifest';
import { exportToOnnx } from './onnx/export';
import { createOnnxSession, loadPackagedModel, runOnnx } from './onnx/runtime';
import { createPackage, packageModel } from './package-model';
import { compareSemver, isSemver } from './semver';
import { loadOrCreateSigningKey, publicKeyFingerprint, type SigningKey } from './signing-key';
import { readTarGz, writeTarGz } from './tar-archive';
import { farmTestWindows, maxAbsDiff, tfjsReconstruct, writeTestModelDir } from './packaging-testing';
import { verifyPackage } from './verify-package';

const root = fs.mkdtempSync(join(tmpdir(), 'packaging-test-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const modelDir = join(root, 'model');
const createdAt = new Date('2026-01-02T03:04:05Z');
let key: SigningKey;
let pkg: Buffer;
let pkgPath: string;

before(async () => {
  await initBackend('wasm');
  await writeTestModelDir(modelDir, 'dense', 4);
  key = loadOrCreateSigningKey(join(root, 'keys'));
  pkgPath = join(root, 'out', 'turbine-detector-1.0.0.tar.gz');
  pkg = (await packageModel({ modelDir, name: 'turbine-detector', version: '1.0.0', out: pkgPath, key, createdAt })).bytes;
});

/** Files of the good package, by name, in archive order. */
function goodFiles(): Array<{ name: string; data: Buffer }> {
  return readTarGz(pkg);
}

/** Re-packs files; `change` edits the list first. */
function repack(change: (files: Array<{ name: string; data: Buffer }>) => void): Buffer {
  const files = goodFiles();
  change(files);
  return writeTarGz(files, createdAt);
}

/** A package whose manifest is replaced by `text`, correctly signed with `signer`. */
function resigned(text: string, signer = key.privateKey): Buffer {
  return repack((files) => {
    files.find((f) => f.name === 'manifest.json')!.data = Buffer.from(text);
    files.find((f) => f.name === 'manifest.sig')!.data = Buffer.from(sign(null, Buffer.from(text), signer).toString('base64'));
  });
}

/** A raw tar.gz with hand-made headers (names and types the writer refuses to make). */
function rawTarGz(entries: Array<{ path: string; data?: Buffer; type?: string; linkpath?: string }>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const header = Buffer.alloc(512);
    new Header({ path: e.path, mode: 0o644, size: data.length, mtime: createdAt, type: (e.type ?? 'File') as 'File', linkpath: e.linkpath, uid: 0, gid: 0 }).encode(header, 0);
    parts.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

function rejects(input: string | Buffer, reason: VerificationReason, pattern: RegExp, publicKey: string = key.publicKeyPem, expect = {}): void {
  assert.throws(
    () => verifyPackage(input, publicKey, expect),
    (err: unknown) => {
      assert.ok(err instanceof PackageVerificationError, `expected PackageVerificationError, got ${String(err)}`);
      assert.equal(err.reason, reason, err.message);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test('a packaged model verifies, and its ONNX model reconstructs like the tfjs model of the directory', async () => {
  const verified = verifyPackage(pkgPath, key.publicKeyPem, { name: 'turbine-detector', inputName: 'input', inputShape: [null, 6, 10, 10] });
  const m = verified.manifest;
  const read = readModelDir(modelDir);
  assert.equal(m.name, 'turbine-detector');
  assert.equal(m.version, '1.0.0');
  assert.equal(m.createdAt, createdAt.toISOString());
  assert.deepEqual(m.model, { file: 'model.onnx', format: 'onnx', opset: 17, inputName: 'input', inputShape: [null, 6, 10, 10], outputName: 'reconstruction', outputShape: [null, 6, 10, 10], architecture: 'dense', weights: 'float32' });
  assert.deepEqual(m.featureNames, ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage']);
  assert.deepEqual(m.statistics, read.description.statistics);
  assert.deepEqual(m.thresholds, read.description.thresholds);
  assert.deepEqual(m.preprocessing, read.params);
  assert.deepEqual(Object.keys(m.files), ['model.onnx']);
  assert.equal(m.files['model.onnx'].sha256, createHash('sha256').update(verified.model).digest('hex'));
  assert.equal(m.signature.publicKeyFingerprint, key.fingerprint);
  assert.deepEqual(Object.keys(verified.files).sort(), ['manifest.json', 'manifest.sig', 'model.onnx']);
  assert.equal(verified.sha256, createHash('sha256').update(pkg).digest('hex'));

  const data = farmTestWindows();
  const detector = await loadDetector(modelDir);
  const session = await createOnnxSession(verified.model);
  const diff = maxAbsDiff(await runOnnx(session, data.windows, data.count), tfjsReconstruct(detector.model, data.windows, data.count));
  await session.release();
  detector.dispose();
  assert.ok(diff <= 1e-5, `max abs diff ${diff}`);
});

test('the same inputs give the same bytes; another version gives other bytes', async () => {
  const again = await packageModel({ modelDir, name: 'turbine-detector', version: '1.0.0', key, createdAt });
  assert.ok(again.bytes.equals(pkg));
  const other = await packageModel({ modelDir, name: 'turbine-detector', version: '1.0.1', key, createdAt });
  assert.ok(!other.bytes.equals(pkg));
  assert.equal(other.manifest.version, '1.0.1');
});

test('an int8-weight package verifies, says so in its manifest, and is smaller', async () => {
  const int8 = await packageModel({ modelDir, name: 'turbine-detector', version: '1.0.0-int8', key, createdAt, weights: 'int8' });
  const verified = verifyPackage(int8.bytes, key.publicKeyPem, { inputShape: [null, 6, 10, 10] });
  assert.equal(verified.manifest.model.weights, 'int8');
  assert.ok(int8.bytes.length < 0.4 * pkg.length, `${int8.bytes.length} vs ${pkg.length} bytes`);
  const manifest = JSON.parse(goodFiles()[0].data.toString()) as PackageManifest;
  rejects(resigned(JSON.stringify({ ...manifest, model: { ...manifest.model, weights: 'int4' } })), 'bad-manifest', /model\.weights must be/);
});

test('the signing key is made once, private key 0600, and loaded unchanged afterwards', () => {
  const dir = join(root, 'once');
  const first = loadOrCreateSigningKey(dir);
  const second = loadOrCreateSigningKey(dir);
  assert.equal(first.created, true);
  assert.equal(second.created, false);
  assert.equal(second.fingerprint, first.fingerprint);
  assert.equal(second.publicKeyPem, fs.readFileSync(join(dir, 'signing-key.pub.pem'), 'utf8'));
  assert.match(first.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
  if (process.platform !== 'win32') assert.equal(fs.statSync(join(dir, 'signing-key.pem')).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['signing-key.pem', 'signing-key.pub.pem']);
});

test('a corrupt signing key is reported with its path, not replaced', () => {
  const dir = join(root, 'corrupt-key');
  fs.mkdirSync(dir);
  fs.writeFileSync(join(dir, 'signing-key.pem'), 'not a key');
  assert.throws(() => loadOrCreateSigningKey(dir), /signing-key\.pem cannot be read as a private key/);
  assert.equal(fs.readFileSync(join(dir, 'signing-key.pem'), 'utf8'), 'not a key');
});

test('bad name or version is refused before anything is written', async () => {
  const out = join(root, 'refused.tar.gz');
  await assert.rejects(packageModel({ modelDir, name: 'turbine-detector', version: 'v1', out, key }), /version "v1" is not a semantic version/);
  await assert.rejects(packageModel({ modelDir, name: 'bad name!', version: '1.0.0', out, key }), /model name "bad name!" is not valid/);
  await assert.rejects(packageModel({ modelDir: join(root, 'nope'), name: 'x', version: '1.0.0', out, key }), /model directory .*nope does not exist/);
  assert.equal(fs.existsSync(out), false);
});

test('a changed byte in the model is refused (hash-mismatch)', () => {
  rejects(repack((files) => (files.find((f) => f.name === 'model.onnx')!.data[100] ^= 1)), 'hash-mismatch', /model\.onnx does not match its sha256/);
  rejects(repack((files) => (files.find((f) => f.name === 'model.onnx')!.data = Buffer.concat([files.find((f) => f.name === 'model.onnx')!.data, Buffer.from([0])]))), 'hash-mismatch', /model\.onnx/);
});

test('a changed byte in the manifest or the signature is refused (bad-signature)', () => {
  rejects(
    repack((files) => {
      const m = files.find((f) => f.name === 'manifest.json')!;
      m.data = Buffer.from(m.data.toString().replace('"1.0.0"', '"9.0.0"'));
    }),
    'bad-signature',
    /manifest\.sig is not a valid signature/,
  );
  rejects(
    repack((files) => {
      const s = files.find((f) => f.name === 'manifest.sig')!;
      s.data = Buffer.from(s.data.toString().replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
    }),
    'bad-signature',
    /not a valid signature/,
  );
  rejects(repack((files) => (files.find((f) => f.name === 'manifest.sig')!.data = Buffer.from('garbage'))), 'bad-signature', /not a valid signature/);
});

test('a changed byte anywhere in the archive file, or a truncated file, is refused (corrupt-archive)', () => {
  for (const at of [20, Math.floor(pkg.length / 2), pkg.length - 6]) {
    const bad = Buffer.from(pkg);
    bad[at] ^= 0x10;
    rejects(bad, 'corrupt-archive', /gzip|tar|truncated/);
  }
  rejects(pkg.subarray(0, pkg.length - 100), 'corrupt-archive', /gzip|truncated/);
  rejects(Buffer.from('hello'), 'corrupt-archive', /not a valid gzip/);
  const tar = gzipSync(Buffer.alloc(512, 1));
  rejects(tar, 'corrupt-archive', /checksum|truncated/);
});

test('missing and extra files are refused', () => {
  rejects(repack((files) => files.splice(files.findIndex((f) => f.name === 'model.onnx'), 1)), 'missing-file', /lacks model\.onnx/);
  rejects(repack((files) => files.splice(files.findIndex((f) => f.name === 'manifest.sig'), 1)), 'missing-file', /no manifest\.sig/);
  rejects(repack((files) => files.splice(files.findIndex((f) => f.name === 'manifest.json'), 1)), 'missing-file', /no manifest\.json/);
  rejects(repack((files) => files.push({ name: 'run.sh', data: Buffer.from('rm -rf /') })), 'extra-file', /run\.sh, which the manifest does not list/);
  // Names that are also members of every JS object are files like any other.
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    rejects(repack((files) => files.push({ name, data: Buffer.from('payload') })), 'extra-file', new RegExp(`${name}, which the manifest does not list`));
  }
});

test('another key, or something that is not an Ed25519 public key, is refused', () => {
  const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
  rejects(pkg, 'wrong-key', /signed by key .* not a trusted key/, other);
  // Several trusted keys (rotation): any one of them that signed is enough; none at all is refused.
  assert.equal(verifyPackage(pkg, [other, key.publicKeyPem]).manifest.name, 'turbine-detector');
  assert.equal(verifyPackage(pkg, [key.publicKey, other]).manifest.name, 'turbine-detector');
  assert.throws(() => verifyPackage(pkg, [other]), (err: unknown) => err instanceof PackageVerificationError && err.reason === 'wrong-key');
  assert.throws(() => verifyPackage(pkg, []), (err: unknown) => err instanceof PackageVerificationError && err.reason === 'bad-public-key');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  rejects(pkg, 'bad-public-key', /rsa, not Ed25519/, rsa);
  rejects(pkg, 'bad-public-key', /not a PEM public key/, 'hello');
  // A manifest re-signed by an attacker's key that claims our fingerprint is still just a bad signature.
  const attacker = generateKeyPairSync('ed25519').privateKey;
  rejects(resigned(goodFiles()[0].data.toString(), attacker), 'bad-signature', /not a valid signature/);
});

test("the caller's expectations: name, input name, input shape", () => {
  rejects(pkg, 'wrong-input-shape', /input shape is \(N, 6, 10, 10\), expected \(N, 6, 20, 5\)/, key.publicKeyPem, { inputShape: [null, 6, 20, 5] });
  rejects(pkg, 'wrong-input-shape', /expected \(N, 6, 10\)/, key.publicKeyPem, { inputShape: [null, 6, 10] });
  rejects(pkg, 'wrong-input-name', /input is "input", expected "x"/, key.publicKeyPem, { inputName: 'x' });
  rejects(pkg, 'wrong-name', /model "turbine-detector", expected "other-model"/, key.publicKeyPem, { name: 'other-model' });
});

test('signed but malformed manifests are refused: not JSON, bad version, missing fields, bad file names', () => {
  const manifest = JSON.parse(goodFiles()[0].data.toString()) as PackageManifest;
  rejects(resigned('{ not json'), 'bad-manifest', /not valid JSON/);
  rejects(resigned(JSON.stringify({ ...manifest, version: '1.0' })), 'bad-version', /"1\.0" is not a semantic version/);
  rejects(resigned(JSON.stringify({ ...manifest, version: '01.0.0' })), 'bad-version', /semantic version/);
  rejects(resigned(JSON.stringify({ ...manifest, thresholds: undefined })), 'bad-manifest', /thresholds are missing/);
  rejects(resigned(JSON.stringify({ ...manifest, thresholds: { ...manifest.thresholds, scale: { full: [], recent: [] } } })), 'bad-manifest', /thresholds: scale\.full must hold 6 entries/);
  rejects(resigned(JSON.stringify({ ...manifest, thresholds: { ...manifest.thresholds, fast: 'soon' } })), 'bad-manifest', /thresholds\.fast must be a number over 1/);
  // Version 1 packages (no scale, no fast rule) still load.
  assert.equal(verifyPackage(resigned(JSON.stringify({ ...manifest, formatVersion: 1 })), key.publicKeyPem).manifest.formatVersion, 1);
  rejects(resigned(JSON.stringify({ ...manifest, formatVersion: 3 })), 'bad-manifest', /formatVersion 3 is not supported \(this agent reads 1, 2\)/);
  rejects(resigned(JSON.stringify({ ...manifest, formatVersion: 1, thresholds: { ...manifest.thresholds, fast: 2 } })), 'bad-manifest', /need formatVersion 2/);
  rejects(resigned(JSON.stringify({ ...manifest, model: { ...manifest.model, inputShape: [null, 6, -1, 10] } })), 'bad-manifest', /inputShape/);
  rejects(resigned(JSON.stringify({ ...manifest, files: { ...manifest.files, '../x': manifest.files['model.onnx'] } })), 'bad-manifest', /"\.\.\/x", which cannot be a packaged file/);
  rejects(resigned(JSON.stringify({ ...manifest, format: 'zip' })), 'bad-manifest', /format must be/);
  // A model file named after an Object member is not "listed" by the prototype.
  rejects(resigned(JSON.stringify({ ...manifest, model: { ...manifest.model, file: 'toString' } })), 'bad-manifest', /files does not list the model file "toString"/);
});

test('path traversal, links, directories and duplicate entries are refused', () => {
  const files = goodFiles();
  const withEntry = (extra: { path: string; data?: Buffer; type?: string; linkpath?: string }) => rawTarGz([...files.map((f) => ({ path: f.name, data: f.data })), extra]);
  rejects(withEntry({ path: '../escape.txt', data: Buffer.from('x') }), 'path-traversal', /"\.\.\/escape\.txt" is not a plain file name/);
  rejects(withEntry({ path: '/etc/cron.d/x', data: Buffer.from('x') }), 'path-traversal', /not a plain file name/);
  rejects(withEntry({ path: 'sub/model.onnx', data: Buffer.from('x') }), 'path-traversal', /not a plain file name/);
  rejects(withEntry({ path: 'link', type: 'SymbolicLink', linkpath: '/etc/passwd' }), 'unexpected-entry', /"link" is a SymbolicLink/);
  rejects(withEntry({ path: 'hard', type: 'Link', linkpath: 'model.onnx' }), 'unexpected-entry', /"hard" is a Link/);
  rejects(withEntry({ path: 'dir/', type: 'Directory' }), 'unexpected-entry', /Directory/);
  rejects(withEntry({ path: 'model.onnx', data: files[2].data }), 'duplicate-entry', /model\.onnx" twice/);
  rejects(join(root, 'no-such.tar.gz'), 'unreadable', /cannot read package/);
});

test('verification reads nothing but the package: no file system calls for a Buffer, one file for a path', (t) => {
  const calls: string[] = [];
  for (const name of ['readFileSync', 'statSync', 'openSync', 'readdirSync', 'existsSync', 'lstatSync', 'createReadStream', 'readSync', 'writeFileSync'] as const) {
    t.mock.method(fs, name, (...args: unknown[]) => {
      calls.push(`${name}(${String(args[0])})`);
      throw new Error(`unexpected fs.${name}`);
    });
  }
  assert.equal(verifyPackage(pkg, key.publicKeyPem).manifest.name, 'turbine-detector');
  assert.deepEqual(calls, []);
  t.mock.restoreAll();
  const read: string[] = [];
  const original = fs.readFileSync;
  t.mock.method(fs, 'readFileSync', (...args: Parameters<typeof fs.readFileSync>) => {
    read.push(String(args[0]));
    return original(...args);
  });
  verifyPackage(pkgPath, key.publicKeyPem);
  assert.deepEqual(read, [pkgPath]);
});

test('semantic versions: validation and precedence', () => {
  for (const v of ['1.0.0', '0.1.2', '1.0.0-rc.1', '1.0.0+build.7', '10.20.30-alpha.beta+x']) assert.ok(isSemver(v), v);
  for (const v of ['1.0', 'v1.0.0', '01.0.0', '1.0.0-', '1.0.0+', '', '1.0.0-01', 1]) assert.ok(!isSemver(v), String(v));
  const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.2.0', '2.0.0'];
  for (let i = 0; i + 1 < ordered.length; i++) {
    assert.equal(compareSemver(ordered[i], ordered[i + 1]), -1, `${ordered[i]} < ${ordered[i + 1]}`);
    assert.equal(compareSemver(ordered[i + 1], ordered[i]), 1);
  }
  assert.equal(compareSemver('1.0.0+a', '1.0.0+b'), 0);
  assert.throws(() => compareSemver('1.0', '1.0.0'), /"1\.0" is not a semantic version/);
});

test('public key fingerprints differ per key and match the manifest', () => {
  const { publicKey } = generateKeyPairSync('ed25519');
  assert.notEqual(publicKeyFingerprint(publicKey), key.fingerprint);
  assert.match(key.fingerprint, /^[0-9a-f]{64}$/);
});

test('a package bigger than the unpacking limit is refused before it is unpacked (too-large)', () => {
  assert.throws(() => readTarGz(pkg, 100_000), (err: unknown) => err instanceof PackageVerificationError && err.reason === 'too-large' && /more than 100000 bytes/.test(err.message));
  assert.equal(readTarGz(pkg).length, 3);
});

test('standard tar tools read the package: three plain files in a fixed order', async () => {
  const seen: Array<{ path: string; size: number; mode: number; mtime: number }> = [];
  await list({ file: pkgPath, onReadEntry: (e) => seen.push({ path: e.path, size: e.size ?? 0, mode: e.mode ?? 0, mtime: e.mtime?.getTime() ?? 0 }) });
  assert.deepEqual(seen.map((e) => e.path), ['manifest.json', 'manifest.sig', 'model.onnx']);
  assert.ok(seen.every((e) => e.mode === 0o644 && e.mtime === createdAt.getTime()));
  assert.equal(seen[2].size, verifyPackage(pkg, key.publicKeyPem).model.length);
});

test('loadPackagedModel opens a verified model, and refuses one whose graph differs from its manifest', async () => {
  const verified = verifyPackage(pkg, key.publicKeyPem);
  const session = await loadPackagedModel(verified);
  assert.deepEqual(session.inputNames, ['input']);
  await session.release();
  // A correctly signed package whose model.onnx takes (N, 6, 20, 5) while the manifest claims (N, 6, 10, 10).
  const input = tf.input({ shape: [6, 20, 5] });
  const odd = tf.model({ inputs: input, outputs: tf.layers.flatten().apply(input) as tf.SymbolicTensor });
  const manifest = verified.manifest;
  const { format: _f, formatVersion: _v, files: _files, signature: _s, ...contents } = manifest;
  const lying = createPackage(contents, exportToOnnx(odd).bytes, key);
  const wrongShape = verifyPackage(lying.bytes, key.publicKeyPem, { inputShape: [null, 6, 10, 10] });
  await assert.rejects(loadPackagedModel(wrongShape), (err: unknown) => err instanceof PackageVerificationError && err.reason === 'wrong-input-shape' && /\(N, 6, 20, 5\), the manifest says float32 \(N, 6, 10, 10\)/.test(err.message));
  const renamed = createPackage(contents, exportToOnnx(odd, { inputName: 'x' }).bytes, key);
  await assert.rejects(loadPackagedModel(verifyPackage(renamed.bytes, key.publicKeyPem)), (err: unknown) => err instanceof PackageVerificationError && err.reason === 'wrong-input-name');
  const garbage = createPackage(contents, Buffer.from('not an onnx model'), key);
  await assert.rejects(loadPackagedModel(verifyPackage(garbage.bytes, key.publicKeyPem)), (err: unknown) => err instanceof PackageVerificationError && err.reason === 'bad-model');
  odd.dispose();
});
