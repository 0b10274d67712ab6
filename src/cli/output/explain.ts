// SPDX-License-Identifier: AGPL-3.0-or-later
/** `--explain VMID`: every fact of one VM with the reason behind it. */
import type { DiskFacts, DiskReport, VmReport } from '../../analysis/types.js';
import { findDeviation, notesOf } from '../../present/deviations.js';
import { formatIssue } from './issues.js';
import { aioCell, cacheCell, controllerCell, deviceCell, iothreadCell } from '../../present/disk-facts.js';
import { fitLine } from './layout.js';
import { riskExplainLines } from './risk.js';
import { makeStyle } from './style.js';

function factLines(f: DiskFacts, cache: string | null, indent: string): string[] {
  const out = [
    `${indent}device       ${deviceCell(f).text}`,
    `${indent}controller   ${controllerCell(f).text}`,
    `${indent}iothread     configured ${f.iothread.configured ? 'on' : 'off'}, effective ${iothreadCell(f).text}`,
    `${indent}aio          configured ${f.aio.configured ?? 'default'}, effective ${aioCell(f).text}`,
    `${indent}cache        ${cacheCell(f, cache).text}`,
  ];
  for (const n of notesOf(f)) out.push(`${indent}note         ${n}`);
  if (f.startError) out.push(`${indent}START ERROR  ${f.startError}`);
  return out;
}

function diskBlock(d: DiskReport): string[] {
  const typeUnknown = findDeviation(d, 'storage-type-unknown')?.because.storage === d.storage;
  const storage = d.storage ? ` on ${d.storage} (${d.storageType ?? (typeUnknown ? 'type unknown' : 'not in storage.cfg')})` : '';
  const out = [`  ${d.key}: ${d.volume}${storage}, media ${d.media}, cache ${d.cache ?? 'default'}`];
  if (d.onlyPending) out.push('    now          (not present: added by pending changes)');
  else out.push(...factLines(d, d.cache, '    '));
  if (d.pending) {
    if ('deleted' in d.pending) out.push('    after the next cold start: removed');
    else {
      out.push('    after the next cold start:');
      out.push(...factLines(d.pending, null, '      '));
    }
  }
  return out;
}

/** Full detail of one VM as text (ends with a newline); long lines wrap to `width` (default: no limit). */
export function formatExplain(vm: VmReport, assumptions: string[], opts: { color: boolean; width?: number }): string {
  const style = makeStyle(opts.color);
  const out = [style.bold(`VM ${vm.vmid}${vm.name ? ` (${vm.name})` : ''}`)];
  out.push(`  source       ${vm.source}`);
  out.push(`  node         ${vm.node ?? 'unknown'}`);
  out.push(`  status       ${vm.status === 'unknown' && vm.source !== 'api' ? 'unknown (offline: the files do not say whether it runs)' : vm.status}`);
  out.push(`  digest       ${vm.digest}`);
  out.push(`  ostype       ${vm.ostype ?? 'other (default)'}${vm.template ? ', template' : ''}${vm.lock ? `, lock ${vm.lock}` : ''}`);
  out.push(
    `  machine      ${vm.machine.type} ${vm.machine.version}, ${vm.machine.blockdev ? '-blockdev' : '-drive'} (${vm.machine.basis})`,
  );
  if (vm.machine.pending) {
    const p = vm.machine.pending;
    out.push(`               after the next cold start: ${p.type} ${p.version}, ${p.blockdev ? '-blockdev' : '-drive'} (${p.basis})`);
  }
  out.push(`  scsihw       ${vm.scsihw.configured ?? 'not set'} → effective ${vm.scsihw.effective}`);
  if (vm.scsihw.pending) {
    out.push(`               after the next cold start: ${vm.scsihw.pending.configured ?? 'not set'} → effective ${vm.scsihw.pending.effective}`);
  }
  out.push(`  pending dataplane changes: ${vm.pendingDataplaneChanges ? 'yes' : 'no'}`);
  out.push('');
  if (vm.disks.length === 0) out.push('  no disks on a controller');
  for (const d of vm.disks) out.push(...diskBlock(d), '');
  const risk = riskExplainLines(vm, style);
  if (risk.length > 0) out.push(...risk, '');
  if (vm.issues.length > 0) {
    out.push('  config issues:');
    for (const i of vm.issues) out.push(`    ${formatIssue(i)}`);
    out.push('');
  }
  for (const a of assumptions) out.push(style.dim(`note: ${a}`));
  const width = opts.width ?? Infinity;
  return out.flatMap((line) => fitLine(line, width)).join('\n') + '\n';
}
