/**
 * Test support: a real, tiny tmpfs to fill up, for disk-full tests against the real file system. Mounting
 * needs root (or CAP_SYS_ADMIN); where it is not allowed, mountTinyDisk says why and the caller skips with
 * that reason instead of passing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A mounted tmpfs of a few KiB; unmount() removes it. */
export interface TinyDisk {
  dir: string;
  unmount(): void;
}

/** Mount a tmpfs of `kib` KiB on a fresh directory, or return the reason it cannot be done here. */
export function mountTinyDisk(kib: number): TinyDisk | { unavailable: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tiny-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return { unavailable: `cannot mount a ${kib} KiB tmpfs here (needs root): ${stderr || (err as Error).message}` };
  }
  return {
    dir,
    unmount() {
      // Lazy: a file a failing test left open must not keep the mount (or hide the test's own error).
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
