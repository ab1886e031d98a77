/**
 * Which bench files `npm run bench -- <filter>...` runs. A filter that names a folder (one path segment,
 * `detector`, or several, `cloud/mqtt`) selects the benches in that folder and its subfolders; any other
 * filter selects the benches whose path contains it (`fleet.bench`, `memory`). So `detector` means
 * shared/detector, not every path that contains the word (greengrass/detector-update.bench.ts).
 */

/** The benches each filter selected (in the order of `paths`), and the filters that selected none. */
export interface BenchSelection {
  selected: string[];
  unmatched: string[];
}

/** Whether the folder segments of `path` hold `folder`'s segments in a row. */
function inFolder(path: string, folder: string[]): boolean {
  const dirs = path.split('/').slice(0, -1);
  for (let i = 0; i + folder.length <= dirs.length; i++) if (folder.every((s, k) => dirs[i + k] === s)) return true;
  return false;
}

/** The benches one filter selects among `paths`: by folder when it names one of their folders, else by substring. */
function benchesFor(paths: string[], filter: string): string[] {
  const folder = filter.replace(/^\.\//, '').replace(/\/+$/, '').split('/');
  const byFolder = paths.filter((p) => inFolder(p, folder));
  return byFolder.length > 0 ? byFolder : paths.filter((p) => p.includes(filter));
}

/**
 * The benches to run among `paths` (project-relative, '/'-separated) for `filters`: all of them when
 * there is no filter, else those any filter selects (see the file comment).
 */
export function selectBenches(paths: string[], filters: string[]): BenchSelection {
  if (filters.length === 0) return { selected: [...paths], unmatched: [] };
  const chosen = new Set<string>();
  const unmatched: string[] = [];
  for (const filter of filters) {
    const found = benchesFor(paths, filter);
    if (found.length === 0) unmatched.push(filter);
    for (const p of found) chosen.add(p);
  }
  return { selected: paths.filter((p) => chosen.has(p)), unmatched };
}
