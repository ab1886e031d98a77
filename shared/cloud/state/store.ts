/**
 * The local cloud's persistent state: named collections of JSON records, held in memory and persisted
 * under <dir>/state/<collection>.jsonl as an append-only journal.
 *
 * Each line is `["id", value]` (insert or replace) or `["id"]` (delete). flush() appends the records
 * changed since the last flush (each once, however often it changed) and fsyncs, so a burst of updates
 * costs one small write, not a rewrite. When a journal holds many more lines than live records it is
 * compacted: a snapshot written to a temp file, fsynced, renamed over the journal, directory fsynced.
 * On load a torn last line (a crash mid-append) is ignored and cut off; a bad line elsewhere is an error
 * that names the file and line. Every write is checked for its full length: an append that fails (a full
 * disk, a short write) rejects the flush, is cut back off the journal so no torn line stays before later
 * appends, and its changes stay pending for the next flush.
 *
 * Records are serialised at flush time: call put() again after changing a record in place.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, truncateSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Collection, StateStore } from '../contracts';
import { nodeFiles, writeFully, type FileLayer, type WritableFile } from './file-writes';

const DELETED = Symbol('deleted');
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Compact once the journal has this many more lines than live records (and at least twice as many). */
const COMPACT_SLACK = 1000;

class JournalCollection<T> implements Collection<T> {
  readonly records = new Map<string, T>();
  /** Changes since the last flush: the new value, or DELETED. */
  pending = new Map<string, T | typeof DELETED>();
  /** Lines currently in the journal file. */
  journalLines = 0;
  /** Bytes of complete lines in the journal file: where the next append starts. */
  journalBytes = 0;
  /** Set when an append failed part-way: the file may hold bytes past journalBytes to cut off first. */
  mayBeTorn = false;
  handle: WritableFile | undefined;

  constructor(
    readonly name: string,
    readonly path: string,
    private readonly onChange: (c: JournalCollection<unknown>) => void,
  ) {}

  get(id: string): T | undefined {
    return this.records.get(id);
  }

  put(id: string, value: T): void {
    if (typeof id !== 'string' || id === '') throw new Error(`collection ${this.name}: record id must be a non-empty string`);
    if (value === undefined) throw new Error(`collection ${this.name}: record ${id} has no value (use delete)`);
    this.records.set(id, value);
    this.pending.set(id, value);
    this.onChange(this as JournalCollection<unknown>);
  }

  delete(id: string): boolean {
    const existed = this.records.delete(id);
    if (existed) {
      this.pending.set(id, DELETED);
      this.onChange(this as JournalCollection<unknown>);
    }
    return existed;
  }

  values(): T[] {
    return [...this.records.values()];
  }

  keys(): string[] {
    return [...this.records.keys()];
  }

  size(): number {
    return this.records.size;
  }
}

/** Read a journal into records; cuts a torn last line off the file. Throws on corruption elsewhere. */
function loadJournal<T>(c: JournalCollection<T>): void {
  if (!existsSync(c.path)) return;
  const text = readFileSync(c.path, 'utf8');
  const lines = text.split('\n');
  let goodBytes = 0;
  let lineCount = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const isLast = i === lines.length - 1 || (i === lines.length - 2 && lines[lines.length - 1] === '');
    if (line === '') {
      if (i < lines.length - 1) goodBytes += 1;
      continue;
    }
    let entry: unknown[] | undefined;
    try {
      const parsed: unknown = JSON.parse(line);
      entry = Array.isArray(parsed) ? parsed : undefined;
    } catch {
      entry = undefined;
    }
    const valid = entry !== undefined && typeof entry[0] === 'string' && (entry.length === 1 || entry.length === 2);
    if (!valid) {
      if (isLast) break; // torn by a crash during the last append
      throw new Error(`${c.path}:${i + 1}: corrupt state journal line (expected ["id", value] or ["id"]); restore or remove the file`);
    }
    if (i === lines.length - 1) break; // complete JSON but no newline yet: the append did not finish
    const [id, value] = entry as [string, T?];
    if ((entry as unknown[]).length === 1) c.records.delete(id);
    else c.records.set(id, value as T);
    goodBytes += Buffer.byteLength(line) + 1;
    lineCount++;
  }
  if (goodBytes < Buffer.byteLength(text)) truncateSync(c.path, goodBytes);
  c.journalLines = lineCount;
  c.journalBytes = goodBytes;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A StateStore backed by one JSON-lines journal per collection under <dir>/state/. */
export class JournalStateStore implements StateStore {
  private readonly collections = new Map<string, JournalCollection<unknown>>();
  private readonly dirty = new Set<JournalCollection<unknown>>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  readonly stateDir: string;
  private readonly files: FileLayer;

  /** Open (and load) the store under dir; creates <dir>/state/ when missing. `files` is the disk (tests fill it up). */
  constructor(dir: string, options: { files?: FileLayer } = {}) {
    this.files = options.files ?? nodeFiles;
    this.stateDir = join(dir, 'state');
    mkdirSync(this.stateDir, { recursive: true });
  }

