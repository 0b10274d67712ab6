// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Worker thread of the offline JSON audit (bundled to dist/audit-worker.js): audits the VMIDs of
 * one range of a tree and hands its share of the document to the main thread (./audit-share.ts),
 * which audits the VMIDs below the range and writes both shares in the report's order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { auditFilesLazily } from '../audit/files.js';
import { etcPveReader } from '../node/etc-pve.js';
import { jsonVmPieces } from '../present/json.js';
import type { ConfigIssue } from '../pve/types.js';
import type { ShareMessage, ShareRequest } from './audit-share-protocol.js';

const port = parentPort;
if (!port) throw new Error('audit-worker: not started as a worker thread');
const post = (message: ShareMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

const req = workerData as ShareRequest;
const run = await auditFilesLazily(etcPveReader(req.configDir, req.storageCfg !== undefined ? { storageCfg: req.storageCfg } : {}), req.options);
post({ kind: 'prepared', errors: run.errors, ...(run.warnings ? { warnings: run.warnings } : {}), nodes: run.inputs.map((i) => i.node) });

const issues: ConfigIssue[] = [];
function* vms() {
  for (const vm of run.vms()) {
    issues.push(...vm.issues);
    yield vm;
  }
}
const encoder = new TextEncoder();
for (const piece of jsonVmPieces(vms())) {
  // UTF-8 here, in parallel with the main thread, which then only writes bytes.
  const bytes = encoder.encode(piece);
  post({ kind: 'json', bytes }, [bytes.buffer as ArrayBuffer]);
}
post({ kind: 'done', issues });
