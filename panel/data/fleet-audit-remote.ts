// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The page's side of a fleet load run in a Worker (fleet-audit-worker.ts): starts it, hands the
 * views what it reports as the in-thread load would (`onVm` once per VM, `onRisk` with that same
 * object updated in place, matched by VMID), and ends it on abort.
 *
 * NOTE: at 5,000 VMs the page's main thread paints rows, re-sorts and re-filters while the
 * requests go out; on the page, each answer waited for that work before the next request left
 * (~1 slot of 6 idle on average). In a worker the requests only wait for each other.
 *
 * Fallback: where the worker cannot start (no Worker, a Content-Security-Policy without
 * `worker-src` for it, its script not served: it reports an error before its first message), the
 * load runs on the page as before, with a console warning; the user sees the same table.
 */
import type { PendingBatchAdvert } from '../../api-shim/contracts/pending-batch.js';
import type { VmInput, VmReport } from '../../src/analysis/types.js';
import type { PveClient } from '../../src/api/client.js';
import type { FleetAudit, FleetLoadOptions, FleetWorkerSpec } from './fleet-audit.js';
import { type FromWorker, type StartMessage, receivedError } from './fleet-audit-protocol.js';

/**
 * Runs the load in `spec`'s worker (reading the configs through the shim's `pendingBatch` when
 * given); `here` runs it on this thread when the worker cannot start.
 * @throws what the load threw in the worker (the same `PveApiError` class), or the signal's reason
 */
export function loadFleetAuditInWorker(
  client: PveClient,
  spec: FleetWorkerSpec,
  opts: FleetLoadOptions,
  here: () => Promise<FleetAudit>,
  pendingBatch?: PendingBatchAdvert,
): Promise<FleetAudit> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(signal.reason);
  let worker: Worker;
  try {
    worker = spec.start();
  } catch (err) {
    console.warn('pve-dataplane: the audit worker could not start; auditing on the page:', err);
    return here();
  }
  return new Promise<FleetAudit>((resolve, reject) => {
    let started = false;
    let evidence = false;
    const held = new Map<number, { report: VmReport; input: VmInput }>();
    const end = (): void => {
      worker.terminate();
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      end();
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      end();
      if (started) return reject(new Error(`the audit worker failed: ${e.message || 'unknown error'}`));
      console.warn(`pve-dataplane: the audit worker did not start (${e.message || 'its script did not load'}); auditing on the page`);
      here().then(resolve, reject);
    };
    worker.onmessageerror = () => {
      end();
      reject(new Error('the audit worker sent a message this page cannot read'));
    };
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      switch (m.kind) {
        case 'ready': {
          started = true;
          const csrfToken = spec.csrfToken?.();
          const start: StartMessage = {
            kind: 'start',
            // Absolute: a worker resolves a relative URL against its own script's (a blob: one has no path).
            apiBase: new URL(client.apiBase, location.href).href,
            concurrency: client.concurrency,
            ...(csrfToken ? { csrfToken } : {}),
            ...(pendingBatch ? { pendingBatch } : {}),
            ...(opts.node !== undefined ? { node: opts.node } : {}),
            ...(opts.vmids !== undefined ? { vmids: [...opts.vmids] } : {}),
          };
          worker.postMessage(start);
          return;
        }
        case 'batch': {
          if (m.progress) opts.onProgress?.(m.progress[0], m.progress[1]);
          for (const [report, input] of m.vms) {
            held.set(report.vmid, { report, input });
            opts.onVm?.(report, input);
          }
          if (m.evidence && !evidence) {
            evidence = true;
            opts.onEvidence?.();
          }
          for (const { vmid, report } of m.risks) {
            const mine = held.get(vmid)?.report;
            if (!mine) continue;
            if (report) replaceInPlace(mine, report);
            opts.onRisk?.(mine);
          }
          return;
        }
        case 'done': {
          end();
          const extraVm = new Map(m.extraVms.map((v) => [v.vmid, v]));
          const extraInput = new Map(m.extraInputs.map((i) => [i.vmid, i]));
          resolve({
            report: { ...m.report, vms: m.vmOrder.map((id) => held.get(id)?.report ?? extraVm.get(id)!) },
            inputs: m.inputOrder.map((id) => held.get(id)?.input ?? extraInput.get(id)!),
            env: m.env,
            permissions: m.permissions,
            loadedAt: new Date(),
          });
          return;
        }
        case 'failed':
          end();
          reject(receivedError(m.error));
      }
    };
  });
}

/** `target` becomes `source` (same object: the views hold it). */
function replaceInPlace<T extends object>(target: T, source: T): void {
  for (const k of Object.keys(target)) if (!(k in source)) delete (target as Record<string, unknown>)[k];
  Object.assign(target, source);
}
