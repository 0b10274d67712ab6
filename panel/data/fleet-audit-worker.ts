// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The panel's fleet audit in a dedicated Worker (built next to the panel's bundle as
 * `fleet-audit-worker.js`): the requests, their JSON and each VM's analysis and risk run here,
 * so the next request leaves the moment a slot frees, however busy the page is painting rows.
 * The page (fleet-audit-remote.ts) gets the VMs in batches of about a frame and only paints.
 *
 * Reads only: the client here sends the browser's own same-origin cookies (the shim's session
 * standalone, PVEAuthCookie inside PVE) and never writes. One load per worker; the page ends the
 * worker to abort it.
 */
import type { VmInput, VmReport } from '../../src/analysis/types.js';
import { PveClient } from '../../src/api/client.js';
import { fetchTransport } from '../../src/api/fetch-transport.js';
import { auditFleetHere, readPendingInBatches } from './fleet-audit.js';
import { type BatchMessage, type FromWorker, type StartMessage, sendableError } from './fleet-audit-protocol.js';

/** A batch leaves at most this often (ms): about a frame of the page. */
const BATCH_EVERY_MS = 16;

const scope = globalThis as unknown as { postMessage(m: FromWorker): void; onmessage: ((e: MessageEvent<StartMessage>) => void) | null };

scope.onmessage = (e) => {
  scope.onmessage = null;
  void run(e.data);
};
scope.postMessage({ kind: 'ready' });

async function run(start: StartMessage): Promise<void> {
  const csrf = start.csrfToken;
  const client = new PveClient({
    baseUrl: start.apiBase,
    auth: { kind: 'same-origin', csrfToken: () => csrf },
    concurrency: start.concurrency,
    transport: fetchTransport(),
  });
  if (start.pendingBatch) readPendingInBatches(client, () => start.pendingBatch);
  let batch: BatchMessage = { kind: 'batch', vms: [], evidence: false, risks: [] };
  /** VMIDs in the batch being filled (a reassessment of one of them sends no second copy). */
  let inBatch = new Set<number>();
  const handed = new Set<number>();
  let timer: ReturnType<typeof setTimeout> | 0 = 0;
  const flush = (): void => {
    clearTimeout(timer);
    timer = 0;
    if (!batch.progress && batch.vms.length === 0 && batch.risks.length === 0 && !batch.evidence) return;
    scope.postMessage(batch);
    batch = { kind: 'batch', vms: [], evidence: false, risks: [] };
    inBatch = new Set();
  };
  // The first VM goes at once (the first row), the rest at most once per BATCH_EVERY_MS.
  const soon = (): void => {
    if (timer) return;
    if (handed.size <= 1) queueMicrotask(flush);
    timer = setTimeout(flush, BATCH_EVERY_MS);
  };
  try {
    const audit = await auditFleetHere(client, {
      ...(start.node !== undefined ? { node: start.node } : {}),
      ...(start.vmids !== undefined ? { vmids: start.vmids } : {}),
      onProgress: (done, total) => {
        batch.progress = [done, total];
        soon();
      },
      onVm: (report: VmReport, input: VmInput) => {
        handed.add(report.vmid);
        inBatch.add(report.vmid);
        batch.vms.push([report, input]);
        soon();
      },
      onEvidence: () => {
        batch.evidence = true;
        soon();
      },
      onRisk: (report: VmReport) => {
        batch.risks.push(inBatch.has(report.vmid) ? { vmid: report.vmid } : { vmid: report.vmid, report });
        soon();
      },
    });
    flush();
    const { report, inputs, env, permissions } = audit;
    const { vms, ...rest } = report;
    scope.postMessage({
      kind: 'done',
      report: rest,
      vmOrder: vms.map((v) => v.vmid),
      inputOrder: inputs.map((i) => i.vmid),
      extraVms: vms.filter((v) => !handed.has(v.vmid)),
      extraInputs: inputs.filter((i) => !handed.has(i.vmid)),
      env,
      permissions,
    });
  } catch (err) {
    flush();
    scope.postMessage({ kind: 'failed', error: sendableError(err) });
  }
}
