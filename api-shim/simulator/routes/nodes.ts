// SPDX-License-Identifier: AGPL-3.0-or-later
/** `/nodes` and node-level endpoints: status, rrddata, installed versions, machines, syslog, time, vzdump defaults, storage. */
import { privilegesOn } from '../acl.js';
import { requirePrivs } from '../config-update.js';
import { machineVersions, pveRevisions } from '../machine.js';
import { nodeRrd } from '../metrics.js';
import type { SimState } from '../state.js';
import { parseJournalTime, utcOffsetMinutes, zoneName } from '../node-time.js';
import { splitList } from '../schema/validate.js';
import { formatMembers } from '../storage-formats.js';
import { vzdumpDefaults } from '../vzdump.js';
import { pveQemuOf } from '../pve-qemu.js';
import { nodeFingerprint } from './cluster.js';
import { Envelope, requireNode, type RouteDef } from './route.js';

function nodeOf(state: SimState, name: string) {
  requireNode(state, name);
  return state.nodes.find((n) => n.name === name)!;
}

function aptPackages(state: SimState, node: string): Array<Record<string, string>> {
  const r = state.release;
  const pkg = (Package: string, Version: string, Title: string, extra: Record<string, string> = {}) => ({
    Package, Version, Title, Description: Title, Origin: 'Proxmox', Priority: 'optional', Section: 'admin', Arch: 'amd64',
    CurrentState: 'Installed', ...extra,
  });
  return [
    pkg('proxmox-ve', r.version, 'Proxmox Virtual Environment', { RunningKernel: r.kernel, ManagerVersion: `${r.version}/${r.repoid}` }),
    pkg('pve-manager', r.version, 'Proxmox Virtual Environment Management Tools'),
    pkg(`proxmox-kernel-${r.kernel.replace(/-pve$/, '')}`, r.kernel.replace(/-pve$/, ''), 'Proxmox Kernel Image'),
    pkg('qemu-server', r.qemuServer, 'Qemu Server Tools'),
    pkg('pve-qemu-kvm', pveQemuOf(state, node), 'Full virtualization on x86 hardware'),
    pkg('libpve-storage-perl', state.pveVersion === '9.1' ? '9.1.0' : '8.2.5', 'Proxmox VE storage management library'),
    pkg('pve-ha-manager', state.pveVersion === '9.1' ? '5.0.8' : '4.0.5', 'Proxmox VE HA Manager'),
    pkg('pve-container', state.pveVersion === '9.1' ? '6.0.18' : '5.2.0', 'Proxmox VE Container management tool'),
  ];
}

