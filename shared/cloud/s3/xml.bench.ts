/**
 * S3 request XML reading: a DeleteObjects body of 40,000 unclosed tags (the probe that stalled the old
 * regex reader for seconds) and of 160,000 (linear time: about 4x the 40,000 figure), against a
 * well-formed 1000-key DeleteObjects body read in the same run.
 */
import type { BenchLine } from '../../bench/types';
import { readXmlDocument } from './xml';

export const name = 'S3 request XML';

/** Milliseconds per read of body (refusals count as reads), median of rounds. */
function msPerRead(body: Buffer, rounds: number): number {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    try {
      readXmlDocument(body, 'Delete', ['Object']);
    } catch {
      // MalformedXML is the expected answer to the unclosed tags.
    }
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

/** The figures: unclosed tags at two sizes against a well-formed document, read in the same run. */
export async function run(): Promise<BenchLine[]> {
  const wellFormed = Buffer.from(`<Delete>${Array.from({ length: 1000 }, (_, i) => `<Object><Key>captures/t-${i}.jsonl</Key></Object>`).join('')}</Delete>`);
  const unclosed = (n: number) => Buffer.from(`<Delete>${'<Object>'.repeat(n)}`);
  const baseline = { label: 'well-formed 1000-key DeleteObjects', value: msPerRead(wellFormed, 21) };
  const at40k = msPerRead(unclosed(40_000), 11);
  const at160k = msPerRead(unclosed(160_000), 5);
  return [
    { label: '40,000 unclosed tags refused', value: at40k, unit: 'ms', baseline },
    { label: '160,000 unclosed tags refused', value: at160k, unit: 'ms', baseline: { label: '40,000 unclosed tags', value: at40k }, note: 'linear: about 4x' },
  ];
}
