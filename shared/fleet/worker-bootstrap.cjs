// Worker threads start without the parent's TypeScript loader (npm run fleet runs under tsx, a notebook
// under tslab): register tsx's CommonJS hook here, then load the TypeScript entry named in workerData.
require('tsx/cjs/api').register();
require(require('node:worker_threads').workerData.entry);
