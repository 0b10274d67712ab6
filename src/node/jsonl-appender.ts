// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * An append-only JSONL file whose every line is on disk (fdatasync) before its `append`
 * resolves, with group commit: lines appended while a flush is under way go out together in the
 * next write and sync, so many concurrent writers (a job's VMs in flight) share one sync instead
 * of queueing one sync each, and the event loop never blocks on the disk.
 */
import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, readSync, write, writeSync } from 'node:fs';
import { promisify } from 'node:util';

const writeAsync = promisify(write);
const syncAsync = promisify(fdatasync);

export class JsonlAppender {
  private pending: { line: string; done: () => void; fail: (err: Error) => void }[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  /**
   * Opens (creates, mode 0600) `path` for appending. A last line cut short by a crash (a kill
   * between two writes of a batch) is sealed with a newline first, so the next line starts on its
   * own and readers skip only the cut one instead of losing the next one glued to it.
   */
  static open(path: string): JsonlAppender {
    const fd = openSync(path, 'a+', 0o600);
    try {
      const size = fstatSync(fd).size;
      const last = Buffer.alloc(1);
      if (size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) {
        writeSync(fd, '\n');
        fdatasyncSync(fd);
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new JsonlAppender(path, fd);
  }

  /** Appends `line` (a newline is added); resolves once it is on disk. Lines keep call order. */
  append(line: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.path} is closed`));
    return new Promise((done, fail) => {
      this.pending.push({ line: `${line}\n`, done, fail });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        const bytes = Buffer.from(batch.map((b) => b.line).join(''));
        // O_APPEND: each write lands at the end; a short write is continued, never interleaved.
        for (let off = 0; off < bytes.length; ) off += (await writeAsync(this.fd, bytes, off)).bytesWritten;
        await syncAsync(this.fd);
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.fail(err instanceof Error ? err : new Error(String(err)));
      }
    }
    this.flushing = null;
  }

  /** Waits for every appended line, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    closeSync(this.fd);
  }
}
