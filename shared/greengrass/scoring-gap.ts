/**
 * Frames left unscored across a model change, measured from the scored windows themselves: the gap
 * between the last window the old version scored and the first the new one scored, beyond the usual
 * distance between two windows (the hop). Works on the agent's window events, in process (IoT Jobs path)
 * or read back from the Detector component's log (--events JSON lines).
 */
import { FRAME_PERIOD_MS } from '../turbine/schema';

/** One scored window: when its last frame was produced (event time) and which model version scored it. */
export interface ScoredWindowEvent {
  endEventTime: string;
  version: string;
}

/** The window events in a Detector component log (lines holding the agent's --events JSON). */
export function windowEventsInLog(text: string): ScoredWindowEvent[] {
  const out: ScoredWindowEvent[] = [];
  for (const line of text.split('\n')) {
    const at = line.indexOf('{"type":"window"');
    if (at < 0) continue;
    try {
      const e = JSON.parse(line.slice(at)) as Partial<ScoredWindowEvent>;
      if (typeof e.endEventTime === 'string' && typeof e.version === 'string') out.push({ endEventTime: e.endEventTime, version: e.version });
    } catch {
      // a line cut by a crash: not a window
    }
  }
  return out;
}

/** The frames between the last window of one version and the first of the next, and the usual hop between windows. */
export interface SwapGap {
  gapFrames: number;
  hopFrames: number;
}

/**
 * Frames produced between the last window of fromVersion and the first of toVersion, and the hop (the
 * median distance between consecutive windows of fromVersion); null until both versions scored.
 */
export function swapGap(windows: ScoredWindowEvent[], fromVersion: string, toVersion: string): SwapGap | null {
  const times = (v: string): number[] => windows.filter((w) => w.version === v).map((w) => Date.parse(w.endEventTime)).sort((a, b) => a - b);
  const old = times(fromVersion);
  const next = times(toVersion);
  if (old.length < 2 || next.length === 0) return null;
  const firstNew = next[0];
  const lastOld = old.filter((t) => t < firstNew).pop();
  if (lastOld === undefined) return null;
  const gaps = old.slice(1).map((t, i) => t - old[i]).sort((a, b) => a - b);
  return { gapFrames: Math.round((firstNew - lastOld) / FRAME_PERIOD_MS), hopFrames: Math.round(gaps[gaps.length >> 1] / FRAME_PERIOD_MS) };
}

/** Frames left unscored in a swap gap: those beyond one hop. */
export function unscoredFrames(g: SwapGap): number {
  return Math.max(0, g.gapFrames - g.hopFrames);
}

/** Frames left unscored across a model change; null until both versions scored. */
export function unscoredFramesAcrossSwap(windows: ScoredWindowEvent[], fromVersion: string, toVersion: string): number | null {
  const g = swapGap(windows, fromVersion, toVersion);
  return g === null ? null : unscoredFrames(g);
}
