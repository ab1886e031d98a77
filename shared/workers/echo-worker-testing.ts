/** A TypeScript worker entry for typescript-worker.test.ts: answers each message with its workerData and argv. */
import { parentPort, workerData } from 'node:worker_threads';

/** What the worker sends back. */
export interface EchoReply {
  message: string;
  workerData: unknown;
  argv: string[];
}

parentPort!.on('message', (message: string) => {
  const reply: EchoReply = { message, workerData, argv: process.argv.slice(2) };
  parentPort!.postMessage(reply);
});
