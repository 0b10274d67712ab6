// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The QEMU guest agent of a simulated VM, as qemu-server's API2/Qemu/Agent.pm drives it:
 * `agent_available` (no `agent` key: `No QEMU guest agent configured`; VM stopped: `VM N is not
 * running`; agent disabled in the running config, not started in the guest, or the guest still
 * booting: `QEMU guest agent is not running` after guest-ping's 3 s timeout), `guest-exec` /
 * `guest-exec-status` (qemu_exec / qemu_exec_status: base64 decoded, JSON booleans as 0/1, an
 * exited process is forgotten after its status was read), and the read-only QGA commands.
 * Agent errors are `Agent error: <desc>` (check_agent_error).
 */
import { performance } from 'node:perf_hooks';
import { agentEnabled, configValues } from '../../src/pve/index.js';
import { dieError } from './errors.js';
import { guestOs, visibleBlockDevices, type GuestDisk, type GuestOs } from './guest-disks.js';
import { runLsblk, runLsById, shellWords } from './guest-linux.js';
import { powershellScript, runPowerShell, type ProcessResult } from './guest-powershell.js';
import type { SimState, SimVm } from './state.js';

/** Simulated run time of a guest process, ms (PowerShell takes a while to load). */
const RUN_MS: Record<string, number> = { powershell: 1500, lsblk: 30, ls: 10 };

interface GuestProcess {
  done: boolean;
  result: ProcessResult;
}

/** Processes started through guest-exec, per VM; reset when the QEMU process changes. */
interface ProcessTable {
  qemuPid: number;
  nextPid: number;
  procs: Map<number, GuestProcess>;
}

const tables = new WeakMap<SimState, Map<number, ProcessTable>>();

function processTable(state: SimState, vm: SimVm): ProcessTable {
  let byVm = tables.get(state);
  if (!byVm) tables.set(state, (byVm = new Map()));
  let t = byVm.get(vm.vmid);
  if (!t || t.qemuPid !== vm.pid) {
    t = { qemuPid: vm.pid!, nextPid: 1000 + state.rng.fork(`guestpid:${vm.vmid}:${vm.pid}`).int(0, 8000), procs: new Map() };
    byVm.set(vm.vmid, t);
  }
  return t;
}

/**
 * qemu-server agent_available: throws PVE's 500 unless the agent answers. The guest-ping that
 * fails waits its 3 s timeout first (simulated time).
 */
export async function requireAgent(state: SimState, vm: SimVm): Promise<void> {
  const file = state.config(vm);
  // The running (main) config's `agent` (src/pve's reader: default key `enabled`, default off).
  const agent = file.main.entries.get('agent')?.value;
  if (agent === undefined) throw dieError('No QEMU guest agent configured');
  const enabled = agentEnabled(agent);
  if (vm.status !== 'running') throw dieError(`VM ${vm.vmid} is not running`);
  const booted = vm.agentUpAtMs === undefined || performance.now() >= vm.agentUpAtMs;
  if (!enabled || !vm.guest.agentRunning || !booted) {
    await state.clock.sleep(3000);
    throw dieError('QEMU guest agent is not running');
  }
}

/** The disks this guest sees right now. */
export function guestDisks(state: SimState, vm: SimVm): { os: GuestOs; disks: GuestDisk[]; uefi: boolean } {
  const file = state.config(vm);
  const values = configValues(file.main);
  const os = guestOs(values.ostype);
  return { os, disks: visibleBlockDevices(file, os, vm.guest.missingDrivers), uefi: values.bios === 'ovmf' };
}

/** What a program does in the guest; null when the guest has no such program (spawn fails). */
function runProgram(state: SimState, vm: SimVm, argv: readonly string[], stdin: string | undefined): { result: ProcessResult; ms: number } | null {
  const { os, disks, uefi } = guestDisks(state, vm);
  const prog = argv[0] ?? '';
  const base = prog.replace(/^.*[\\/]/, '').toLowerCase().replace(/\.exe$/, '');
  if (os === 'windows') {
    if (base !== 'powershell') return null;
    const script = powershellScript(argv.slice(1), stdin);
    if (typeof script !== 'string') return { result: { exitcode: 1, out: '', err: `${script.error}\r\n` }, ms: RUN_MS.powershell! };
    return { result: runPowerShell(script, disks, uefi), ms: RUN_MS.powershell! };
  }
  if (base === 'sh' || base === 'bash') {
    if (argv[1] !== '-c' || argv[2] === undefined) return { result: { exitcode: 2, out: '', err: `${base}: the simulated guest runs only '${base} -c COMMAND'\n` }, ms: 5 };
    const inner = shellWords(argv[2]);
    if (!inner) return { result: { exitcode: 2, out: '', err: `${base}: the simulated guest runs one simple command, without pipes, redirections or substitutions\n` }, ms: 5 };
    const run = runProgram(state, vm, inner, stdin);
    return run ?? { result: { exitcode: 127, out: '', err: `${base}: 1: ${inner[0]}: not found\n` }, ms: 5 };
  }
  if (base === 'lsblk' && /^(lsblk|\/(usr\/)?bin\/lsblk)$/.test(prog)) return { result: runLsblk(argv.slice(1), disks), ms: RUN_MS.lsblk! };
  if (base === 'ls' && /^(ls|\/(usr\/)?bin\/ls)$/.test(prog)) return { result: runLsById(argv.slice(1), disks), ms: RUN_MS.ls! };
  return null;
}

/** `POST .../agent/exec`: starts `command` (argv) in the guest, returns `{pid}`. */
export async function guestExec(state: SimState, vm: SimVm, argv: readonly string[], inputData: string | undefined): Promise<{ pid: number }> {
  await requireAgent(state, vm);
  if (argv.length === 0 && inputData === undefined) throw dieError('command or input-data (or both) required');
  const os = guestOs(configValues(state.config(vm).main).ostype);
  const run = runProgram(state, vm, argv, inputData);
  if (!run) {
    const text = os === 'windows' ? 'The system cannot find the file specified.' : 'No such file or directory';
    throw dieError(`Agent error: Failed to execute child process “${argv[0] ?? ''}” (${text})`);
  }
  const table = processTable(state, vm);
  const pid = table.nextPid++;
  const proc: GuestProcess = { done: false, result: run.result };
  table.procs.set(pid, proc);
  state.track(state.clock.sleep(run.ms).then(() => (proc.done = true)));
  return { pid };
}

/** `GET .../agent/exec-status?pid=`: `{exited: 0}` while running, then exit code and output once. */
export async function guestExecStatus(state: SimState, vm: SimVm, pid: number): Promise<Record<string, unknown>> {
  await requireAgent(state, vm);
  const table = processTable(state, vm);
  const proc = table.procs.get(pid);
  if (!proc) throw dieError(`Agent error: Invalid parameter 'pid'`);
  if (!proc.done) return { exited: 0 };
  // QGA frees the process once its final status has been read.
  table.procs.delete(pid);
  const out: Record<string, unknown> = { exited: 1, exitcode: proc.result.exitcode };
  if (proc.result.out !== '') out['out-data'] = proc.result.out;
  if (proc.result.err !== '') out['err-data'] = proc.result.err;
  return out;
}

/** What qemu-ga on FreeBSD 14 answers to get-osinfo (os-release ID=freebsd, `uname -v` in kernel-version). */
const FREEBSD_OSINFO = {
  id: 'freebsd', name: 'FreeBSD', 'pretty-name': 'FreeBSD 14.1-RELEASE', version: '14.1-RELEASE', 'version-id': '14.1',
  'kernel-version': 'FreeBSD 14.1-RELEASE releng/14.1-n267679-10e31f0946d8 GENERIC', 'kernel-release': '14.1-RELEASE', machine: 'amd64',
};

/** The `result` of the read-only QGA commands (`ping`, `info`, `get-osinfo`, ...). */
export async function agentCommand(state: SimState, vm: SimVm, command: string): Promise<unknown> {
  await requireAgent(state, vm);
  const values = configValues(state.config(vm).main);
  const os = guestOs(values.ostype);
  const cpus = (Number(values.vcpus) || 0) || (Number(values.sockets ?? 1) || 1) * (Number(values.cores ?? 1) || 1);
  const mac = /=([0-9A-Fa-f:]{17})/.exec(values.net0 ?? '')?.[1]?.toLowerCase();
  switch (command) {
    case 'ping':
      return {};
    case 'info':
      return {
        version: os === 'windows' ? '107.0.1' : '9.2.0',
        supported_commands: SUPPORTED.map((name) => ({ name, enabled: true, 'success-response': !['guest-shutdown', 'guest-suspend-disk', 'guest-suspend-ram', 'guest-suspend-hybrid'].includes(name) })),
      };
    case 'get-osinfo':
      // The simulator's only guest that is neither Linux nor Windows: ostype `other` (or unset) is FreeBSD.
      if (values.ostype === undefined || values.ostype === 'other') return FREEBSD_OSINFO;
      return os === 'windows'
        ? { id: 'mswindows', name: 'Microsoft Windows', 'pretty-name': 'Windows 10 Pro', version: 'Microsoft Windows 10', 'version-id': '10', 'kernel-version': '10.0', 'kernel-release': '19045', machine: 'x86_64', variant: 'client', 'variant-id': 'client' }
        : { id: 'debian', name: 'Debian GNU/Linux', 'pretty-name': 'Debian GNU/Linux 12 (bookworm)', version: '12 (bookworm)', 'version-id': '12', 'kernel-version': '#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)', 'kernel-release': '6.1.0-28-amd64', machine: 'x86_64' };
    case 'get-host-name':
      return { 'host-name': values.name ?? `vm${vm.vmid}` };
    case 'get-time':
      // Nanoseconds since the epoch.
      return state.clock.nowMs() * 1_000_000;
    case 'get-timezone':
      return { zone: os === 'windows' ? 'Coordinated Universal Time' : 'UTC', offset: 0 };
    case 'get-vcpus':
      return Array.from({ length: cpus }, (_, i) => ({ 'logical-id': i, online: true, 'can-offline': i > 0 && os === 'linux' }));
    case 'fsfreeze-status':
      return 'thawed';
    case 'network-get-interfaces':
      return [
        { name: os === 'windows' ? 'Loopback Pseudo-Interface 1' : 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': '127.0.0.1', prefix: 8 }] },
        ...(mac ? [{ name: os === 'windows' ? 'Ethernet' : 'eth0', 'hardware-address': mac, 'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': `10.20.${(vm.vmid >> 8) & 255}.${vm.vmid & 255}`, prefix: 24 }] }] : []),
      ];
    case 'get-fsinfo':
      return fsInfo(guestDisks(state, vm));
    default:
      throw dieError(`Agent error: The command guest-${command} has not been found`);
  }
}

