// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The JSON of an audit, one writer for the CLI's `--format json` and the panel's export: the audit
 * service's JSON contract (`toAuditJson`), written VM by VM.
 *
 * Each VM is one compact line inside the `vms` array (grep- and diff-friendly, `jq` reads the whole
 * as usual); the rest is indented. Written in pieces of about 64 KiB, so 5,000 VMs never become one
 * 50 MB string: indenting every VM doubled the size and the time of the output.
 */
import type { AuditReport, VmReport } from '../analysis/types.js';
import { toAuditJson, toVmJson } from '../audit/json.js';

const PIECE = 64 * 1024;

/** The whole document, in pieces to write one after another. */
export function jsonPieces(report: AuditReport): Generator<string> {
  return jsonDocumentPieces(report, report.vms, report.vms.length);
}

/**
 * {@link jsonPieces} with the VMs from `vms` (`count` of them), taken one at a time as the pieces
 * are written: an audit that makes each VM only when it is asked for is never held whole.
 */
export function* jsonDocumentPieces(report: Omit<AuditReport, 'vms'>, vms: Iterable<VmReport>, count: number): Generator<string> {
  const given = yield* jsonVmPieces(vms, jsonHead(count));
  if (given !== count) throw new Error(`jsonDocumentPieces: ${given} VMs given, ${count} announced`);
  yield jsonTail(report, count);
}

/** The document up to its first VM line. */
export function jsonHead(count: number): string {
  return count === 0 ? '{\n  "vms": [],\n' : '{\n  "vms": [\n';
}

/** What goes between two VM lines (the last line's newline is part of {@link jsonTail}). */
export const JSON_VM_SEPARATOR = ',\n';

/**
 * The lines of `vms`, separated by {@link JSON_VM_SEPARATOR}, in pieces of about 64 KiB, `lead`
 * first: the VMs of a document, or of a share of one written by whoever audits it. Returns how
 * many VMs there were.
 */
export function* jsonVmPieces(vms: Iterable<VmReport>, lead = ''): Generator<string, number> {
  const parts = jsonVmParts(vms, lead);
  let piece = '';
  for (let part = parts.next(); ; part = parts.next()) {
    if (part.done) {
      if (piece !== '') yield piece;
      return part.value;
    }
    piece += part.value;
    if (piece.length >= PIECE) {
      yield piece;
      piece = '';
    }
  }
}

/**
 * {@link jsonVmPieces} as the texts it is made of, for a writer that copies texts into a buffer of
 * its own: each VM's JSON as JSON.stringify returns it (one flat string; a concatenation would be
 * copied once more to be written, 80 MB at 5,000 VMs since `→` makes the texts two-byte).
 */
export function* jsonVmParts(vms: Iterable<VmReport>, lead = ''): Generator<string, number> {
  if (lead !== '') yield lead;
  let n = 0;
  for (const vm of vms) {
    yield n++ === 0 ? '    ' : VM_LINE_START;
    yield JSON.stringify(toVmJson(vm));
  }
  return n;
}

const VM_LINE_START = `${JSON_VM_SEPARATOR}    `;

/** {@link jsonDocumentPieces} as the texts it is made of (see {@link jsonVmParts}). */
export function* jsonDocumentParts(report: Omit<AuditReport, 'vms'>, vms: Iterable<VmReport>, count: number): Generator<string> {
  const given = yield* jsonVmParts(vms, jsonHead(count));
  if (given !== count) throw new Error(`jsonDocumentParts: ${given} VMs given, ${count} announced`);
  yield jsonTail(report, count);
}

/** The document after its VM lines: the report's other members. */
export function jsonTail(report: Omit<AuditReport, 'vms'>, count: number): string {
  const { vms: _vms, ...rest } = toAuditJson({ ...report, vms: [] }) as Record<string, unknown>;
  const tail = JSON.stringify(rest, null, 2);
  // `rest` is an object: drop its braces and splice its members in after `vms`.
  return `${count > 0 ? '\n  ],\n' : ''}${tail.slice(2, -2)}\n}\n`;
}

/** The whole document as one string (small reports; the CLI writes `jsonPieces`). */
export function formatJson(report: AuditReport): string {
  return [...jsonPieces(report)].join('');
}

export function formatVmJson(vm: VmReport): string {
  return JSON.stringify(toVmJson(vm), null, 2) + '\n';
}
