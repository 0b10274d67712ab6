// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The simulated cluster: nodes, storages, VMs (each kept as its config file TEXT, so `digest` is
 * the SHA-1 of the file exactly like PVE), tasks, HA resources, credentials and the hooks tests use
 * to act as another user or as the guest OS.
 */
import { parseVmConfig, sectionDrives, volumeOwner, type VmConfigFile } from '../../src/pve/index.js';
import { ALL_PRIVILEGES, defaultCredentials, uuidFromHex, type AclEntry, type DefaultCredentials } from './acl.js';
import type { AuthStore } from './auth.js';
import { SimClock } from './clock.js';
import { configMissingError } from './errors.js';
import { FaultInjector, type FaultPlan } from './faults.js';
import { majorMinor } from './machine.js';
import { checkTimezone, localTime } from './node-time.js';
import { createRng, type Rng } from './rng.js';
import { TaskRegistry, type SimTask } from './tasks.js';
import type { BackupJob, FleetData, FleetNode, GuestBehaviour, HaState, PveVersion } from './types.js';
import { StorageRegistry } from './volumes.js';

/** One VM of the simulated cluster. */
export interface SimVm {
  vmid: number;
  node: string;
  /** The config file text: the single source of truth for its configuration. */
  text: string;
  status: 'running' | 'stopped';
  /** Epoch seconds of the last start (running VMs). */
  startedAt?: number;
  pid?: number;
  /** QEMU version the running process was started with. */
  runningQemu?: string;
  /** `running-machine` of the running process. */
  runningMachine?: string;
  guest: GuestBehaviour;
  ioStress: boolean;
  ha?: { state: HaState; group?: string };
  /** performance.now() ms from which the guest agent answers (absent: since the VM runs). */
  agentUpAtMs?: number;
  /** Resource pool (user.cfg membership). */
  pool?: string;
}

/** A resource pool of `/etc/pve/user.cfg`. */
export interface SimPool {
  poolid: string;
  comment?: string;
  vmids: Set<number>;
  storages: string[];
}

/** Called inside a config-update worker, after the first digest check and before the one under the lock. */
export type BeforeWriteHook = (vmid: number, params: Record<string, string>) => void | Promise<void>;

/** PVE package versions per simulated release. */
export interface ReleaseInfo {
  version: string;
  release: string;
  repoid: string;
  qemuServer: string;
  pveQemuKvm: string;
  kernel: string;
  /** Build stamp of the kernel as `uname -v` prints it after the version (`2025-10-21T11:55Z`). */
  kernelBuilt: string;
}

const RELEASES: Record<PveVersion, Omit<ReleaseInfo, 'pveQemuKvm'> & { qemu: string; qemuPkgRev: string }> = {
  '8.2': { version: '8.2.7', release: '8.2', repoid: '3e76eec21c4a14a7', qemuServer: '8.2.4', kernel: '6.8.12-2-pve', kernelBuilt: '2024-09-05T10:03Z', qemu: '9.0.2', qemuPkgRev: '3' },
  '9.1': { version: '9.1.2', release: '9.1', repoid: 'b3f5f07d9d1f4c0e', qemuServer: '9.1.3', kernel: '6.17.2-1-pve', kernelBuilt: '2025-10-21T11:55Z', qemu: '10.1.2', qemuPkgRev: '4' },
};

export interface SimStateOptions {
  seed: number;
  pveVersion: PveVersion;
  qemuVersion?: string;
  timeScale: number;
  shuffleKeys: boolean;
  faults?: FaultPlan;
  /** Default node time zone (see FleetNode.timezone). */
  timezone?: string;
}

