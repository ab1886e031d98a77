/**
 * The headless Chromium that ships inside the @sparticuz/chromium npm tarball (brotli-compressed), unpacked
 * once into node_modules/.cache so `npm install` alone gives the project a browser on Linux x64.
 * We unpack it ourselves rather than call the package's executablePath(): that one writes to fixed /tmp
 * paths and reports a half-written binary as ready when two test processes start at once.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { x as untar } from 'tar';

const PACKAGE = '@sparticuz/chromium';

/** An unpacked npm Chromium: the executable and the environment it needs to find its libraries and fonts. */
export interface NpmChromium {
  executablePath: string;
  env: Record<string, string>;
}

/** True where the npm package carries a build for this machine (it ships Linux x64 only). */
export function npmChromiumSupported(platform: string = process.platform, arch: string = process.arch): boolean {
  return platform === 'linux' && arch === 'x64';
}

/** Unpacks the npm-shipped Chromium (first call only; safe when several processes race) and says how to run it. */
export async function unpackNpmChromium(cacheRoot?: string): Promise<NpmChromium> {
  if (!npmChromiumSupported()) {
    throw new Error(`${PACKAGE} ships Chromium for Linux x64 only (this is ${process.platform} ${process.arch}): install Chrome or Chromium, or set CHROMIUM_PATH`);
  }
  const manifest = require.resolve(`${PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  const bin = join(dirname(manifest), 'bin');
  const dir = join(cacheRoot ?? join(dirname(manifest), '..', '..', '.cache'), `sparticuz-chromium-${version}`);
  if (!existsSync(join(dir, 'chromium'))) await unpackAtomically(bin, dir);
  return {
    executablePath: join(dir, 'chromium'),
    // The binary links only glibc from the system; NSS and expat come from the package's own libraries.
    env: { LD_LIBRARY_PATH: join(dir, 'lib'), FONTCONFIG_FILE: join(dir, 'fonts.conf') },
  };
}

/** Unpacks into a private folder, then renames it into place, so no process ever sees a partial browser. */
async function unpackAtomically(bin: string, dir: string): Promise<void> {
  const staging = `${dir}.partial-${randomUUID()}`;
  mkdirSync(staging, { recursive: true });
  try {
    await pipeline(createReadStream(join(bin, 'chromium.br')), createBrotliDecompress(), createWriteStream(join(staging, 'chromium'), { mode: 0o755 }));
    // al2023.tar.br holds lib/ (NSS, NSPR, expat); fonts.tar.br holds fonts/ (Open Sans) so text renders on a machine without fonts.
    for (const archive of ['al2023.tar.br', 'fonts.tar.br']) {
      await pipeline(createReadStream(join(bin, archive)), createBrotliDecompress(), untar({ cwd: staging, filter: (path) => path !== 'fonts.conf' }));
    }
    writeFileSync(
      join(staging, 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(dir, 'fonts')}</dir>\n  <dir>/usr/share/fonts</dir>\n  <cachedir>${join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    renameSync(staging, dir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    // Another process finished first: its copy is complete, ours is not needed.
    if (existsSync(join(dir, 'chromium'))) return;
    throw err;
  }
}
