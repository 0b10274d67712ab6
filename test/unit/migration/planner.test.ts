// SPDX-License-Identifier: AGPL-3.0-or-later
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeVm } from '../../../src/audit/index.js';
import { buildPlan, planVm } from '../../../src/migration/planner.js';
import type { PlanOptions, PlanVmInput, VmPlan } from '../../../src/migration/types.js';
import { parseDrive } from '../../../src/pve/index.js';
import { FIXTURES, conf, env, fixture, vmFromText } from './helpers.js';

const THREADS: PlanOptions = { aio: 'threads' };

function codes(gates: { code: string }[]): string[] {
  return gates.map((g) => g.code);
}

function after(plan: VmPlan, key: string): string | null | undefined {
  return plan.changes.find((c) => c.key === key)?.after;
}

/** The VM as PVE would hold it after the plan's writes (and, `cold`, after a cold start). */
function applied(vm: PlanVmInput, plan: VmPlan, cold: boolean): PlanVmInput {
  const input = structuredClone(vm.input);
  const running = vm.report.status === 'running';
  for (const c of plan.changes) {
    if (running && !cold) {
      if (c.after === null) input.deletes.push({ key: c.key, force: false });
      else input.pending[c.key] = c.after;
    } else if (c.after === null) delete input.current[c.key];
    else input.current[c.key] = c.after;
  }
  return { ...vm, input, report: analyzeVm(input, env()) };
}

