import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeTestModelDir } from '../packaging/packaging-testing';

const root = mkdtempSync(join(tmpdir(), 'package-cli-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
const modelDir = join(root, 'model');
const keyDir = join(root, 'keys');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'package-model.ts'), ...args], { encoding: 'utf8', cwd: join(__dirname, '..', '..') });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  await writeTestModelDir(modelDir, 'dense', 2);
});

test('--help describes both modes', () => {
  const r = cli('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--model <dir>/);
  assert.match(r.stdout, /--verify <file>/);
});

test('packages a model directory with a new key, then verifies the package with the public key', () => {
  const out = join(root, 'pkg.tar.gz');
  const made = cli('--model', modelDir, '--name', 'turbine-detector', '--version', '1.2.3', '--out', out, '--key-dir', keyDir);
  assert.equal(made.status, 0, made.stderr);
  assert.match(made.stdout, /turbine-detector 1\.2\.3 \(float32 weights\), \d+ bytes, sha256 [0-9a-f]{64}/);
  assert.match(made.stderr, /made a new signing key/);
  assert.equal(statSync(join(keyDir, 'signing-key.pem')).mode & 0o777, 0o600);
  const ok = cli('--verify', out, '--public-key', join(keyDir, 'signing-key.pub.pem'), '--name', 'turbine-detector', '--input-shape', 'N,6,10,10');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^OK .*turbine-detector 1\.2\.3 \(dense\), input input \(N, 6, 10, 10\)/);

  const tampered = join(root, 'tampered.tar.gz');
  const bytes = readFileSync(out);
  bytes[bytes.length >> 1] ^= 1;
  writeFileSync(tampered, bytes);
  const bad = cli('--verify', tampered, '--key-dir', keyDir);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^package: .*\[corrupt-archive\]\n$/);
  const shape = cli('--verify', out, '--key-dir', keyDir, '--input-shape', 'N,6,20,5');
  assert.equal(shape.status, 1);
  assert.match(shape.stderr, /expected \(N, 6, 20, 5\) \[wrong-input-shape\]/);
});

test('bad input: one clear line, exit 1, nothing written (no key, no package)', () => {
  const out = join(root, 'never.tar.gz');
  const fresh = join(root, 'fresh-keys');
  for (const [args, pattern] of [
    [['--model', modelDir, '--name', 'x', '--version', '1.0', '--out', out, '--key-dir', fresh], /version "1\.0" is not a semantic version/],
    [['--model', modelDir, '--name', 'no spaces', '--version', '1.0.0', '--out', out, '--key-dir', fresh], /model name "no spaces" is not valid/],
    [['--model', join(root, 'absent'), '--name', 'x', '--version', '1.0.0', '--out', out, '--key-dir', fresh], /model directory .*absent does not exist/],
    [['--model', modelDir, '--key-dir', fresh], /missing --name, --version, --out/],
    [['--verify', out, '--public-key', join(root, 'none.pem')], /cannot read public key/],
    [['--verify', out, '--key-dir', keyDir, '--input-shape', 'N,six'], /--input-shape: "six" is not a positive integer/],
  ] as Array<[string[], RegExp]>) {
    const r = cli(...args);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.equal(existsSync(out), false);
  assert.equal(existsSync(fresh), false);
});