export class SimState {
  readonly clock: SimClock;
  readonly rng: Rng;
  readonly pveVersion: PveVersion;
  /** Installed QEMU (upstream version, e.g. `10.1.2`) on every node. */
  readonly qemuVersion: string;
  readonly release: ReleaseInfo;
  readonly clusterName: string;
  readonly nodes: FleetNode[];
  readonly vms = new Map<number, SimVm>();
  readonly storage: StorageRegistry;
  readonly tasks: TaskRegistry;
  readonly backupJobs: BackupJob[];
  readonly auth: AuthStore;
  readonly credentials: DefaultCredentials;
  readonly shuffleKeys: boolean;
  /** Epoch seconds the nodes booted. */
  readonly bootTime: number;
  /** Resource pools by id. */
  readonly pools = new Map<string, SimPool>();
  /** Node journal lines with their time (epoch seconds), oldest first. */
  readonly syslog = new Map<string, Array<{ time: number; line: string }>>();
  /** Test hook: runs inside config updates (see {@link BeforeWriteHook}). */
  onBeforeWrite?: BeforeWriteHook;
  faults: FaultInjector;
  private readonly parsedCache = new Map<number, { text: string; file: VmConfigFile }>();
  private nextPid: number;

  constructor(fleet: FleetData, opts: SimStateOptions) {
    this.rng = createRng(opts.seed);
    this.clock = new SimClock(opts.timeScale);
    this.pveVersion = opts.pveVersion;
    const rel = RELEASES[opts.pveVersion];
    this.qemuVersion = opts.qemuVersion ?? rel.qemu;
    this.release = {
      version: rel.version,
      release: rel.release,
      repoid: rel.repoid,
      qemuServer: rel.qemuServer,
      kernel: rel.kernel,
      kernelBuilt: rel.kernelBuilt,
      pveQemuKvm: `${this.qemuVersion}-${rel.qemuPkgRev}`,
    };
    this.clusterName = fleet.clusterName;
    this.nodes = fleet.nodes;
    this.shuffleKeys = opts.shuffleKeys;
    this.backupJobs = fleet.backupJobs;
    this.bootTime = this.clock.nowSec() - 23 * 86400 - this.rng.fork('boot').int(0, 86400);
    this.nextPid = 3000 + this.rng.fork('pid').int(0, 2000);
    this.tasks = new TaskRegistry(this.clock, 200000 + this.rng.fork('taskpid').int(0, 100000), this.bootTime);
    this.tasks.onEvent = (task, event) => this.logTaskEvent(task, event);
    this.storage = new StorageRegistry(fleet.storageCfg);
    const secretRng = this.rng.fork('secrets');
    this.credentials = defaultCredentials(() => uuidFromHex(secretRng.hex(32)));
    this.auth = { users: this.credentials.users, tokens: this.credentials.tokens, secret: secretRng.hex(64) };
    this.faults = new FaultInjector(opts.faults, opts.seed);
    this.defaultTimezone = opts.timezone ?? 'UTC';
    checkTimezone(this.defaultTimezone, 'timezone');
    for (const n of this.nodes) if (n.timezone) checkTimezone(n.timezone, `node ${n.name} timezone`);
    for (const p of fleet.pools ?? []) {
      this.pools.set(p.poolid, { poolid: p.poolid, ...(p.comment !== undefined ? { comment: p.comment } : {}), vmids: new Set(), storages: [...(p.storages ?? [])] });
    }
    const nodeNames = new Set(this.nodes.map((n) => n.name));
    for (const f of fleet.vms) {
      if (!nodeNames.has(f.node)) throw new Error(`fleet: VM ${f.vmid} is on unknown node '${f.node}'`);
      if (this.vms.has(f.vmid)) throw new Error(`fleet: VMID ${f.vmid} appears twice`);
      const vm: SimVm = {
        vmid: f.vmid,
        node: f.node,
        text: f.config,
        status: f.status,
        guest: { ignoresAcpi: false, agentRunning: false, shutdownSec: 4, ...f.guest },
        ioStress: f.ioStress ?? false,
        ...(f.ha ? { ha: { ...f.ha } } : {}),
        ...(f.pool ? { pool: f.pool } : {}),
      };
      this.vms.set(vm.vmid, vm);
      if (f.pool) {
        if (!this.pools.has(f.pool)) this.pools.set(f.pool, { poolid: f.pool, vmids: new Set(), storages: [] });
        this.pools.get(f.pool)!.vmids.add(vm.vmid);
      }
      // Configs are parsed on first use; a template is never running (a cheap look at the text).
      if (/^template:\s*1\s*$/m.test(f.config.split(/^\[/m)[0]!)) vm.status = 'stopped';
      if (vm.status === 'running') {
        vm.startedAt = this.clock.nowSec() - (f.uptimeSec ?? 3600);
        vm.pid = this.allocPid();
        vm.runningQemu = f.runningQemu ?? this.qemuVersion;
      }
    }
    this.storage.setLoader(() => {
      for (const vm of this.vms.values()) this.registerVolumes(this.config(vm));
    });
    this.seedSyslog();
  }

  private readonly background = new Set<Promise<unknown>>();

  /** Registers background activity (HA reactions, post-reboot starts) so {@link settle} waits for it. */
  track(p: Promise<unknown>): void {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** Resolves when no task runs and no background activity is left (tests use this). */
  async settle(): Promise<void> {
    for (;;) {
      await this.tasks.idle();
      if (this.background.size === 0) {
        await new Promise((r) => setImmediate(r));
        if (this.background.size === 0 && this.tasks.all().every((t) => t.status === 'stopped')) return;
        continue;
      }
      await Promise.all([...this.background]);
    }
  }

  /**
   * Parses every config in small slices between requests, so the first full-cluster requests do
   * not pay for it. Resolves when done.
   */
  warmUp(): Promise<void> {
    const vms = [...this.vms.values()];
    return new Promise((resolve) => {
      let i = 0;
      const step = () => {
        for (const end = Math.min(i + 50, vms.length); i < end; i++) this.config(vms[i]!);
        if (i < vms.length) setImmediate(step);
        else resolve();
      };
      setImmediate(step);
    });
  }

  /** A new QEMU process id. */
  allocPid(): number {
    return this.nextPid++;
  }

  /** The parsed config of a VM (cached per text). */
  config(vm: SimVm): VmConfigFile {
    const hit = this.parsedCache.get(vm.vmid);
    if (hit && hit.text === vm.text) return hit.file;
    const file = parseVmConfig(vm.text, { vmid: vm.vmid, source: `nodes/${vm.node}/qemu-server/${vm.vmid}.conf` });
    this.parsedCache.set(vm.vmid, { text: vm.text, file });
    return file;
  }

  /** Replaces a VM's config text (a write by PVE or by "another user"). */
  writeConfig(vm: SimVm, text: string): void {
    vm.text = text;
  }

  /** The VM, or PVE's 500 `Configuration file ... does not exist` when it is not on that node. */
  requireVm(node: string, vmid: number): SimVm {
    const vm = this.vms.get(vmid);
    if (!vm || vm.node !== node) throw configMissingError(node, vmid);
    return vm;
  }

  /**
   * The node the API client talks to (`local: 1` in /cluster/status): it answers `/nodes/localhost/...`
   * and runs cluster-wide reads such as `/cluster/tasks`.
   */
  get localNode(): string {
    return this.nodes[0]!.name;
  }

  nodeNames(): string[] {
    return this.nodes.map((n) => n.name);
  }

  private readonly defaultTimezone: string;

  /** The node's time zone (`UTC`, `+02:00` or an IANA name). */
  timezoneOf(node: string): string {
    return this.nodes.find((n) => n.name === node)?.timezone ?? this.defaultTimezone;
  }

  /** Volumes of every section become known to the storage layer. */
  registerVolumes(file: VmConfigFile): void {
    const refs = ['main', ...(file.pending ? ['pending'] : []), ...file.snapshots.map((s) => s.name)];
    for (const ref of refs) {
      for (const d of sectionDrives(file, ref)) {
        if (!d.storage) continue;
        const size = d.options.parts.find((p) => p.key === 'size')?.value;
        this.storage.register(d.file, size);
      }
    }
    // The RAM state of a snapshot (and of a hibernated VM) is a volume of its own, listed with the
    // disk images (qemu-server QemuConfig.pm `__snapshot_save_vmstate`).
    for (const section of [file.main, ...file.snapshots]) {
      const vmstate = section.entries.get('vmstate')?.value;
      if (vmstate && volumeOwner(vmstate) !== null) this.storage.register(vmstate, undefined);
    }
  }

  /** Installed QEMU as X.Y (machine version). */
  qemuMachineVersion(): string {
    return majorMinor(this.qemuVersion);
  }

  /** Replaces the fault plan (counters start again). */
  setFaults(plan: FaultPlan | undefined, seed = 1): void {
    this.faults = new FaultInjector(plan, seed);
  }

  // --- test hooks acting as the guest OS or another admin -------------------------------------

  /**
   * Adds a privilege-separated API token (and its user when new) holding exactly the given ACL
   * entries (an existing user's own ACL still caps it, as in PVE); returns the
   * `USER@REALM!TOKENID=SECRET` string. E.g. `addToken('hw@pve!t', [{ path: '/vms', privs:
   * ['VM.Config.HWType'], propagate: true }])`.
   */
  addToken(tokenid: string, acl: AclEntry[]): string {
    const userid = tokenid.split('!')[0]!;
    if (!/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$/.test(tokenid)) {
      throw new Error(`addToken: '${tokenid}' is not USER@REALM!TOKENID`);
    }
    // A new user holds every privilege on / (an admin narrowing a token), so the privilege-
    // separated token's own entries decide. Adding the token's entries to the user instead would
    // let one token's specific entry replace (acl.ts) what another token of the same user needs.
    if (!this.auth.users.some((u) => u.userid === userid)) {
      this.auth.users.push({ userid, acl: [{ path: '/', privs: [...ALL_PRIVILEGES], propagate: true }] });
    }
    const secret = uuidFromHex(this.rng.fork(`token:${tokenid}`).hex(32));
    this.auth.tokens.push({ tokenid, secret, privsep: true, acl });
    return `${tokenid}=${secret}`;
  }

  /**
   * A reboot from inside the guest: QEMU resets in the same process, so pending changes are NOT
   * applied (docs/how-qemu-server-decides.md#pending). With `reboot: 0` in the config the VM stops instead.
   */
  guestReboot(vmid: number): void {
    const vm = this.mustVm(vmid);
    if (vm.status !== 'running') throw new Error(`guestReboot: VM ${vmid} is not running`);
    const reboot = this.config(vm).main.entries.get('reboot')?.value;
    if (reboot === '0') this.markStopped(vm);
    this.appendSyslog(vm.node, 'QEMU', `VM ${vmid}: guest requested a reset`);
  }

  /** A shutdown from inside the guest (the VM stops; pending applies only at the next start). */
  guestShutdown(vmid: number): void {
    const vm = this.mustVm(vmid);
    if (vm.status !== 'running') throw new Error(`guestShutdown: VM ${vmid} is not running`);
    this.markStopped(vm);
    this.appendSyslog(vm.node, 'qmeventd', `VM ${vmid}: guest shut down`);
  }

  /** Changes how a guest reacts to power requests (e.g. `{ ignoresAcpi: true }`). */
  setGuest(vmid: number, behaviour: Partial<GuestBehaviour>): void {
    const vm = this.mustVm(vmid);
    vm.guest = { ...vm.guest, ...behaviour };
  }

  /** Edits a config file as another user would (the digest changes). */
  editConfig(vmid: number, edit: (text: string) => string): void {
    const vm = this.mustVm(vmid);
    this.writeConfig(vm, edit(vm.text));
  }

  /** Puts heavy IO on a VM (rrddata diskwrite, qmp timeouts in the node syslog). */
  setIoStress(vmid: number, on: boolean): void {
    this.mustVm(vmid).ioStress = on;
  }

  mustVm(vmid: number): SimVm {
    const vm = this.vms.get(vmid);
    if (!vm) throw new Error(`no VM ${vmid} in the simulator`);
    return vm;
  }

  markStopped(vm: SimVm): void {
    vm.status = 'stopped';
    delete vm.startedAt;
    delete vm.pid;
    delete vm.runningQemu;
    delete vm.runningMachine;
    delete vm.agentUpAtMs;
  }

  // --- syslog -----------------------------------------------------------------------------------

  /** `journalctl -o short` time: the node's local time. */
  private syslogStamp(node: string, sec: number): string {
    const t = localTime(this.timezoneOf(node), sec);
    const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][t.month - 1];
    const p = (n: number) => String(n).padStart(2, '0');
    return `${mon} ${p(t.day)} ${p(t.hour)}:${p(t.minute)}:${p(t.second)}`;
  }

  private daemonPids = new Map<string, number>();
  private daemonPid(node: string, daemon: string): number {
    const k = `${node}/${daemon}`;
    let pid = this.daemonPids.get(k);
    if (pid === undefined) {
      pid = 900 + this.rng.fork(k).int(0, 3000);
      this.daemonPids.set(k, pid);
    }
    return pid;
  }

  /** Appends one line to a node's journal, formatted like `journalctl -o short`. */
  appendSyslog(node: string, daemon: string, text: string, atSec = this.clock.nowSec()): void {
    const lines = this.syslog.get(node) ?? [];
    const tag = daemon === 'kernel' || daemon === 'QEMU' ? daemon : `${daemon}[${this.daemonPid(node, daemon)}]`;
    const entry = { time: atSec, line: `${this.syslogStamp(node, atSec)} ${node} ${tag}: ${text}` };
    // Keep time order (events are appended mostly in order; backfilled ones are inserted).
    let i = lines.length;
    while (i > 0 && lines[i - 1]!.time > atSec) i--;
    lines.splice(i, 0, entry);
    this.syslog.set(node, lines);
  }

  private lastStressTick = new Map<number, number>();

  /**
   * Brings the journal up to date: VMs under IO stress make pvestatd's QMP queries time out every
   * ~2 simulated minutes (the line docs/how-qemu-server-decides.md uses as evidence of main-loop blocking).
   */
  refreshSyslog(node: string): Array<{ time: number; line: string }> {
    const now = this.clock.nowSec();
    for (const vm of this.vms.values()) {
      if (vm.node !== node || !vm.ioStress || vm.status !== 'running') continue;
      let t = this.lastStressTick.get(vm.vmid) ?? now - 3600;
      while (t + 120 <= now) {
        t += 120;
        this.appendSyslog(node, 'pvestatd', `VM ${vm.vmid} qmp command 'query-proxmox-support' failed - got timeout`, t);
      }
      this.lastStressTick.set(vm.vmid, t);
    }
    return this.syslog.get(node) ?? [];
  }

  private seedSyslog(): void {
    const now = this.clock.nowSec();
    for (const n of this.nodes) {
      const r = this.rng.fork(`syslog:${n.name}`);
      const start = now - 3600;
      const events: Array<[number, string, string]> = [
        [start, 'pvedaemon', 'worker 4127 finished'],
        [start + r.int(1, 60), 'pveproxy', 'worker 3113 started'],
        [start + r.int(60, 600), 'CRON', 'pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)'],
        [start + r.int(600, 1800), 'pmxcfs', '[status] notice: received log'],
      ];
      // The hour before the simulator started, for VMs under IO stress.
      for (const vm of this.vms.values()) {
        if (vm.node !== n.name || !vm.ioStress || vm.status !== 'running') continue;
        let t = start + r.int(0, 119);
        for (; t <= now; t += 120) events.push([t, 'pvestatd', `VM ${vm.vmid} qmp command 'query-proxmox-support' failed - got timeout`]);
        this.lastStressTick.set(vm.vmid, t - 120);
      }
      events.sort((a, b) => a[0] - b[0]);
      for (const [t, daemon, text] of events) this.appendSyslog(n.name, daemon, text, t);
    }
  }

  private logTaskEvent(task: SimTask, event: 'start' | 'end'): void {
    if (event === 'start') this.appendSyslog(task.node, 'pvedaemon', `<${task.user}> starting task ${task.upid}`);
    else this.appendSyslog(task.node, 'pvedaemon', `<${task.user}> end task ${task.upid} ${task.exitstatus}`);
  }
}