  /** The collection of that name, loaded from its journal on first use. */
  collection<T>(name: string): Collection<T> {
    if (this.closed) throw new Error('state store is closed');
    if (!NAME_PATTERN.test(name)) throw new Error(`collection name "${name}" must match ${NAME_PATTERN}`);
    let c = this.collections.get(name);
    if (!c) {
      c = new JournalCollection<unknown>(name, join(this.stateDir, `${name}.jsonl`), (changed) => this.dirty.add(changed));
      loadJournal(c);
      this.collections.set(name, c);
    }
    return c as unknown as Collection<T>;
  }

  /** Names of the collections that have a journal on disk or are open. */
  collectionNames(): string[] {
    const onDisk = readdirSync(this.stateDir)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => f.slice(0, -'.jsonl'.length));
    return [...new Set([...onDisk, ...this.collections.keys()])].sort();
  }

  /** Make every change so far durable; concurrent calls are serialised and each waits for its own data. */
  flush(): Promise<void> {
    const next = this.chain.then(() => this.writeDirty());
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Flush and release file handles (also when the flush fails, e.g. on a full disk); the store cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      for (const c of this.collections.values()) {
        await c.handle?.close();
        c.handle = undefined;
      }
    }
  }

  private async writeDirty(): Promise<void> {
    if (this.dirty.size === 0) return;
    const batch = [...this.dirty];
    this.dirty.clear();
    for (const [i, c] of batch.entries()) {
      const pending = c.pending;
      c.pending = new Map();
      try {
        await this.appendPending(c, pending);
      } catch (err) {
        // Put the changes back so a later flush retries them, with the collections not reached yet.
        for (const [id, v] of pending) if (!c.pending.has(id)) c.pending.set(id, v);
        for (const later of batch.slice(i)) this.dirty.add(later);
        throw err;
      }
    }
  }

  private async appendPending(c: JournalCollection<unknown>, pending: Map<string, unknown>): Promise<void> {
    if (pending.size === 0) return;
    if (c.journalLines + pending.size > Math.max(2 * c.records.size, c.records.size + COMPACT_SLACK)) {
      await this.compact(c);
      return;
    }
    const lines: string[] = [];
    for (const [id, v] of pending) lines.push(v === DELETED ? JSON.stringify([id]) : JSON.stringify([id, v]));
    const text = Buffer.from(lines.join('\n') + '\n');
    if (!c.handle) {
      const created = !existsSync(c.path);
      c.handle = await this.files.open(c.path, 'a');
      if (created) fsyncDir(this.stateDir);
    }
    const handle = c.handle;
    if (c.mayBeTorn) {
      await handle.truncate(c.journalBytes);
      c.mayBeTorn = false;
    }
    try {
      await writeFully(handle, text, c.path);
      await handle.datasync();
    } catch (err) {
      // Cut the partial append off now (and, should that fail too, before the next append).
      c.mayBeTorn = true;
      await handle
        .truncate(c.journalBytes)
        .then(() => handle.datasync())
        .then(() => (c.mayBeTorn = false))
        .catch(() => undefined);
      throw err;
    }
    c.journalLines += lines.length;
    c.journalBytes += text.length;
  }

  /** Rewrite the journal as a snapshot of the live records: temp file, fsync, rename, fsync directory. */
  private async compact(c: JournalCollection<unknown>): Promise<void> {
    const tmp = `${c.path}.compact.tmp`;
    const out = await this.files.open(tmp, 'w');
    let bytes = 0;
    try {
      let buffer = '';
      const writeBuffer = async () => {
        const chunk = Buffer.from(buffer);
        await writeFully(out, chunk, tmp);
        bytes += chunk.length;
        buffer = '';
      };
      for (const [id, v] of c.records) {
        buffer += JSON.stringify([id, v]) + '\n';
        if (buffer.length > 1 << 20) await writeBuffer();
      }
      if (buffer) await writeBuffer();
      await out.sync();
    } catch (err) {
      // The old journal stays as it was; the snapshot is dropped.
      await out.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
    await out.close();
    await c.handle?.close();
    c.handle = undefined;
    renameSync(tmp, c.path);
    fsyncDir(this.stateDir);
    c.journalLines = c.records.size;
    c.journalBytes = bytes;
    c.mayBeTorn = false;
  }
}

/** Open the cloud's state store under dir (journals in <dir>/state/). */
export function openStateStore(dir: string, options: { files?: FileLayer } = {}): JournalStateStore {
  return new JournalStateStore(dir, options);
}

/** A store that keeps nothing on disk, for unit tests of a single service. */
export class MemoryStateStore implements StateStore {
  private readonly collections = new Map<string, Collection<unknown>>();

  /** The named in-memory collection. */
  collection<T>(name: string): Collection<T> {
    let c = this.collections.get(name);
    if (!c) {
      const records = new Map<string, unknown>();
      c = {
        get: (id) => records.get(id),
        put: (id, v) => void records.set(id, v),
        delete: (id) => records.delete(id),
        values: () => [...records.values()],
        keys: () => [...records.keys()],
        size: () => records.size,
      };
      this.collections.set(name, c);
    }
    return c as Collection<T>;
  }

  /** Nothing to make durable. */
  async flush(): Promise<void> {}

  /** Nothing to release. */
  async close(): Promise<void> {}
}
