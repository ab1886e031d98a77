// Worker threads start without the parent's TypeScript loader (npm run fleet runs under tsx, a notebook
// under tslab): register tsx's CommonJS hook here, then load the TypeScript entry that
// startTypeScriptWorker put first in the worker's argv (process.argv[2]).
require('tsx/cjs/api').register();
require(process.argv[2]);
