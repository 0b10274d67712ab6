// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * QMP_TIMEOUTS: evidence in the node's syslog that a VM's QEMU main loop did not answer.
 *
 * qemu-server logs `VM <id> qmp command '<cmd>' failed - got timeout` when QEMU does not answer a
 * QMP command in time (pvestatd wraps it as `VM <id> qmp command failed - VM <id> qmp command
 * 'query-proxmox-support' failed - got timeout`). QMP is served by the main loop, so a timeout
 * means the main loop was busy or blocked for at least the command's timeout (5 s by default).
 * qemu-server's own comment at that timeout (QMPClient.pm) says: "try using IO-Threads first".
 * Agent commands (`guest-*`) go to the guest agent and time out when the agent is missing, which
 * says nothing about the main loop: they are not counted.
 */
import type { RiskReason } from '../types.js';
import type { RiskContext } from './context.js';
import { evidence, notChecked, reason, valueOf } from './context.js';
import { mainLoopDisks, mainLoopFix, mainLoopSteps, mergeSteps } from './main-loop.js';
import type { ApproximateWindow } from './syslog-window.js';
import type { QmpTimeoutStats } from './types.js';
import { isUnavailable } from './types.js';

/** Timeouts in the window from which the reason becomes critical (stalls keep happening). */
export const QMP_TIMEOUTS_CRITICAL = 10;
/** Sample lines kept per VM. */
const SAMPLES = 3;

const QMP_TIMEOUT_LINE = /\bVM (\d+) qmp command '([^']+)' failed - got timeout/;

/**
 * Counts QMP timeouts per VM in syslog lines (oldest first, as `/nodes/{node}/syslog` returns them).
 * @param truncated the answer hit the line limit (counts are lower bounds)
 * @param approximate the lines may reach further back than `windowHours` (node time zone unknown)
 */
export function countQmpTimeouts(
  lines: readonly string[],
  windowHours: number,
  truncated = false,
  approximate?: ApproximateWindow,
): Map<number, QmpTimeoutStats> {
  const out = new Map<number, QmpTimeoutStats>();
  for (const line of lines) {
    const m = QMP_TIMEOUT_LINE.exec(line);
    if (!m) continue;
    const command = m[2]!;
    if (command.startsWith('guest-')) continue;
    const vmid = Number(m[1]);
    let stats = out.get(vmid);
    if (!stats) {
      stats = noQmpTimeouts(windowHours, truncated, approximate);
      out.set(vmid, stats);
    }
    stats.count += 1;
    stats.commands[command] = (stats.commands[command] ?? 0) + 1;
    if (stats.samples.length < SAMPLES) stats.samples.push(line);
  }
  return out;
}

/** Stats for a VM that had no timeout in the window. */
export function noQmpTimeouts(windowHours: number, truncated = false, approximate?: ApproximateWindow): QmpTimeoutStats {
  const stats: QmpTimeoutStats = { count: 0, windowHours, commands: {}, samples: [], truncated };
  if (approximate) stats.approximate = { ...approximate };
  return stats;
}

/** `24 h`, or `24 to 50 h` when the node's zone was unknown (see syslog-window.ts). */
function windowText(stats: QmpTimeoutStats): string {
  return stats.approximate ? `${stats.windowHours} to ${stats.approximate.windowMaxHours} h` : `${stats.windowHours} h`;
}

export function qmpTimeoutReasons(ctx: RiskContext): RiskReason[] {
  const node = ctx.vm.node ?? '{node}';
  if (isUnavailable(ctx.evidence.qmpTimeouts)) {
    return [notChecked("QMP timeouts in the node's syslog", `/nodes/${node}/syslog`, ctx.evidence.qmpTimeouts)];
  }
  const stats = valueOf(ctx.evidence.qmpTimeouts)!;
  if (stats.count === 0) return [];
  const atLeast = stats.truncated ? 'at least ' : '';
  const commands = Object.entries(stats.commands)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ×${n}`)
    .join(', ');
  const ml = mainLoopDisks(ctx);
  const fix =
    ml.length > 0
      ? `Take disk IO off the main loop: ${ml.map((d) => mainLoopFix(ctx, d)).join(' ')}`
      : 'The disks already have IO threads: compare the log times with backup jobs, snapshots and storage latency on the node.';
  return [
    reason({
      code: 'QMP_TIMEOUTS',
      severity: stats.count >= QMP_TIMEOUTS_CRITICAL ? 'critical' : 'warning',
      message: `The node's syslog shows ${atLeast}${stats.count} QMP command${stats.count === 1 ? '' : 's'} to this VM that timed out in the last ${windowText(stats)}, so QEMU's main loop was busy or blocked for seconds at a time.`,
      evidence: [
        evidence('metric', `qmp timeouts (${windowText(stats)})`, `${atLeast}${stats.count}`),
        evidence('metric', 'commands', commands),
        ...(stats.approximate
          ? [evidence('missing', `/nodes/${node}/time`, `${stats.approximate.why}: the window was widened to be sure to cover the last ${stats.windowHours} h`)]
          : []),
        ...stats.samples.map((s) => evidence('log', `/nodes/${node}/syslog`, s)),
      ],
      fix,
      steps: ml.length > 0 ? mergeSteps(ml.map((d) => mainLoopSteps(ctx, d))) : [{ action: 'compare-node-logs' }],
    }),
  ];
}
