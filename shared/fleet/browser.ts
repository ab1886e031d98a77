/**
 * The headless browser the dashboard tests and screenshots drive. One function, so the project's shared
 * browser finder (CHROMIUM_PATH, an installed Chrome/Chromium, an npm-shipped Chromium) can replace the
 * lookup in one place; for now it uses shared/plots' findChromium.
 */
import type { Browser } from 'playwright-core';
import { findChromium } from '../plots/export-png';

/** Launches headless Chromium with playwright-core (nothing is downloaded). */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
}
