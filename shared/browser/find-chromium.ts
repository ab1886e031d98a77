/**
 * The one place that decides which Chromium the project drives (PNG export, `npm run plots`, browser tests):
 * $CHROMIUM_PATH, else a Chrome/Chromium installed on the machine, else the one shipped in an npm package.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { npmChromiumSupported, unpackNpmChromium } from './npm-chromium';

/** Where a browser came from, so callers and tests can say which one ran. */
export type ChromiumSource = 'env' | 'system' | 'npm';

/** A browser to launch: its executable, extra environment for its process, and where it was found. */
export interface FoundChromium {
  executablePath: string;
  env: Record<string, string>;
  source: ChromiumSource;
}

/** Options of findChromium. */
export interface FindChromiumOptions {
  /** Skip $CHROMIUM_PATH and installed browsers: proves the npm-shipped fallback on a machine that has both. */
  npmOnly?: boolean;
}

const INSTALLED_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];
const COMMANDS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

/** The first installed Chrome/Chromium: well-known paths, then the commands on PATH; undefined if none. */
export function findInstalledChromium(): string | undefined {
  const known = INSTALLED_PATHS.find((p) => existsSync(p));
  if (known) return known;
  for (const command of COMMANDS) {
    try {
      const path = execFileSync('which', [command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (path) return path;
    } catch {
      // not on PATH (or no `which`): try the next name
    }
  }
  return undefined;
}

/** The browser to launch, in the order $CHROMIUM_PATH, installed, npm-shipped; a clear error if there is none. */
export async function findChromium(options: FindChromiumOptions = {}): Promise<FoundChromium> {
  if (!options.npmOnly) {
    const fromEnv = process.env.CHROMIUM_PATH;
    if (fromEnv) {
      if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist: point it at a Chrome/Chromium executable or unset it`);
      return { executablePath: fromEnv, env: {}, source: 'env' };
    }
    const installed = findInstalledChromium();
    if (installed) return { executablePath: installed, env: {}, source: 'system' };
  }
  if (!npmChromiumSupported()) {
    throw new Error(`No Chromium found, and the npm-shipped one runs on Linux x64 only (this is ${process.platform} ${process.arch}): install Chrome or Chromium, or set CHROMIUM_PATH`);
  }
  return { ...(await unpackNpmChromium()), source: 'npm' };
}
