import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unscoredFramesAcrossSwap, windowEventsInLog } from './scoring-gap';

const at = (frame: number): string => new Date(Date.UTC(2026, 0, 1) + frame * 50).toISOString();

test('frames left unscored across a swap: the gap beyond one hop, from window events or a component log', () => {
  const windows = [0, 10, 20, 30].map((f) => ({ endEventTime: at(f), version: '1.0.0' }));
  // A hot swap: the next window (one hop later) is the new version's.
  assert.equal(unscoredFramesAcrossSwap([...windows, { endEventTime: at(40), version: '1.1.0' }], '1.0.0', '1.1.0'), 0);
  // A restart: 250 frames between the two versions' windows, 240 of them beyond the hop.
  const log = [...windows, { endEventTime: at(280), version: '1.1.0' }].map((w) => `2026-01-01T00:00:00Z stdout {"type":"window","endIndex":1,"endEventTime":"${w.endEventTime}","version":"${w.version}","score":0.1}`).join('\n');
  const parsed = windowEventsInLog(`${log}\nnot an event\n{"type":"window","endEventTime":`);
  assert.equal(parsed.length, 5);
  assert.equal(unscoredFramesAcrossSwap(parsed, '1.0.0', '1.1.0'), 240);
  assert.equal(unscoredFramesAcrossSwap(windows, '1.0.0', '1.1.0'), null, 'no window of the new version yet');
});
