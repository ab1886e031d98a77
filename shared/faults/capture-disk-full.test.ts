/**
 * Fault: the capture spool's disk is full. A real agent scores frames against a real local cloud while its
 * spool folder sits on a tiny filesystem filled to the last byte (a 1 MiB tmpfs when the test runs as
 * root; otherwise a read-only folder, so every write fails as well). Inference must go on, every record
 * that could not be spooled is counted as dropped, and once space returns capture resumes and every
 * spooled record reaches S3 exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capturedBatches, waitFor } from '../edge/agent-testing';
import { startAgentTestbed } from '../edge/agent-testbed-testing';
import { simulatedFrames } from '../edge/stand-in-model-testing';
import { recordFigure, scaled } from './figures';

type FullDisk = { how: string; free: () => void; unmount: () => void };

/** Makes dir unwritable: a full tmpfs as root, else a read-only folder; or says why it cannot here. */
function fillDisk(dir: string): FullDisk | { unavailable: string } {
  if (process.getuid?.() === 0) {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
      const filler = join(dir, 'filler');
      try {
        writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
      return { how: 'a 1 MiB tmpfs filled to ENOSPC', free: () => rmSync(filler, { force: true }), unmount: () => execFileSync('umount', ['-l', dir]) };
    } catch {
      // no mount permission (e.g. in a container): fall through
    }
  }
  chmodSync(dir, 0o500);
  try {
    // Root without mount permission ignores the folder's mode: nothing here can make the disk fail.
    writeFileSync(join(dir, 'probe'), 'x');
    rmSync(join(dir, 'probe'));
    chmodSync(dir, 0o700);
    return { unavailable: 'running as root without permission to mount a tmpfs: no way to make the spool unwritable' };
  } catch {
    return { how: 'a read-only spool folder (EACCES)', free: () => chmodSync(dir, 0o700), unmount: () => undefined };
  }
}

test('capture spool disk full: inference goes on, dropped records are counted, capture resumes when space returns', { timeout: 120_000 }, async (t) => {
  const windowsWhileFull = scaled(400, 4000);
  // Set by the hook that runs before the agent starts (its spool folder must be full from the start).
  let filled!: ReturnType<typeof fillDisk>;
  const bed = await startAgentTestbed('faults-disk-full-', { heartbeatSeconds: 60, capture: { sampleRate: 0.5, batchSize: 4, maxAgeSeconds: 1, seed: 7 }, captureAckSeconds: 5 }, (stateDir) => {
    const spool = join(stateDir, 'capture');
    mkdirSync(spool, { recursive: true });
    filled = fillDisk(spool);
  });
  if ('unavailable' in filled) {
    await bed.remove();
    t.skip(filled.unavailable);
    return;
  }
  const disk = filled;
  const { agent, logs } = bed;
  try {
    await agent.connected();
    const frames = simulatedFrames(10 * (windowsWhileFull * 2 + 200));
    let next = 0;
    const feed = async (windows: number): Promise<void> => {
      const target = agent.counters.windowsScored + windows;
      while (agent.counters.windowsScored < target && next < frames.length) {
        for (let k = 0; k < 200 && next < frames.length; k++) agent.push(frames[next++]);
        await agent.runtime.idle();
      }
    };
    const started = Date.now();
    await feed(windowsWhileFull);
    agent.capture.close();
    const fullMs = Date.now() - started;
    const whileFull = { ...agent.capture.counters, scored: agent.counters.windowsScored };

    disk.free();
    const freed = Date.now();
    await feed(scaled(100, 400));
    agent.capture.close();
    await waitFor(() => agent.capture.counters.pendingRecords === 0, 60_000, 'the spool to drain after space returned');
    const recoveryMs = Date.now() - freed;
    const c = agent.capture.counters;
    const stored = await capturedBatches(bed.cloud(), agent.thingName);
    const ids = stored.flatMap((s) => s.batch.records.map((r) => r.captureId));
    const duplicated = ids.length - new Set(ids).size;
    const lost = c.captured - c.dropped - ids.length + duplicated;
    const ok = whileFull.scored >= windowsWhileFull && whileFull.droppedWriteFailed > 0 && whileFull.droppedWriteFailed === whileFull.captured && lost === 0 && duplicated === 0 && c.uploaded > 0;
    recordFigure({
      scenario: 'capture-disk-full',
      injected: `capture spool on ${disk.how} while ${whileFull.scored} windows were scored; then space freed`,
      held: `inference went on (${whileFull.scored} windows scored while full); ${whileFull.droppedWriteFailed} of ${whileFull.captured} captured records counted as dropped (droppedWriteFailed), none thrown; after space returned ${c.uploaded} records reached S3 exactly once`,
      ok,
      lost,
      duplicated,
      refused: c.droppedWriteFailed,
      durationsMs: { 'disk full': fullMs, 'drain after freeing': recoveryMs },
      counts: { scored: agent.counters.windowsScored, captured: c.captured, uploaded: c.uploaded, droppedWriteFailed: c.droppedWriteFailed },
    });
    assert.ok(whileFull.scored >= windowsWhileFull, 'inference went on while the disk was full');
    assert.ok(whileFull.droppedWriteFailed > 0 && whileFull.droppedWriteFailed === whileFull.captured, `every record captured while full is counted dropped: ${JSON.stringify(whileFull)}`);
    assert.ok(logs.some((l) => /not written to the spool/.test(l)), 'the drop is logged');
    assert.ok(c.uploaded > 0, 'capture resumed after space returned');
    assert.equal(duplicated, 0);
    assert.equal(lost, 0, 'every captured record is in S3 or counted dropped');
  } finally {
    await bed.agent.stop();
    try {
      disk.free();
      disk.unmount();
    } catch {
      // already undone
    }
    await bed.remove();
  }
});
