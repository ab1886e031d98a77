import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePostActivationHealth } from './post-activation-health';

// The monitor against a real agent and a model going bad: shared/faults/model-goes-bad.test.ts.
test('post-activation health settings: each bad value is named', () => {
  const ok = { periodSeconds: 10, watchSeconds: 600, maxFailedShare: 0.5 };
  validatePostActivationHealth(ok);
  assert.throws(() => validatePostActivationHealth({ ...ok, periodSeconds: 0 }), /periodSeconds must be positive, got 0/);
  assert.throws(() => validatePostActivationHealth({ ...ok, watchSeconds: -1 }), /watchSeconds must be 0 or more, got -1/);
  assert.throws(() => validatePostActivationHealth({ ...ok, maxFailedShare: 1.5 }), /maxFailedShare must be in \(0, 1\], got 1.5/);
  assert.throws(() => validatePostActivationHealth({ ...ok, maxFailedShare: Number.NaN }), /maxFailedShare must be in \(0, 1\], got NaN/);
});
