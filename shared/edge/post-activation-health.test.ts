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

test('the monitor rolls back at the first check that sees a period of failures, or the next when it saw only their start', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'] });
  const { EventEmitter } = await import('node:events');
  const { monitorActivatedModels } = await import('./post-activation-health');
  type Runtime = Parameters<typeof monitorActivatedModels>[0];
  const runtime = Object.assign(new EventEmitter(), {
    counters: { windowsScored: 0, windowsUnscored: 0 },
    activeModel: { description: { name: 'm', version: '2.0.0' } },
    rollbacks: 0,
    async rollback() {
      runtime.rollbacks++;
      runtime.activeModel = { description: { name: 'm', version: '1.0.0' } };
      runtime.emit('swap', { to: { name: 'm', version: '1.0.0' } }); // as the real runtime's rollback does
    },
  });
  const rollbacks: { checksWithFailures: number; to: { version: string } | null }[] = [];
  const monitor = monitorActivatedModels(runtime as unknown as Runtime, { periodSeconds: 10 }, { onRollback: (r) => rollbacks.push(r) });
  try {
    runtime.emit('swap', { to: { name: 'm', version: '2.0.0' } });
    runtime.counters.windowsScored += 100;
    t.mock.timers.tick(10_000); // a healthy period
    runtime.counters.windowsScored += 90;
    runtime.counters.windowsUnscored += 10; // the model goes bad near the end of the period: 10 % failed
    t.mock.timers.tick(10_000);
    assert.equal(runtime.rollbacks, 0, 'a partial period under the share does not decide');
    runtime.counters.windowsUnscored += 100; // a whole period failing
    t.mock.timers.tick(10_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(runtime.rollbacks, 1);
    assert.deepEqual(rollbacks.map((r) => [r.checksWithFailures, r.to?.version]), [[2, '1.0.0']]);
    // The model the rollback activated is not watched.
    runtime.counters.windowsUnscored += 100;
    t.mock.timers.tick(10_000);
    assert.equal(runtime.rollbacks, 1);
  } finally {
    monitor.stop();
  }
});
