/**
 * Lets notebook cells import the project's TypeScript library by relative path
 * (`import { RAW_COLUMNS } from '../../shared/turbine/schema'`).
 *
 * Why this is needed: tslab compiles cells with `rootDir` set to the kernel's working directory (the
 * notebook's folder), so TypeScript refuses any imported .ts file outside it ("is not under 'rootDir'"),
 * and tslab could not place its output anyway. The fix: resolve such files as TypeScript resolves files
 * found in node_modules. A cell is still type-checked against their types, but they are not emitted by
 * tslab; at run time Node loads them through tsx's require hook, exactly as the CLIs and tests load them.
 * Their own bodies are not checked again in the kernel (`npm run typecheck` does that, same TypeScript).
 */
import { relative, isAbsolute } from 'node:path';
import type * as TS from 'typescript';

type TypeScript = typeof TS;

/** Resolves tslab's bundled TypeScript the way tslab itself does, so both see the same module object. */
function tslabTypeScriptPath(): string {
  const tslabDir = require.resolve('tslab/package.json').replace(/package\.json$/, '');
  return require.resolve('@tslab/typescript-for-tslab', { paths: [tslabDir] });
}

/** True when file lies outside dir (so tslab's rootDir would reject it). */
export function isOutside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel.startsWith('..') || isAbsolute(rel);
}

/**
 * Replaces tslab's TypeScript module (before tslab loads it) with one whose watch host resolves
 * non-declaration .ts/.js files outside notebookDir as external library files. Call before requiring tslab.
 */
export function allowImportsOutsideNotebookFolder(notebookDir: string): void {
  const path = tslabTypeScriptPath();
  const real = require(path) as TypeScript;
  // tslab reads the module through __importStar, which copies own enumerable properties: delegate each one.
  const patched: Record<string, unknown> = {};
  for (const key of Object.keys(real)) {
    Object.defineProperty(patched, key, { enumerable: true, configurable: true, get: () => (real as unknown as Record<string, unknown>)[key] });
  }
  const createWatchCompilerHost = real.createWatchCompilerHost as (...args: unknown[]) => TS.WatchCompilerHostOfFilesAndCompilerOptions<TS.BuilderProgram>;
  Object.defineProperty(patched, 'createWatchCompilerHost', {
    enumerable: true,
    value: (...args: unknown[]) => {
      const host = createWatchCompilerHost(...args);
      const options = args[1] as TS.CompilerOptions;
      const sys = args[2] as TS.System;
      const cache = real.createModuleResolutionCache(notebookDir, (f) => f, options);
      host.resolveModuleNames = (names, containingFile, _reused, redirected, opts) =>
        names.map((name) => {
          const resolved = real.resolveModuleName(name, containingFile, opts, sys, cache, redirected).resolvedModule;
          if (resolved && !resolved.isExternalLibraryImport && !resolved.resolvedFileName.endsWith('.d.ts') && isOutside(notebookDir, resolved.resolvedFileName)) {
            return { ...resolved, isExternalLibraryImport: true };
          }
          return resolved;
        });
      return host;
    },
  });
  // Diagnostics: only the notebook's own files (the cells). The library's bodies are checked by `npm run
  // typecheck` with the same TypeScript (5.0.4); checking them again in every kernel took most of a lab's
  // run time (about 50 s of Lab 00 on a busy machine). A cell is still checked against their types.
  type FilesDiagnostics = (program: TS.Program, files: readonly TS.SourceFile[], token?: TS.CancellationToken) => readonly TS.Diagnostic[];
  // Internal to TypeScript (tslab calls it for a cell and its dependencies): refuse to start if it moved.
  const getPreEmitDiagnosticsOfFiles = (real as unknown as Record<string, unknown>).getPreEmitDiagnosticsOfFiles as FilesDiagnostics | undefined;
  if (typeof getPreEmitDiagnosticsOfFiles !== 'function') throw new Error(`tslab's TypeScript ${real.version} has no getPreEmitDiagnosticsOfFiles`);
  Object.defineProperty(patched, 'getPreEmitDiagnosticsOfFiles', {
    enumerable: true,
    value: (program: TS.Program, files: readonly TS.SourceFile[], token?: TS.CancellationToken) =>
      getPreEmitDiagnosticsOfFiles(program, files.filter((f) => !isOutside(notebookDir, f.fileName)), token),
  });
  const cached = require.cache[path];
  if (!cached) throw new Error(`tslab's TypeScript was not loaded from ${path}`);
  cached.exports = patched;
}