export const nodeRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/nodes',
    handler: ({ state, principal }) =>
      state.nodes.map((n) => {
        const entry: Record<string, unknown> = { id: `node/${n.name}`, type: 'node', node: n.name, status: 'online', ssl_fingerprint: nodeFingerprint(state, n.name) };
        if (privilegesOn(principal, `/nodes/${n.name}`).has('Sys.Audit')) {
          const r = state.rng.fork(`nodestat:${n.name}`);
          Object.assign(entry, {
            level: '', maxcpu: n.cpus, cpu: r.next() * 0.3, maxmem: n.memBytes, mem: Math.round(n.memBytes * (0.3 + r.next() * 0.4)),
            maxdisk: 100 * 1024 ** 3, disk: 12 * 1024 ** 3, uptime: state.clock.nowSec() - state.bootTime,
          });
        }
        return entry;
      }),
  },
  {
    method: 'GET',
    path: '/nodes/{node}/status',
    handler: ({ state, principal, params }) => {
      const n = nodeOf(state, params.node!);
      requirePrivs(principal, `/nodes/${n.name}`, ['Sys.Audit']);
      const r = state.rng.fork(`nodestatus:${n.name}`);
      const used = Math.round(n.memBytes * (0.3 + r.next() * 0.4));
      const { kernel, kernelBuilt } = state.release;
      // `uname -v` of a Proxmox kernel: `#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)`;
      // the web UI's node summary reads the build date from the parentheses.
      const unameV = `#1 SMP PREEMPT_DYNAMIC PMX ${kernel.replace(/-pve$/, '')} (${kernelBuilt})`;
      return {
        uptime: state.clock.nowSec() - state.bootTime,
        cpu: r.next() * 0.3,
        wait: r.next() * 0.02,
        idle: 0,
        loadavg: [r.next() * 4, r.next() * 4, r.next() * 4].map((x) => x.toFixed(2)),
        kversion: `Linux ${kernel} ${unameV}`,
        'current-kernel': { sysname: 'Linux', release: kernel, version: unameV, machine: 'x86_64' },
        // cores = physical cores of all sockets (ProcFSTools read_cpuinfo), cpus = threads.
        cpuinfo: { cpus: n.cpus, cores: n.cores * n.sockets, sockets: n.sockets, model: n.cpuModel, mhz: '2800.000', hvm: '1', user_hz: 100, flags: 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm constant_tsc rep_good nopl xtopology cpuid pni pclmulqdq vmx ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch avx2 sha_ni' },
        memory: { total: n.memBytes, used, free: n.memBytes - used, available: n.memBytes - used },
        swap: { total: 8 * 1024 ** 3, used: 0, free: 8 * 1024 ** 3 },
        rootfs: { total: 100 * 1024 ** 3, used: 12 * 1024 ** 3, free: 88 * 1024 ** 3, avail: 83 * 1024 ** 3 },
        ksm: { shared: 0 },
        pveversion: `pve-manager/${state.release.version}/${state.release.repoid}`,
        'boot-info': { mode: 'efi', secureboot: 0 },
      };
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/rrddata',
    handler: ({ state, principal, params }) => {
      const n = nodeOf(state, params.node!);
      requirePrivs(principal, `/nodes/${n.name}`, ['Sys.Audit']);
      return nodeRrd(state, n, params.timeframe ?? 'hour');
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/apt/versions',
    handler: ({ state, principal, params }) => {
      const n = nodeOf(state, params.node!);
      requirePrivs(principal, `/nodes/${n.name}`, ['Sys.Audit']);
      return aptPackages(state, n.name);
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/capabilities/qemu/machines',
    handler: ({ state, params }) => {
      nodeOf(state, params.node!);
      const out: Array<Record<string, string>> = [];
      for (const v of machineVersions(state.qemuVersion)) {
        for (const type of ['i440fx', 'q35'] as const) {
          for (const rev of pveRevisions(v).reverse()) {
            const version = rev > 0 ? `${v}+pve${rev}` : v;
            out.push({ id: `pc-${type}-${version}`, type, version });
          }
        }
      }
      return out;
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/syslog',
    handler: ({ state, principal, params }) => {
      const n = nodeOf(state, params.node!);
      requirePrivs(principal, `/nodes/${n.name}`, ['Sys.Syslog']);
      let entries = state.refreshSyslog(n.name);
      // `since`/`until` are journalctl times (`YYYY-MM-DD[ HH:MM[:SS]]`) in the node's local time.
      const tz = state.timezoneOf(n.name);
      if (params.since) entries = entries.filter((e) => e.time >= parseJournalTime(tz, params.since!));
      if (params.until) entries = entries.filter((e) => e.time <= parseJournalTime(tz, params.until!));
      let lines = entries.map((e) => e.line);
      if (params.service) lines = lines.filter((l) => l.includes(` ${params.service}[`) || l.includes(` ${params.service}:`));
      // PVE::Tools::dump_journal: `limit` 0 means 50; an empty journal answers one "no content" line.
      const start = Number(params.start ?? 0);
      const limit = Number(params.limit ?? 0) || 50;
      if (lines.length === 0) return new Envelope([{ n: 1, t: 'no content' }], { total: 1 });
      const page = lines.slice(start, start + limit).map((t, i) => ({ n: start + i + 1, t }));
      return new Envelope(page, { total: lines.length });
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/time',
    handler: ({ state, principal, params }) => {
      const n = nodeOf(state, params.node!);
      requirePrivs(principal, `/nodes/${n.name}`, ['Sys.Audit']);
      const tz = state.timezoneOf(n.name);
      const time = state.clock.nowSec();
      // `localtime`: the wall-clock time read as if it were UTC (timegm(localtime(time))).
      return { timezone: zoneName(tz), time, localtime: time + utcOffsetMinutes(tz, time * 1000) * 60 };
    },
  },
  {
    method: 'GET',
    path: '/nodes/{node}/vzdump/defaults',
    handler: ({ state, principal, params }) => vzdumpDefaults(state, principal, nodeOf(state, params.node!).name, params.storage),
  },
  {
    method: 'GET',
    path: '/nodes/{node}/storage',
    handler: ({ state, principal, params }) => {
      const n = nodeOf(state, params.node!);
      // Storage::storage_info: `content` is a list, any of it qualifies (and then only enabled ones).
      const wanted = params.content ? splitList(params.content) : null;
      const out: unknown[] = [];
      for (const s of state.storage.storages.values()) {
        if (params.storage && s.id !== params.storage) continue;
        if (s.nodes !== null && !s.nodes.includes(n.name)) continue;
        if (wanted && (s.disabled || !wanted.some((c) => s.content.includes(c)))) continue;
        if (params.enabled === '1' && s.disabled) continue;
        const privs = privilegesOn(principal, `/storage/${s.id}`);
        if (!privs.has('Datastore.Audit') && !privs.has('Datastore.AllocateSpace')) continue;
        const entry: Record<string, unknown> = {
          storage: s.id, type: s.type, content: [...s.content].sort().join(','), enabled: s.disabled ? 0 : 1, active: 0, shared: s.shared ? 1 : 0,
          total: 0, used: 0, avail: 0,
        };
        if (!s.disabled) {
          if (params.format === '1') Object.assign(entry, formatMembers(s));
          const use = state.storage.usage(s.id, n.name, (id) => state.vms.get(id)?.node);
          const total = Number(use.total);
          const used = Number(use.used);
          Object.assign(entry, { active: 1, total, used, avail: total - used, used_fraction: total > 0 ? used / total : 0 });
        }
        out.push(entry);
      }
      return out;
    },
  },
];
