// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Chromium driven over a bare DevTools pipe (`--remote-debugging-pipe`: JSON messages ending in
 * NUL on fds 3/4), for a measurement the driver must not disturb. Playwright enables the Network
 * domain on every page it attaches to: each request then raises DevTools events in the browser
 * and the renderer and a message to the driver. At thousands of requests that was more CPU than
 * the page's own work (5,000 VMs: ~3 ms of Chromium + 0.6 ms of driver per request), which a
 * user's browser never spends. Only the commands sent here are enabled (Page, Runtime).
 *
 * The same Chromium also listens on a DevTools port, so Playwright can attach afterwards
 * (`chromium.connectOverCDP(cdpUrl)`) for the steps that need its input and its evaluation.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

export interface PipedChromium {
  /** For `chromium.connectOverCDP`. */
  cdpUrl: string;
  /** A command to the browser, or to a target's session. */
  send<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<T>;
  /** Events of one method (`Runtime.exceptionThrown`). */
  on(method: string, listener: (params: Record<string, unknown>, sessionId?: string) => void): void;
  /** The first page target, attached (flat session). */
  attachPage(): Promise<string>;
  close(): void;
}

/** Starts Chromium headless with the given flags, a fresh profile, a DevTools pipe and port. */
export async function launchPipedChromium(executable: string, flags: readonly string[]): Promise<PipedChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'pve-dataplane-bench-chromium-'));
  const proc: ChildProcess = spawn(
    executable,
    [...flags, '--headless', '--remote-debugging-pipe', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  const toChrome = proc.stdio[3] as NodeJS.WritableStream;
  const fromChrome = proc.stdio[4] as NodeJS.ReadableStream;
  let nextId = 0;
  const waiting = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, ((params: Record<string, unknown>, sessionId?: string) => void)[]>();
  let buf = '';
  fromChrome.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    for (let nul = buf.indexOf('\0'); nul >= 0; nul = buf.indexOf('\0')) {
      const m = JSON.parse(buf.slice(0, nul)) as CdpMessage;
      buf = buf.slice(nul + 1);
      if (m.id !== undefined) {
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.error) w?.reject(new Error(`CDP: ${m.error.message}`));
        else w?.resolve(m.result ?? {});
      } else if (m.method) {
        for (const l of listeners.get(m.method) ?? []) l(m.params ?? {}, m.sessionId);
      }
    }
  });
  const cdpUrl = await new Promise<string>((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /DevTools listening on ws:\/\/([^/\s]+)\//.exec(err);
      if (m) resolve(`http://${m[1]}`);
    });
    proc.on('exit', (code) => reject(new Error(`chromium exited with ${code} before it listened: ${err.slice(-500)}`)));
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, { resolve: resolve as (r: Record<string, unknown>) => void, reject });
      toChrome.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  return {
    cdpUrl,
    send,
    on: (method, listener) => listeners.set(method, [...(listeners.get(method) ?? []), listener]),
    async attachPage() {
      for (;;) {
        const { targetInfos } = await send<{ targetInfos: { type: string; targetId: string }[] }>('Target.getTargets');
        const page = targetInfos.find((t) => t.type === 'page');
        if (page) return (await send<{ sessionId: string }>('Target.attachToTarget', { targetId: page.targetId, flatten: true })).sessionId;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close() {
      proc.kill('SIGKILL');
      // Chromium's helper processes can still be writing the profile when the browser has exited
      // (ENOTEMPTY once ended a whole `npm run bench`): retry, and leave a temp dir rather than fail.
      proc.once('exit', () => {
        try {
          rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
        } catch (err) {
          process.stderr.write(`could not remove Chromium's profile ${profile}: ${(err as Error).message}\n`);
        }
      });
    },
  };
}
