import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelManager } from './model-manager';
import type { ModelRejected } from './model-package';
import { packageVerifier } from './package-verifier';
import { signedTestPackage, tamperedPackage, testSigningKey } from './package-testing';

test('signed packages load through the packaging verifier; tampered, foreign, truncated and wrong-shape ones are refused with the reason', async () => {
  const key = testSigningKey();
  const manager = new ModelManager(packageVerifier(key.publicKeyPem));
  const good = signedTestPackage(key, '1.2.0', { bias: 0.5 });
  const model = await manager.load(good, 'sha');
  assert.equal(model.description.version, '1.2.0');
  assert.deepEqual(model.description.inputShape, ['N', 6, 10, 10]);
  assert.equal(model.description.params.windowLength, 100);
  const out = await model.engine.run(new Float32Array(600), [1, 6, 10, 10]);
  assert.equal(out.data[0], 0.5);
  await model.engine.release();
  const cases: [Buffer, string, RegExp][] = [
    [tamperedPackage(good), 'bad-signature', /manifest.sig is not a valid signature/],
    [signedTestPackage(testSigningKey(), '1.2.0'), 'bad-signature', /wrong-key: package was signed by key/],
    [good.subarray(0, good.length - 40), 'invalid-package', /corrupt-archive/],
    [signedTestPackage(key, '1.3.0', { inputShape: [6, 5, 20] }), 'wrong-input-shape', /model.onnx input input \(N, 6, 5, 20\) differs/],
  ];
  for (const [bytes, reason, message] of cases) {
    await assert.rejects(manager.load(bytes, 'sha'), (e: ModelRejected) => e.reason === reason && message.test(e.message));
  }
  assert.deepEqual(manager.list(), []);
});
