// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Worker thread of the offline audit (bundled to dist/audit-worker.js): audits the VMIDs of one
 * range of a tree and hands its share of the output to the main thread (./audit-share.ts), which
 * audits the VMIDs below the range and writes both shares in the report's order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { auditFilesLazily } from '../audit/files.js';
import { etcPveReader } from '../node/etc-pve.js';
import { jsonVmPieces } from '../present/json.js';
import type { ConfigIssue } from '../pve/types.js';
import type { ShareMessage, ShareRequest } from './audit-share-protocol.js';
import { makeStyle } from './output/style.js';
import { type WireBlock, blockToWire, tableBlock } from './output/table.js';

/** Blocks per message: few messages, none large. */
const BLOCKS = 250;

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
if (req.format === 'json') {
  const encoder = new TextEncoder();
  for (const piece of jsonVmPieces(vms())) {
    // UTF-8 here, in parallel with the main thread, which then only writes bytes.
    const bytes = encoder.encode(piece);
    post({ kind: 'json', bytes }, [bytes.buffer as ArrayBuffer]);
  }
} else {
  const style = makeStyle(req.color);
  let blocks: WireBlock[] = [];
  for (const vm of vms()) {
    blocks.push(blockToWire(tableBlock(vm, style), style));
    if (blocks.length === BLOCKS) {
      post({ kind: 'table', blocks });
      blocks = [];
    }
  }
  if (blocks.length > 0) post({ kind: 'table', blocks });
}
post({ kind: 'done', issues });
