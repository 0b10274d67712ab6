// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * An in-memory PVE for the engine unit tests, behaving like docs/how-qemu-server-decides.md#api–4.5 says: a config
 * file printed the way PVE writes it (digest = SHA-1 of it), a digest check on every write,
 * non-hotpluggable changes of a running VM kept in [PENDING], a stopped VM's changes applied at
 * once (src/pve/pending.ts, as the simulator and the audit), reboot = shutdown task + separate start that applies pending, a guest that may ignore ACPI.
 */
import { analyzeVm } from '../../../src/audit/index.js';
import { PveDigestMismatchError, PveTaskError } from '../../../src/api/errors.js';
import type { PowerAction } from '../../../src/migration/journal-model.js';
import type { GuestDiskCheck, LiveVm, MigrationTarget, WriteRequest } from '../../../src/migration/target.js';
import type { PermissionMap } from '../../../src/migration/types.js';
import { canonicalDriveString, digestOf, isDriveKey, nextStartValues, parseDrive, parseVmConfig } from '../../../src/pve/index.js';
import { env } from './helpers.js';

export interface FakeVm {
  vmid: number;
  node: string;
  status: 'running' | 'stopped';
  current: Record<string, string>;
  pending: Record<string, string>;
  deletes: { key: string; force: boolean }[];
  ha?: { state: string };
  ignoresAcpi?: boolean;
  guestDisk?: GuestDiskCheck;
  nextDisk?: number;
}

/** The config file as PVE writes it: keys sorted, [PENDING] after. */
export function printConfig(vm: Pick<FakeVm, 'current' | 'pending' | 'deletes'>): string {
  const section = (o: Record<string, string>): string =>
    Object.keys(o)
      .sort()
      .map((k) => `${k}: ${o[k]}\n`)
      .join('');
  let text = section(vm.current);
  if (Object.keys(vm.pending).length > 0 || vm.deletes.length > 0) {
    text += '\n[PENDING]\n';
    if (vm.deletes.length > 0) {
      text += `delete: ${vm.deletes.map((d) => (d.force ? '!' : '') + d.key).sort().join(',')}\n`;
    }
    text += section(vm.pending);
  }
  return text;
}

export function fakeVm(vmid: number, text: string, o: Partial<FakeVm> = {}): FakeVm {
  const file = parseVmConfig(text, { vmid });
  const current: Record<string, string> = {};
  for (const [k, e] of file.main.entries) current[k] = e.value;
  return { vmid, node: 'pve1', status: 'running', current, pending: {}, deletes: [], ...o };
}

export class FakePve implements MigrationTarget {
  readonly vms = new Map<number, FakeVm>();
  private tasks = new Map<string, Promise<void>>();
  private taskSeq = 0;
  /** Called before a write is checked: inject a concurrent edit. */
  onBeforeWrite?: (vm: FakeVm, req: WriteRequest) => void;
  /** Every write that reached the fake, with the journal length when it arrived. */
  writes: { vmid: number; req: WriteRequest }[] = [];
  perms: PermissionMap | null = null;
  /** Tests set this to see how many journal entries existed when a request arrived. */
  journalLength = (): number => 0;
  requestLog: { what: string; vmid: number; journal: number }[] = [];

  constructor(vms: FakeVm[]) {
    for (const vm of vms) this.vms.set(vm.vmid, vm);
  }

  text(vmid: number): string {
    return printConfig(this.vms.get(vmid)!);
  }

  digest(vmid: number): string {
    return digestOf(this.text(vmid));
  }

  private vm(vmid: number): FakeVm {
    const vm = this.vms.get(vmid);
    if (!vm) throw new Error(`Configuration file 'nodes/pve1/qemu-server/${vmid}.conf' does not exist`);
    return vm;
  }

  async readVm(node: string, vmid: number): Promise<LiveVm> {
    await Promise.resolve();
    const vm = this.vm(vmid);
    return {
      input: {
        vmid,
        node,
        source: `api:/nodes/${node}/qemu/${vmid}`,
        digest: this.digest(vmid),
        current: { ...vm.current },
        pending: { ...vm.pending },
        deletes: vm.deletes.map((d) => ({ ...d })),
        runtime: { status: vm.status },
        issues: [],
      },
      status: vm.status,
      ha: vm.ha ? { managed: true, state: vm.ha.state } : { managed: false, state: null },
      lock: vm.current.lock ?? null,
    };
  }

  analyze(vm: LiveVm) {
    return analyzeVm(vm.input, env());
  }

  async permissions(): Promise<PermissionMap | null> {
    return this.perms;
  }

