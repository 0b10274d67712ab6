// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The migration journal as a JSONL file: one entry per line, append-only, each line fsync'ed
 * before `append` resolves, so an action taken after `append` is always on disk first.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { JsonlAppender } from './jsonl-appender.js';
import { JOURNAL_VERSION, type JournalEntry, type NewEntry } from '../migration/journal-model.js';
import { checkJournalEntry } from './contracts.js';

/** Where entries go; the apply/rollback engines only need `append`. */
export interface JournalSink {
  /** Run id stamped on every entry. */
  readonly run: string;
  append(entry: NewEntry): Promise<void>;
}

/** A journal file opened for appending. */
export class JsonlJournal implements JournalSink {
  private constructor(
    readonly path: string,
    readonly run: string,
    private readonly file: JsonlAppender,
  ) {}

  /**
   * Open (create) `path` for appending. A last line cut short by a crash is sealed first (see
   * `JsonlAppender.open`); the reader skips the cut line.
   */
  static open(path: string, run: string): JsonlJournal {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    return new JsonlJournal(path, run, JsonlAppender.open(path));
  }

  /**
   * Append one entry; resolves once it is on disk. Lines keep call order; entries appended
   * together (VMs in flight) share one sync (group commit).
   */
  append(entry: NewEntry): Promise<void> {
    let line: string;
    try {
      line = JSON.stringify({ v: JOURNAL_VERSION, ts: new Date().toISOString(), run: this.run, ...entry });
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.file.append(line).catch((err: Error) => {
      throw new Error(`journal ${this.path}: ${err.message}`);
    });
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

export interface JournalRead {
  entries: JournalEntry[];
  /** Lines that are not journal entries: cut short by a crash, or not ours; `why` names the bad field. */
  damaged: { line: number; text: string; why?: string }[];
}

/** Read a journal file. Throws when the file cannot be read; cut lines are reported, not fatal. */
export function readJournal(path: string): JournalRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read journal ${path}: ${(err as Error).message}`);
  }
  return parseJournalText(text);
}

/** Parse JSONL journal text (see `readJournal`). */
export function parseJournalText(text: string): JournalRead {
  const entries: JournalEntry[] = [];
  const damaged: JournalRead['damaged'] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      damaged.push({ line: i + 1, text: raw.slice(0, 200) });
      return;
    }
    const checked = checkJournalEntry(value);
    if ('entry' in checked) entries.push(checked.entry);
    else damaged.push({ line: i + 1, text: raw.slice(0, 200), why: checked.error });
  });
  return { entries, damaged };
}

/** The file at a `--journal` path is not a journal (someone else's file): never resume from it, never append to it. */
export class NotAJournalError extends Error {
  override name = 'NotAJournalError';
}

/**
 * Prior entries of a journal file (none when it does not exist yet). Lines cut short by a crash
 * are reported through `warn` and skipped.
 * @throws NotAJournalError when the file holds lines but not one journal entry, or cannot be read
 */
export function readPriorEntries(path: string, warn: (line: string) => void): JournalEntry[] {
  if (!existsSync(path)) return [];
  let read: JournalRead;
  try {
    read = readJournal(path);
  } catch (err) {
    throw new NotAJournalError(`--journal ${path}: ${(err as Error).message}`);
  }
  if (read.entries.length === 0 && read.damaged.length > 0) {
    throw new NotAJournalError(
      `--journal ${path} is not a pve-dataplane journal (line ${read.damaged[0]!.line} is not a journal entry${read.damaged[0]!.why ? `: ${read.damaged[0]!.why}` : ''}); ` +
        "pass the file apply printed as 'journal: …', or a new path",
    );
  }
  for (const d of read.damaged) warn(`${path}:${d.line}: not a journal entry (${d.why ?? 'cut short by a crash?'}), ignored`);
  return read.entries;
}

/**
 * Opens a journal file for one run (`apply` or `rollback`): its prior entries, and a writer that
 * appends with a fresh run id. Close it when the run ends.
 * @throws NotAJournalError (see `readPriorEntries`)
 */
export function openRunJournal(path: string, kind: 'apply' | 'rollback', warn: (line: string) => void): { prior: JournalEntry[]; writer: JsonlJournal } {
  const prior = readPriorEntries(path, warn);
  return { prior, writer: JsonlJournal.open(path, `${kind}-${randomUUID()}`) };
}
