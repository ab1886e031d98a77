/**
 * Starts headless Chromium through playwright-core with the flags a sandbox-less root machine with a closed
 * network needs. Every caller that drives a browser starts it here.
 */
import type { Browser } from 'playwright-core';
import { findChromium, type FindChromiumOptions } from './find-chromium';

/**
 * Flags for root without a sandbox and with no network beyond loopback: without the background-networking
 * ones Chromium keeps dialling Google's hosts. playwright-core adds --headless and a fresh temporary
 * --user-data-dir of its own to every launch (it refuses one in args), so they are not repeated here.
 */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** A headless browser from findChromium's order; the caller closes it. */
export async function launchChromium(options: FindChromiumOptions = {}): Promise<Browser> {
  const found = await findChromium(options);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: found.executablePath,
    headless: true,
    args: [...CHROMIUM_FLAGS],
    env: { ...process.env, ...found.env } as Record<string, string>,
  });
}