  async haResource(vmid: number) {
    const vm = this.vm(vmid);
    return vm.ha ? { sid: `vm:${vmid}`, state: vm.ha.state } : null;
  }

  async writeConfig(_node: string, vmid: number, req: WriteRequest, digest: string): Promise<string | null> {
    await Promise.resolve();
    const vm = this.vm(vmid);
    this.requestLog.push({ what: 'write', vmid, journal: this.journalLength() });
    this.onBeforeWrite?.(vm, req);
    if (digest !== this.digest(vmid)) {
      throw new PveDigestMismatchError({ status: 500, text: 'checksum mismatch (file change by other user?)', method: 'POST', path: `/nodes/pve1/qemu/${vmid}/config` });
    }
    this.writes.push({ vmid, req });
    for (const k of req.revert ?? []) {
      delete vm.pending[k];
      vm.deletes = vm.deletes.filter((d) => d.key !== k);
    }
    for (const k of req.delete) {
      delete vm.pending[k];
      if (!vm.deletes.some((d) => d.key === k)) vm.deletes.push({ key: k, force: !!req.force });
    }
    for (const [k, v] of Object.entries(req.set)) {
      // A new volume: PVE allocates it and writes the real volume id.
      const m = /^([a-z][\w-]*):(\d+)(,.*)?$/.exec(v);
      const raw = m ? `${m[1]}:vm-${vmid}-disk-${(vm.nextDisk = (vm.nextDisk ?? 50) + 1)},size=${m[2]}G${m[3] ?? ''}` : v;
      // PVE stores what print_drive makes of a drive value (canonical order, booleans 1/0).
      const value = isDriveKey(k) ? canonicalDriveString(parseDrive(k, raw)) : raw;
      vm.deletes = vm.deletes.filter((d) => d.key !== k);
      if (vm.current[k] === value) delete vm.pending[k];
      else vm.pending[k] = value;
    }
    if (vm.status === 'stopped') this.applyPending(vm);
    return this.task(async () => undefined);
  }

  /**
   * A cold start: src/pve's one implementation of qemu-server `vmconfig_apply_pending` (an owned
   * disk deleted without force becomes `unusedN`, unreadable lines are dropped). A delete PVE cannot
   * do (a forced delete of a disk still in use, a delete of `unusedN`) leaves the key in the config
   * and stays pending.
   */
  applyPending(vm: FakeVm): void {
    const next = nextStartValues(vm.vmid, vm.current, vm.pending, vm.deletes);
    vm.current = next.config;
    vm.pending = {};
    vm.deletes = vm.deletes.filter((d) => d.key in next.config);
  }

  private task(run: () => Promise<void>): string {
    const upid = `UPID:pve1:${(++this.taskSeq).toString(16).padStart(8, '0')}:00000000:00000000:fake::root@pam:`;
    const p = run();
    p.catch(() => undefined);
    this.tasks.set(upid, p);
    return upid;
  }

  async power(_node: string, vmid: number, action: PowerAction): Promise<string> {
    await Promise.resolve();
    const vm = this.vm(vmid);
    this.requestLog.push({ what: action, vmid, journal: this.journalLength() });
    const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
    switch (action) {
      case 'reboot':
        if (vm.status !== 'running') throw new Error(`VM ${vmid} not running`);
        return this.task(async () => {
          await tick();
          if (vm.ignoresAcpi) throw new PveTaskError({ status: 0, text: 'VM quit/powerdown failed - got timeout', method: 'GET', path: '' });
          vm.status = 'stopped';
          // The restart is a separate task (qm cleanup -> qmstart / hastart).
          void tick().then(() => {
            this.applyPending(vm);
            vm.status = 'running';
            if (vm.ha) vm.ha.state = 'started';
          });
        });
      case 'start':
        return this.task(async () => {
          await tick();
          this.applyPending(vm);
          vm.status = 'running';
        });
      case 'shutdown':
      case 'stop':
        return this.task(async () => {
          await tick();
          if (action === 'shutdown' && vm.ignoresAcpi) throw new PveTaskError({ status: 0, text: 'VM quit/powerdown failed - got timeout', method: 'GET', path: '' });
          vm.status = 'stopped';
        });
    }
  }

  async waitTask(upid: string): Promise<void> {
    await this.tasks.get(upid);
  }

  async guestSeesDisk(_node: string, vmid: number): Promise<GuestDiskCheck> {
    return this.vm(vmid).guestDisk ?? 'unknown';
  }

  async sleep(_ms: number, signal?: AbortSignal): Promise<void> {
    await new Promise((r) => setImmediate(r));
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
  }
}
