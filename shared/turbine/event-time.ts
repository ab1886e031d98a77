/**
 * eventTime strings in the original's format (`2021-03-01T12:00:00.050000+00:00`: UTC, microseconds),
 * produced fast for long runs and parsed back to epoch milliseconds.
 */
import { FRAME_PERIOD_MS } from './schema';

/** Start of simulated data when no start time is given: fixed so the same seed gives the same bytes. */
export const DEFAULT_START_TIME = '2021-03-01T12:00:00.000000+00:00';

/** Epoch milliseconds of a start time given as Date, ISO string or epoch milliseconds; throws if invalid. */
export function toEpochMs(start: Date | string | number): number {
  const ms = start instanceof Date ? start.getTime() : typeof start === 'number' ? start : parseEventTime(start);
  if (!Number.isFinite(ms)) throw new Error(`invalid start time ${JSON.stringify(String(start))}: expected an ISO 8601 date-time`);
  if (!Number.isInteger(ms)) throw new Error(`invalid start time ${JSON.stringify(String(start))}: must be a whole millisecond`);
  return ms;
}

/** Epoch milliseconds of an eventTime string (NaN if it is not a date-time). */
export function parseEventTime(text: string): number {
  return Date.parse(text);
}

/** Formats epoch milliseconds as an eventTime string (UTC, six fraction digits, +00:00). */
export function formatEventTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2021-03-01T12:00:00.050Z
  return `${iso.slice(0, 23)}000+00:00`;
}

/**
 * Formats frame times `start + k * 50 ms` with a cache of the date-and-second prefix, so a long run costs
 * one string concatenation per frame instead of a Date conversion.
 */
export class EventClock {
  private prefixSecond = Number.NaN;
  private prefix = '';
  private static readonly suffixes: string[] = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, '0')}000+00:00`);

  constructor(readonly startMs: number, readonly periodMs: number = FRAME_PERIOD_MS) {}

  /** eventTime of frame k. */
  at(k: number): string {
    const ms = this.startMs + k * this.periodMs;
    const second = Math.floor(ms / 1000);
    if (second !== this.prefixSecond) {
      this.prefixSecond = second;
      this.prefix = new Date(second * 1000).toISOString().slice(0, 20); // 2021-03-01T12:00:00.
    }
    return this.prefix + EventClock.suffixes[ms - second * 1000];
  }
}
