// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * VCPU_OVERCOMMIT: more vCPUs running on the node than it has logical CPUs. A vCPU that waits for a
 * host CPU stalls its guest; the guest's watchdog reports long waits as soft lockups. Sources: the
 * article "IT log book: Linux – what are CPU lockups?" citing VMware on "high levels of overcommitment"; no measurement of
 * a threshold was found, so the ratios below are heuristics.
 */
import type { RiskReason } from '../types.js';
import type { RiskContext } from './context.js';
import { evidence, notChecked, reason, valueOf } from './context.js';
import { isUnavailable } from './types.js';

/** Running vCPUs per logical host CPU above which the reason fires as info. */
export const OVERCOMMIT_INFO_RATIO = 2;
/** Ratio above which it becomes a warning. */
export const OVERCOMMIT_WARNING_RATIO = 4;

export function overcommitReasons(ctx: RiskContext): RiskReason[] {
  if (ctx.state === 'stopped') return [];
  if (isUnavailable(ctx.evidence.nodeCpu)) {
    return [notChecked('vCPU overcommit on the node', `/nodes/${ctx.vm.node ?? '{node}'}/status`, ctx.evidence.nodeCpu)];
  }
  const cpu = valueOf(ctx.evidence.nodeCpu)!;
  if (cpu.hostCpus <= 0) return [];
  const ratio = cpu.runningVcpus / cpu.hostCpus;
  const vmTooWide = cpu.vmVcpus > cpu.hostCpus;
  if (ratio <= OVERCOMMIT_INFO_RATIO && !vmTooWide) return [];
  const severity = vmTooWide || ratio > OVERCOMMIT_WARNING_RATIO ? 'warning' : 'info';
  const message = vmTooWide
    ? `This VM has ${cpu.vmVcpus} vCPUs but node ${cpu.node} only ${cpu.hostCpus} logical CPUs, so its vCPUs must wait for each other and the guest can report soft lockups.`
    : `Node ${cpu.node} runs ${cpu.runningVcpus} vCPUs on ${cpu.hostCpus} logical CPUs (${ratio.toFixed(1)}:1), so vCPUs can wait for a host CPU long enough to stall guests.`;
  return [
    reason({
      code: 'VCPU_OVERCOMMIT',
      severity,
      message,
      evidence: [
        evidence('metric', `${cpu.node} logical CPUs`, cpu.hostCpus),
        evidence('metric', `${cpu.node} running vCPUs`, cpu.runningVcpus),
        evidence('metric', 'ratio', `${ratio.toFixed(2)}:1`),
        evidence('config', 'VM vCPUs', cpu.vmVcpus),
      ],
      fix: vmTooWide
        ? `Give the VM at most ${cpu.hostCpus} vCPUs (sockets × cores, or vcpus).`
        : `Reduce the vCPUs of idle VMs on ${cpu.node} or move VMs to a less loaded node.`,
      steps: [vmTooWide ? { action: 'limit-vcpus', max: cpu.hostCpus } : { action: 'rebalance-node', node: cpu.node }],
    }),
  ];
}
