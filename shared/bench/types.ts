/** One printed figure of `npm run bench`, with the baseline it is compared against in the same run. */
export interface BenchLine {
  label: string;
  value: number;
  unit: string;
  /** Same quantity measured in the same run for a plain or reference implementation. */
  baseline?: { label: string; value: number };
  note?: string;
}

/** What a `*.bench.ts` file exports (as named exports `name` and `run`, or as default). */
export interface BenchSuite {
  name: string;
  run(): Promise<BenchLine[]>;
}
