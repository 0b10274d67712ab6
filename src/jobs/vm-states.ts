// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A job's per-VM states, folded from its journal entries: the same function follows a running
 * job entry by entry and rebuilds a past or resumed job from its file, so what the panel sees
 * live and after a restart cannot differ.
 */
import type { JournalEntry, VmOutcome } from '../migration/journal-model.js';
import { VM_JOB_STATES, type VmJobState, type VmJobView } from './types.js';

/** The job state an engine outcome ends in. */
export function stateOfOutcome(outcome: VmOutcome): VmJobState {
  switch (outcome) {
    case 'migrated':
    case 'restored':
      return 'verified';
    case 'pending-reboot':
      return 'written';
    case 'failed':
      return 'failed';
    case 'skipped':
    case 'awaiting-confirmation':
      return 'skipped';
  }
}

export function isFinal(state: VmJobState): boolean {
  return state === 'verified' || state === 'skipped' || state === 'failed' || state === 'written';
}

export class VmStates {
  private readonly vms = new Map<number, VmJobView>();
  /** VMs with an engine result in the journal (final, whatever the state). */
  private readonly done = new Set<number>();

  constructor(vms: { vmid: number; node: string | null }[]) {
    for (const v of vms) {
      this.vms.set(v.vmid, { vmid: v.vmid, node: v.node, state: 'queued', reason: null, outcome: null, digestBefore: null, digestAfter: null });
    }
  }

  /** Applies one entry; returns the VM's view when it changed (a transition to report). */
  apply(e: JournalEntry): VmJobView | null {
    if (!('vmid' in e)) return null;
    const vm = this.vms.get(e.vmid);
    if (!vm) return null;
    const before = JSON.stringify(vm);
    switch (e.t) {
      case 'baseline':
        vm.digestBefore ??= e.digest;
        break;
      case 'write':
        vm.digestBefore ??= e.digest;
        vm.state = 'writing';
        break;
      case 'write-done':
        if (e.ok) {
          vm.state = 'written';
          if (e.digest) vm.digestAfter = e.digest;
        }
        break;
      case 'power':
        vm.state = 'rebooting';
        break;
      case 'vm':
        this.done.add(e.vmid);
        vm.outcome = e.result;
        vm.state = stateOfOutcome(e.result);
        vm.reason = e.reason ?? null;
        if (e.digest) vm.digestAfter = e.digest;
        if (e.node) vm.node = e.node;
        break;
      default:
        break;
    }
    return JSON.stringify(vm) === before ? null : { ...vm };
  }

  /** VMs without an engine result yet (to run, or to resume), ascending. */
  remaining(): number[] {
    return [...this.vms.keys()].filter((id) => !this.done.has(id)).sort((a, b) => a - b);
  }

  /** VMs whose journal shows an action started but no result (in flight when the shim stopped). */
  inFlight(entries: readonly JournalEntry[]): Set<number> {
    const started = new Set<number>();
    for (const e of entries) if ((e.t === 'write' || e.t === 'power' || e.t === 'baseline') && !this.done.has(e.vmid)) started.add(e.vmid);
    return started;
  }

  list(): VmJobView[] {
    return [...this.vms.values()].sort((a, b) => a.vmid - b.vmid).map((v) => ({ ...v }));
  }

  counts(): Record<VmJobState, number> {
    const c = Object.fromEntries(VM_JOB_STATES.map((s) => [s, 0])) as Record<VmJobState, number>;
    for (const v of this.vms.values()) c[v.state]++;
    return c;
  }

  get(vmid: number): VmJobView | undefined {
    return this.vms.get(vmid);
  }
}
