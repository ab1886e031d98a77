/** How the farm commands (npm start, npm run fleet) end: stop the farm once, then exit with its outcome. */
import type { Fleet } from '../fleet/fleet';

/** Returns a handler that stops the farm (only the first call counts) and exits 0, or 1 if stopping failed. */
export function farmStopper(fleet: Pick<Fleet, 'stop'>): () => void {
  let stopping = false;
  return () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping the farm…');
    fleet.stop().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(err.message);
        process.exit(1);
      },
    );
  };
}