/** get-fsinfo: the root filesystem on the boot disk, with the disk's serial and bus. */
function fsInfo({ os, disks }: { os: GuestOs; disks: GuestDisk[] }): unknown[] {
  const boot = disks.find((d) => d.boot);
  if (!boot) return [];
  const disk = {
    serial: os === 'linux' ? boot.linuxSerial : boot.serial,
    'bus-type': boot.bus === 'virtio' ? 'virtio' : boot.bus === 'ide' ? 'ide' : boot.bus === 'sata' ? 'sata' : 'scsi',
    bus: 0, target: boot.bus === 'scsi' ? boot.unit : 0, unit: 0,
    'pci-controller': { domain: 0, bus: 0, slot: 5 + boot.controller, function: 0 },
    ...(os === 'linux' ? { dev: boot.bus === 'virtio' ? '/dev/vda1' : '/dev/sda1' } : {}),
  };
  const total = Math.max(0, boot.sizeBytes - 1024 ** 2);
  return os === 'windows'
    ? [{ name: '\\\\?\\Volume{7b3c1a2e-0000-0000-0000-100000000000}\\', mountpoint: 'C:\\', type: 'NTFS', 'total-bytes': total, 'used-bytes': Math.round(total * 0.4), disk: [disk] }]
    : [{ name: 'sda1', mountpoint: '/', type: 'ext4', 'total-bytes': total, 'used-bytes': Math.round(total * 0.3), disk: [disk] }];
}

const SUPPORTED = [
  'guest-exec', 'guest-exec-status', 'guest-file-close', 'guest-file-open', 'guest-file-read', 'guest-file-write', 'guest-fsfreeze-freeze',
  'guest-fsfreeze-status', 'guest-fsfreeze-thaw', 'guest-fstrim', 'guest-get-fsinfo', 'guest-get-host-name', 'guest-get-osinfo',
  'guest-get-time', 'guest-get-timezone', 'guest-get-vcpus', 'guest-info', 'guest-network-get-interfaces', 'guest-ping',
  'guest-shutdown', 'guest-suspend-disk', 'guest-suspend-hybrid', 'guest-suspend-ram', 'guest-sync', 'guest-sync-delimited',
];