describe('planVm: the change itself', () => {
  it('adds iothread=1 and aio to scsi and virtio disks and keeps every other part byte-for-byte', () => {
    const vm = vmFromText(
      conf(
        'boot: order=scsi0',
        'ostype: l26',
        'scsi0: volume=local-lvm:vm-100-disk-0,aio=native,cache=none,serial=abc%2Cdef,size=32G,ssd=yes',
        'scsi1: local-lvm:vm-100-disk-1,iothread=on,discard=on,size=8G',
        'virtio0: local-lvm:vm-100-disk-2,backup=0,size=4G,iops_rd=100',
        'scsihw: virtio-scsi-pci',
      ),
    );
    const plan = planVm(vm, THREADS);
    // aio replaced in place, iothread appended; volume=, %2C, ssd=yes and the unknown key stay as written.
    expect(after(plan, 'scsi0')).toBe(
      'volume=local-lvm:vm-100-disk-0,aio=threads,cache=none,serial=abc%2Cdef,size=32G,ssd=yes,iothread=1',
    );
    // iothread=on is already true: not rewritten to 1.
    expect(after(plan, 'scsi1')).toBe('local-lvm:vm-100-disk-1,iothread=on,discard=on,size=8G,aio=threads');
    expect(after(plan, 'virtio0')).toBe('local-lvm:vm-100-disk-2,backup=0,size=4G,iops_rd=100,iothread=1,aio=threads');
    expect(plan.changes.find((c) => c.key === 'scsihw')).toMatchObject({ before: 'virtio-scsi-pci', after: 'virtio-scsi-single' });
    expect(plan.blocked).toEqual([]);
    expect(plan.steps.map((s) => s.kind)).toEqual(['write', 'cold-start']);
    expect(plan.steps[0]!.set).toEqual(Object.fromEntries(plan.changes.map((c) => [c.key, c.after])));
    expect(plan.coldStartNeeded).toBe(true);
  });

  it('leaves CD-ROMs, cloud-init, efidisk, tpmstate and empty drives alone', () => {
    const vm = vmFromText(
      conf(
        'ostype: l26',
        'efidisk0: local-lvm:vm-100-disk-9,efitype=4m,size=4M',
        'tpmstate0: local-lvm:vm-100-disk-8,size=4M,version=v2.0',
        'ide2: local:iso/debian.iso,media=cdrom,size=600M',
        'scsi5: local-lvm:vm-100-cloudinit,media=cdrom',
        'scsi6: local:iso/tools.iso,media=cdrom',
        'virtio3: none',
        'scsi0: local-lvm:vm-100-disk-0,size=32G',
        'scsihw: virtio-scsi-single',
      ),
    );
    const plan = planVm(vm, THREADS);
    expect(plan.changes.map((c) => c.key)).toEqual(['scsi0']);
  });

  it('leaves scsihw alone when no scsiN drive uses it (no reboot for nothing)', () => {
    const vm = vmFromText(conf('ostype: l26', 'sata0: local-lvm:vm-100-disk-1,size=8G', 'virtio0: local-lvm:vm-100-disk-0,aio=threads,iothread=1,size=8G'));
    const plan = planVm(vm, THREADS);
    expect(plan).toMatchObject({ changes: [], path: 'none', eligible: false });
    const withCd = planVm(vmFromText(conf('ostype: l26', 'scsi2: local:iso/x.iso,media=cdrom')), THREADS);
    expect(withCd.changes.map((c) => c.key)).toEqual(['scsihw']);
  });

  it('is idempotent: a VM in the target state needs nothing, and applying a plan leaves nothing to do', () => {
    const done = vmFromText(
      conf('ostype: l26', 'scsi0: local-lvm:vm-100-disk-0,aio=threads,iothread=1,size=32G', 'scsihw: virtio-scsi-single'),
    );
    const none = planVm(done, THREADS);
    expect(none).toMatchObject({ changes: [], steps: [], path: 'none', eligible: false, coldStartNeeded: false });

    for (const status of ['running', 'stopped'] as const) {
      const vm = vmFromText(fixture('upstream-qemu-server-cfg2cmd-aio.conf'), { vmid: 8006, status });
      const plan = planVm(vm, THREADS);
      expect(plan.changes.length).toBeGreaterThan(10);
      if (status === 'running') {
        // Written but not yet cold-started: ours pending, only the cold start is left.
        const pending = planVm(applied(vm, plan, false), THREADS);
        expect(pending.blocked).toEqual([]);
        expect(pending.changes.every((c) => c.alreadyPending)).toBe(true);
        expect(pending.steps.map((s) => s.kind)).toEqual(['cold-start']);
      }
      const again = planVm(applied(vm, plan, true), THREADS);
      expect(again.changes).toEqual([]);
      expect(again.path).toBe('none');
    }
  });

  it('recognises its own change when PVE stored it canonically in [PENDING]', () => {
    const vm = vmFromText(
      conf(
        'ostype: l26',
        'scsi0: local-lvm:vm-100-disk-0,ssd=on,discard=on,size=32G',
        'scsihw: virtio-scsi-single',
        '',
        '[PENDING]',
        'scsi0: local-lvm:vm-100-disk-0,aio=threads,discard=on,iothread=1,size=32G,ssd=1',
      ),
    );
    const plan = planVm(vm, THREADS);
    expect(plan.blocked).toEqual([]);
    expect(plan.changes).toMatchObject([{ key: 'scsi0', alreadyPending: true }]);
    expect(plan.steps.map((s) => s.kind)).toEqual(['cold-start']);
  });

  it('keeps every non-target option of every drive of real configs byte-for-byte and in order', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.conf'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    let checked = 0;
    for (const f of files) {
      const vm = vmFromText(fixture(f), { storageCfg: fixture('storage-cfg2cmd.cfg') });
      for (const aio of ['threads', 'io_uring', 'native', 'keep'] as const) {
        const plan = planVm(vm, { aio, overrides: ['PASSTHROUGH_ROOT_ONLY', 'WINDOWS_BOOT_CONTROLLER'] });
        for (const c of plan.changes) {
          if (c.key === 'scsihw') continue;
          const before = parseDrive(c.key, c.before!).options.parts.filter((p) => p.key !== 'iothread' && p.key !== 'aio');
          const afterParts = parseDrive(c.key, c.after!).options.parts.filter((p) => p.key !== 'iothread' && p.key !== 'aio');
          expect(afterParts, `${f} ${c.key} aio=${aio}`).toEqual(before);
          // The target parts: iothread on, aio as chosen (or as it was for keep / non-direct native).
          expect(c.after).toMatch(/(^|,)iothread=(1|on|yes|true)(,|$)/);
          if (aio === 'threads' || aio === 'io_uring') expect(c.after).toMatch(new RegExp(`(^|,)aio=${aio}(,|$)`));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

describe('planVm: aio', () => {
  const cases: { name: string; cache: string; aio: PlanOptions['aio']; want: RegExp; warning?: string }[] = [
    { name: 'native on cache=none', cache: ',cache=none', aio: 'native', want: /aio=native/ },
    { name: 'native on default cache (direct)', cache: '', aio: 'native', want: /aio=native/ },
    { name: 'native refused on writeback', cache: ',cache=writeback', aio: 'native', want: /iothread=1/, warning: 'AIO_NATIVE_NEEDS_DIRECT' },
    { name: 'threads on writeback', cache: ',cache=writeback', aio: 'threads', want: /aio=threads/ },
    { name: 'keep leaves aio alone', cache: ',aio=io_uring', aio: 'keep', want: /aio=io_uring/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const vm = vmFromText(conf('ostype: l26', `scsi0: local-lvm:vm-100-disk-0,size=8G${c.cache}`, 'scsihw: virtio-scsi-single'));
      const plan = planVm(vm, { aio: c.aio });
      expect(after(plan, 'scsi0')).toMatch(c.want);
      if (c.warning) {
        expect(codes(plan.warnings)).toContain(c.warning);
        expect(after(plan, 'scsi0')).not.toMatch(/aio=/);
      }
    });
  }

  it('warns when io_uring is forced where PVE avoids it (plain LVM)', () => {
    const vm = vmFromText(conf('ostype: l26', 'scsi0: lvm-thick:vm-100-disk-0,size=8G', 'scsihw: virtio-scsi-single'));
    const plan = planVm(vm, { aio: 'io_uring' });
    expect(codes(plan.warnings)).toContain('AIO_IO_URING_STORAGE');
    expect(after(plan, 'scsi0')).toContain('aio=io_uring');
  });
});

describe('planVm: gates', () => {
  const linux = (extra: string[] = [], hw = 'virtio-scsi-pci'): string =>
    conf('boot: order=scsi0;net0', 'ostype: l26', 'scsi0: local-lvm:vm-100-disk-0,size=32G', `scsihw: ${hw}`, ...extra);
  const windows = (hw: string | null, extra: string[] = []): string =>
    conf(
      'agent: 1',
      'boot: order=scsi0;ide2;net0',
      'ide2: none,media=cdrom',
      'ostype: win10',
      'scsi0: local-lvm:vm-100-disk-0,discard=on,size=64G',
      'scsi1: local-lvm:vm-100-disk-1,size=100G',
      ...(hw ? [`scsihw: ${hw}`] : []),
      ...extra,
    );

  const table: {
    name: string;
    text: string;
    opts?: Partial<PlanOptions>;
    vm?: Parameters<typeof vmFromText>[1];
    blocked?: string[];
    warnings?: string[];
    notWarnings?: string[];
  }[] = [
    { name: 'locked VM', text: linux(['lock: backup']), blocked: ['VM_LOCKED'] },
    { name: 'template', text: linux(['template: 1']), blocked: ['VM_TEMPLATE'] },
    { name: 'Windows boot disk on default lsi', text: windows(null), blocked: ['WINDOWS_BOOT_CONTROLLER'] },
    { name: 'Windows boot disk on megasas', text: windows('megasas'), blocked: ['WINDOWS_BOOT_CONTROLLER'] },
    { name: 'Windows boot disk on pvscsi', text: windows('pvscsi'), blocked: ['WINDOWS_BOOT_CONTROLLER'] },
    {
      name: 'Windows virtio-scsi-pci -> single is allowed (same vioscsi driver)',
      text: windows('virtio-scsi-pci'),
      blocked: [],
      notWarnings: ['WINDOWS_DATA_DISK_DRIVER'],
    },
    {
      name: 'Windows override moves in one step',
      text: windows('lsi'),
      opts: { overrides: ['WINDOWS_BOOT_CONTROLLER'] },
      blocked: [],
      warnings: ['WINDOWS_BOOT_CONTROLLER', 'WINDOWS_DATA_DISK_DRIVER'],
    },
    { name: 'Linux leaving lsi: initramfs warning', text: linux([], 'lsi'), blocked: [], warnings: ['LINUX_INITRAMFS'] },
    { name: 'Linux on virtio-scsi-pci: no initramfs warning', text: linux(), blocked: [], notWarnings: ['LINUX_INITRAMFS'] },
    {
      name: 'ostype other leaving lsi',
      text: conf('scsi0: local-lvm:vm-100-disk-0,size=8G'),
      warnings: ['GUEST_DRIVER_UNKNOWN'],
    },
    {
      name: 'foreign pending change',
      text: linux(['', '[PENDING]', 'memory: 4096']),
      blocked: ['FOREIGN_PENDING'],
    },
    {
      name: 'foreign pending delete',
      text: linux(['net0: virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0', '', '[PENDING]', 'delete: net0']),
      blocked: ['FOREIGN_PENDING'],
    },
    {
      name: 'foreign pending on one of our keys',
      text: linux(['', '[PENDING]', 'scsi0: local-lvm:vm-100-disk-0,cache=writeback,size=32G']),
      blocked: ['FOREIGN_PENDING'],
    },
    {
      name: 'HA-managed',
      text: linux(),
      vm: { ha: { sid: 'vm:100', state: 'started' } },
      blocked: [],
      warnings: ['HA_MANAGED'],
    },
    {
      name: 'passthrough disk needs root@pam',
      text: linux(['scsi1: /dev/disk/by-id/ata-WDC_1234,size=1T']),
      blocked: ['PASSTHROUGH_ROOT_ONLY'],
    },
    {
      name: 'passthrough overridden: the disk is left as is',
      text: linux(['scsi1: /dev/disk/by-id/ata-WDC_1234,size=1T']),
      opts: { overrides: ['PASSTHROUGH_ROOT_ONLY'] },
      blocked: [],
      warnings: ['PASSTHROUGH_ROOT_ONLY'],
    },
    {
      name: 'passthrough as root@pam ticket',
      text: linux(['scsi1: /dev/disk/by-id/ata-WDC_1234,size=1T']),
      opts: { authUser: 'root@pam' },
      blocked: [],
    },
    {
      name: 'a root@pam token is not root',
      text: linux(['scsi1: /dev/disk/by-id/ata-WDC_1234,size=1T']),
      opts: { authUser: 'root@pam!automation' },
      blocked: ['PASSTHROUGH_ROOT_ONLY'],
    },
    {
      name: 'sata disk is reported, not moved',
      text: linux(['sata1: local-lvm:vm-100-disk-5,size=8G']),
      blocked: [],
      warnings: ['IDE_SATA_NOT_MOVED'],
    },
    {
      name: 'missing VM.Config.Disk and HWType',
      text: linux(),
      vm: { permissions: { '/vms/100': { 'VM.Audit': 0, 'VM.PowerMgmt': 0 } } },
      blocked: ['MISSING_PRIVILEGE'],
    },
    {
      name: 'missing VM.PowerMgmt only warns (apply --reboot never still works)',
      text: linux(),
      vm: { permissions: { '/vms': { 'VM.Config.Disk': 1, 'VM.Config.HWType': 1, 'VM.Audit': 1 } } },
      blocked: [],
      warnings: ['POWERMGMT_MISSING'],
    },
    {
      name: 'privileges inherited from / with propagate',
      text: linux(),
      vm: { permissions: { '/': { 'VM.Config.Disk': 1, 'VM.Config.HWType': 1, 'VM.PowerMgmt': 1 } } },
      blocked: [],
      notWarnings: ['POWERMGMT_MISSING'],
    },
    {
      name: 'privileges on / without propagate do not reach /vms/100',
      text: linux(),
      vm: { permissions: { '/': { 'VM.Config.Disk': 0, 'VM.Config.HWType': 0 } } },
      blocked: ['MISSING_PRIVILEGE'],
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const plan = planVm(vmFromText(c.text, c.vm), { ...THREADS, ...c.opts });
      if (c.blocked) expect(codes(plan.blocked)).toEqual(c.blocked);
      for (const w of c.warnings ?? []) expect(codes(plan.warnings)).toContain(w);
      for (const w of c.notWarnings ?? []) expect(codes(plan.warnings)).not.toContain(w);
      expect(plan.eligible).toBe(plan.blocked.length === 0 && plan.steps.length > 0);
      for (const g of [...plan.blocked, ...plan.warnings]) expect(g.message.length).toBeGreaterThan(10);
    });
  }

  it('blocks a drive string PVE would reject instead of re-sending it', () => {
    const plan = planVm(vmFromText(linux(['scsi1: local-lvm:vm-100-disk-1,size=8G,x-unknown=7'])), THREADS);
    expect(codes(plan.blocked)).toEqual(['DRIVE_UNPARSABLE']);
    expect(plan.blocked[0]!.message).toContain('x-unknown');
  });

  it('a passthrough override leaves the passthrough string untouched', () => {
    const text = linux(['scsi1: /dev/disk/by-id/ata-WDC_1234,size=1T']);
    const plan = planVm(vmFromText(text), { ...THREADS, overrides: ['PASSTHROUGH_ROOT_ONLY'] });
    expect(plan.changes.map((c) => c.key).sort()).toEqual(['scsi0', 'scsihw']);
  });

  it('names the missing privileges', () => {
    const plan = planVm(vmFromText(linux(), { permissions: { '/vms/100': { 'VM.Config.Disk': 1 } } }), THREADS);
    expect(plan.blocked[0]!.message).toContain('VM.Config.HWType');
    expect(plan.blocked[0]!.message).not.toContain('VM.Config.Disk');
  });

  it('privilege gates fit a PVE web UI login as well as a CLI token (the same plan is shown in both): no "the token", no CLI flag', () => {
    const plan = planVm(vmFromText(linux(), { permissions: { '/vms/100': { 'VM.Audit': 1 } } }), THREADS);
    const gates = [...plan.blocked, ...plan.warnings].filter((g) => g.code === 'MISSING_PRIVILEGE' || g.code === 'POWERMGMT_MISSING');
    expect(gates.map((g) => g.code).sort()).toEqual(['MISSING_PRIVILEGE', 'POWERMGMT_MISSING']);
    for (const g of gates) {
      expect(g.message).toMatch(/^the PVE user or API token in use lacks /);
      expect(`${g.message} ${g.fix ?? ''}`).not.toMatch(/the token|--reboot/);
    }
  });
});

describe('planVm: bus conversion', () => {
  const text = conf(
    'boot: order=sata0;ide2;net0',
    'ide1: local-lvm:vm-100-disk-3,model=OLD%20DISK,size=2G',
    'ide2: none,media=cdrom',
    'ostype: l26',
    'sata0: local-lvm:vm-100-disk-0,size=32G',
    'sata1: local-lvm:vm-100-disk-1,serial=DATA1,size=64G,ssd=1',
    'scsi0: local-lvm:vm-100-disk-2,size=8G',
  );

  it('moves sata data disks to a free scsi key; the boot disk stays', () => {
    const plan = planVm(vmFromText(text, { status: 'stopped' }), { ...THREADS, convertSata: true });
    expect(after(plan, 'scsi1')).toBe('local-lvm:vm-100-disk-1,serial=DATA1,size=64G,ssd=1,iothread=1,aio=threads');
    expect(plan.changes.find((c) => c.key === 'sata1')).toMatchObject({ after: null });
    expect(plan.changes.find((c) => c.key === 'sata0')).toBeUndefined();
    expect(codes(plan.warnings)).toEqual(expect.arrayContaining(['CONVERT_BOOT_DISK', 'DEVICE_RENAME', 'IDE_SATA_NOT_MOVED']));
    expect(plan.steps.map((s) => s.kind)).toEqual(['write']);
    expect(plan.steps[0]!.delete).toEqual(['sata1']);
  });

  it('drops ide-only options on ide -> scsi and renames the boot order entry', () => {
    const plan = planVm(vmFromText(text, { status: 'running' }), {
      ...THREADS,
      convertIde: true,
      convertSata: true,
      overrides: ['CONVERT_BOOT_DISK'],
    });
    const ide = plan.changes.find((c) => c.key === 'ide1')!;
    expect(ide.after).toBeNull();
    const moved = plan.changes.find((c) => c.before === null && c.after?.startsWith('local-lvm:vm-100-disk-3'))!;
    expect(moved.after).toBe('local-lvm:vm-100-disk-3,size=2G,iothread=1,aio=threads');
    expect(codes(plan.warnings)).toContain('CONVERT_OPTION_DROPPED');
    const bootKey = plan.changes.find((c) => c.after?.startsWith('local-lvm:vm-100-disk-0'))!.key;
    expect(after(plan, 'boot')).toBe(`order=${bootKey};ide2;net0`);
    // Running: bus changes are written on a stopped VM.
    expect(plan.steps.map((s) => s.kind)).toEqual(['shutdown', 'write', 'cold-start']);
    expect(codes(plan.warnings)).toContain('CONVERT_NEEDS_STOP');
  });
});

describe('planVm: Windows staged path', () => {
  const win = conf(
    'agent: 1',
    'boot: order=scsi0;ide2;net0',
    'ide2: none,media=cdrom',
    'ostype: win10',
    'scsi0: local-lvm:vm-100-disk-0,discard=on,size=64G',
    'scsi1: local-lvm:vm-100-disk-1,size=100G',
  );

  it('plans temp disk, cold start, guest check, boot disk move and temp removal as separate steps', () => {
    const plan = planVm(vmFromText(win, { status: 'running' }), { ...THREADS, windowsStaged: true });
    expect(plan.blocked).toEqual([]);
    expect(plan.path).toBe('staged');
    expect(plan.steps.map((s) => s.kind)).toEqual([
      'shutdown',
      'write',
      'cold-start',
      'verify-guest-disk',
      'shutdown',
      'write',
      'write',
      'cold-start',
    ]);
    const [, w1, , verify, , w2, w3] = plan.steps;
    expect(w1!.set).toMatchObject({
      scsihw: 'virtio-scsi-single',
      sata0: 'local-lvm:vm-100-disk-0,discard=on,size=64G',
      boot: 'order=sata0;ide2;net0',
    });
    expect(w1!.delete).toEqual(['scsi0']);
    const temp = w1!.allocates![0]!;
    expect(w1!.set![temp]).toBe('local-lvm:1,backup=0,iothread=1,replicate=0,serial=DPSTAGE100');
    expect(verify).toMatchObject({ disk: temp, serial: 'DPSTAGE100' });
    expect(w2!.set).toMatchObject({
      scsi0: 'local-lvm:vm-100-disk-0,discard=on,size=64G,iothread=1,aio=threads',
      scsi1: 'local-lvm:vm-100-disk-1,size=100G,iothread=1,aio=threads',
      boot: 'order=scsi0;ide2;net0',
    });
    expect(w2!.delete).toEqual(['sata0']);
    expect(w3).toMatchObject({ delete: [temp], force: true });
    // Net changes: the temp disk and the parking key do not remain.
    expect(plan.changes.map((c) => c.key).sort()).toEqual(['scsi0', 'scsi1', 'scsihw']);
  });

  it('warns that apply pauses for a manual check without a guest agent', () => {
    const plan = planVm(vmFromText(win.replace('agent: 1\n', ''), { status: 'stopped' }), { ...THREADS, windowsStaged: true });
    expect(codes(plan.warnings)).toContain('WINDOWS_STAGED_NO_AGENT');
    expect(plan.steps[0]!.kind).toBe('write');
    expect(plan.steps.at(-1)!.kind).toBe('write');
  });

  it('follows a legacy bootdisk key', () => {
    const plan = planVm(vmFromText(win.replace('boot: order=scsi0;ide2;net0\n', 'boot: cdn\nbootdisk: scsi0\n')), {
      ...THREADS,
      windowsStaged: true,
    });
    expect(plan.path).toBe('staged');
    expect(plan.steps.find((s) => s.kind === 'write')!.set).toMatchObject({ bootdisk: 'sata0' });
  });

  describe('guest-agent privilege for the guest check', () => {
    const vmOps = { 'VM.Audit': 1, 'VM.Config.Disk': 1, 'VM.Config.HWType': 1, 'VM.PowerMgmt': 1 } as const;
    const perms = (extra: Record<string, 0 | 1> = {}, storage: Record<string, 0 | 1> = { 'Datastore.AllocateSpace': 1 }) => ({
      '/vms': { ...vmOps, ...extra },
      '/storage': storage,
    });
    const staged = (permissions: ReturnType<typeof perms>, pveRelease?: string, text = win) =>
      planVm(vmFromText(text, { status: 'running', permissions }), { ...THREADS, windowsStaged: true, ...(pveRelease ? { pveRelease } : {}) });
    const agentGate = (plan: ReturnType<typeof staged>) => plan.warnings.find((w) => w.code === 'WINDOWS_STAGED_AGENT_PRIVILEGE');

    it('warns, naming VM.GuestAgent.Unrestricted on PVE 9, that the check needs --confirm-staged by hand', () => {
      const plan = staged(perms(), '9.1');
      expect(plan.path).toBe('staged');
      expect(plan.blocked).toEqual([]);
      const g = agentGate(plan)!;
      expect(g.message).toContain('the PVE user or API token in use lacks VM.GuestAgent.Unrestricted on /vms/100');
      expect(g.fix).toContain('grant VM.GuestAgent.Unrestricted on /vms/100');
      expect(g.fix).toContain('--confirm-staged 100');
      expect(g.fix).toContain('DPSTAGE100');
    });

    it('names VM.Monitor on PVE 8, and infers the release from the map when /version is unknown', () => {
      expect(agentGate(staged(perms(), '8.2'))!.message).toContain('lacks VM.Monitor on /vms/100');
      // PVE 9 lists VM.GuestAgent.* names (here Audit, which does not allow exec).
      expect(agentGate(staged(perms({ 'VM.GuestAgent.Audit': 1 })))!.message).toContain('lacks VM.GuestAgent.Unrestricted on');
      expect(agentGate(staged(perms()))!.message).toContain('VM.GuestAgent.Unrestricted (PVE 9; VM.Monitor on PVE 8)');
    });

    it('is quiet when the token holds it (either release\'s name), for root@pam, and without an agent', () => {
      expect(agentGate(staged(perms({ 'VM.GuestAgent.Unrestricted': 1 }), '9.1'))).toBeUndefined();
      expect(agentGate(staged(perms({ 'VM.Monitor': 1 }), '8.2'))).toBeUndefined();
      const root = planVm(vmFromText(win, { status: 'running', permissions: perms() }), { ...THREADS, windowsStaged: true, authUser: 'root@pam', pveRelease: '9.1' });
      expect(agentGate(root)).toBeUndefined();
      const noAgent = staged(perms(), '9.1', win.replace('agent: 1\n', ''));
      expect(codes(noAgent.warnings)).toContain('WINDOWS_STAGED_NO_AGENT');
      expect(agentGate(noAgent)).toBeUndefined();
    });

    it('is still shown when the staged path is refused for another privilege', () => {
      const plan = staged(perms({}, { 'Datastore.Audit': 1 }), '9.1');
      expect(codes(plan.blocked)).toEqual(['WINDOWS_BOOT_CONTROLLER']);
      expect(plan.blocked[0]!.message).toContain('Datastore.AllocateSpace');
      expect(agentGate(plan)).toBeDefined();
    });
  });

  it('refuses when the guest may boot from two disks', () => {
    const plan = planVm(vmFromText(win.replace('boot: order=scsi0;ide2;net0\n', 'boot: order=scsi0;scsi1\n')), {
      ...THREADS,
      windowsStaged: true,
    });
    expect(plan.path).not.toBe('staged');
    expect(codes(plan.blocked)).toEqual(['WINDOWS_BOOT_CONTROLLER']);
    expect(plan.blocked[0]!.message).toContain('scsi0, scsi1');
  });
});

describe('buildPlan', () => {
  it('filters by --min-risk when a risk level is present and keeps VMs without one', () => {
    const mk = (vmid: number, level?: 'critical' | 'warning' | 'info' | 'ok'): PlanVmInput => {
      const vm = vmFromText(conf('ostype: l26', 'scsi0: local-lvm:vm-1-disk-0,size=8G'), { vmid });
      if (level) vm.report.risk = { level, reasons: [] };
      return vm;
    };
    const plan = buildPlan([mk(103, 'ok'), mk(101, 'critical'), mk(102, 'info'), mk(104)], { ...THREADS, minRisk: 'warning' }, { now: new Date(0) });
    expect(plan.vms.map((v) => v.vmid)).toEqual([101, 104]);
    expect(plan.filtered).toEqual([
      { vmid: 102, risk: 'info' },
      { vmid: 103, risk: 'ok' },
    ]);
    expect(plan).toMatchObject({ version: 1, aio: 'threads', createdAt: '1970-01-01T00:00:00.000Z' });
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});
