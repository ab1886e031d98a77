/**
 * Test fixture: writes batches of records to a state store under argv[2] forever, printing the number of
 * the last record made durable after each flush, until killed. store.test.ts kills it with SIGKILL.
 */
import { openStateStore } from './store';

const store = openStateStore(process.argv[2]);
const records = store.collection<{ n: number; pad: string }>('crash');
const pad = 'x'.repeat(500);
let n = records.size();

async function loop(): Promise<void> {
  for (;;) {
    for (let i = 0; i < 20; i++) {
      records.put(`k${n % 700}`, { n, pad });
      n++;
    }
    await store.flush();
    process.stdout.write(`${n - 1}\n`);
  }
}

void loop();
