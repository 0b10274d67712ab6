// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `MigrationTarget` over the PVE API (`PveClient`): `/pending` for config + digest in one read,
 * `status/current` for power and HA state, `POST …/config` with the digest for writes.
 */
import { analyzeVm } from '../audit/index.js';
import type { AnalysisEnv } from '../analysis/types.js';
import type { PveClient } from '../api/client.js';
import { fetchPermissions } from '../api/endpoints/access.js';
import { fetchHaResources } from '../api/endpoints/cluster.js';
import {
  fetchVmPending,
  fetchVmStatus,
  rebootVm,
  shutdownVm,
  startVm,
  stopVm,
  updateVmConfig,
  type VmConfigUpdate,
} from '../api/endpoints/qemu.js';
import { PveApiError, PvePermissionError } from '../api/errors.js';
import { hiddenStorages, vmInputFromPending } from '../audit/fleet.js';
import { fetchNodeTasks } from '../api/endpoints/tasks.js';
import { apiPath } from '../api/params.js';
import { waitForTask } from '../api/tasks.js';
import type { PowerAction } from './journal-model.js';
import type { GuestDiskCheck, LiveVm, MigrationTarget, WriteRequest } from './target.js';
import type { PermissionMap } from './types.js';

export interface ApiTargetOptions {
  /** Storages and installed QEMU, as the plan's audit used them. */
  env: AnalysisEnv;
  /**
   * Why a storage missing from `env.storages` may exist (collectEnv's `storageAccess`): each VM's
   * analysis then says its type is unknown, as the plan's audit did, instead of "no such storage".
   */
  storageAccess?: PermissionMap | Error | string;
  /** The token's permissions if already read (null: not readable); read once otherwise. */
  permissions?: PermissionMap | null;
  /** Task poll interval, ms (default 1000). */
  pollMs?: number;
  /** Longest wait for a config-update task, ms (default 600 000); PVE's own lock timeout is 10 s. */
  configTaskTimeoutMs?: number;
}

/** Build the API-backed target. Permissions and HA resources are read once and cached. */
export function createApiTarget(client: PveClient, options: ApiTargetOptions): MigrationTarget {
  const pollMs = options.pollMs ?? 1000;
  let perms: Promise<PermissionMap | null> | null = options.permissions !== undefined ? Promise.resolve(options.permissions) : null;
  let ha: Promise<Map<number, { sid: string; state: string }> | null> | null = null;
  return {
    async readVm(node, vmid, signal): Promise<LiveVm> {
      const [items, status] = await Promise.all([
        fetchVmPending(client, node, vmid, { signal }),
        fetchVmStatus(client, node, vmid, { signal }),
      ]);
      const input = vmInputFromPending(
        { vmid, node, name: typeof status.name === 'string' ? status.name : undefined, status: status.status },
        items,
      );
      const live: LiveVm = {
        input,
        status: status.status,
        ha: { managed: Number(status.ha?.managed ?? 0) === 1, state: status.ha?.state ?? null },
        lock: typeof status.lock === 'string' && status.lock !== '' ? status.lock : (input.current.lock ?? null),
      };
      if (typeof status.qmpstatus === 'string') live.qmpstatus = status.qmpstatus;
      return live;
    },
    analyze(vm) {
      const hidden = options.storageAccess !== undefined ? hiddenStorages(vm.input, options.env.storages, options.storageAccess) : null;
      if (!hidden || hidden.size === 0) return analyzeVm(vm.input, options.env);
      const unreadable = { ...options.env.unreadableStorages };
      for (const [id, { reason }] of hidden) unreadable[id] = reason;
      return analyzeVm(vm.input, { ...options.env, unreadableStorages: unreadable });
    },
    permissions(signal) {
      perms ??= fetchPermissions(client, {}, { signal }).then(
        (p) => p as PermissionMap,
        () => null,
      );
      return perms;
    },
    async haResource(vmid, signal) {
      ha ??= fetchHaResources(client, { type: 'vm' }, { signal }).then(
        (list) => new Map(list.map((r) => [Number(r.sid.replace(/^vm:/, '')), { sid: r.sid, state: r.state ?? 'started' }])),
        () => null,
      );
      return (await ha)?.get(vmid) ?? null;
    },
    async writeConfig(node, vmid, req: WriteRequest, digest, signal) {
      const params: VmConfigUpdate = { ...req.set };
      if (req.delete.length > 0) params.delete = req.delete.join(',');
      if (req.revert && req.revert.length > 0) params.revert = req.revert.join(',');
      if (req.force) params.force = 1;
      const upid = await updateVmConfig(client, node, vmid, params, { digest, signal });
      if (upid) await waitForTask(client, upid, { pollMs, timeoutMs: options.configTaskTimeoutMs ?? 600_000, ...(signal ? { signal } : {}) });
      return upid;
    },
    power(node, vmid, action: PowerAction, opts, signal) {
      const params = opts.timeoutSec !== undefined ? { timeout: opts.timeoutSec } : {};
      switch (action) {
        case 'reboot':
          return rebootVm(client, node, vmid, params, { signal });
        case 'start':
          return startVm(client, node, vmid, {}, { signal });
        case 'shutdown':
          return shutdownVm(client, node, vmid, params, { signal });
        case 'stop':
          return stopVm(client, node, vmid, {}, { signal });
      }
    },
    async waitTask(upid, opts) {
      await waitForTask(client, upid, { pollMs, ...opts });
    },
    async failedStartSince(node, vmid, sinceSec, signal) {
      try {
        // Tasks of other users (the restart runs as root@pam) need Sys.Audit on the node; without
        // it the list is ours only and the caller falls back to waiting for the VM state.
        const { tasks } = await fetchNodeTasks(client, node, { vmid, typefilter: 'qmstart', limit: 10 }, { signal });
        const failed = tasks
          .filter((t) => t.starttime >= sinceSec && typeof t.status === 'string' && t.status !== 'OK' && !/^WARNINGS: \d+$/.test(t.status))
          .sort((a, b) => b.starttime - a.starttime)[0];
        return failed ? `${failed.status} (task ${failed.upid})` : null;
      } catch (err) {
        if (signal?.aborted) throw err;
        return null;
      }
    },
    async guestSeesDisk(node, vmid, serial, signal): Promise<GuestDiskCheck> {
      // NOTE: there is no agent endpoint that lists raw disks; `get-fsinfo` only shows mounted
      // filesystems. PowerShell's Get-Disk shows the VirtIO SCSI disk by its serial once vioscsi
      // is bound.
      const script = `(Get-Disk | Where-Object SerialNumber -eq '${serial}' | Measure-Object).Count`;
      try {
        const started = await client.post<{ pid: number }>(apiPath`/nodes/${node}/qemu/${vmid}/agent/exec`, {
          command: ['powershell', '-NoProfile', '-Command', script],
        }, { signal });
        for (let i = 0; i < 60; i++) {
          const st = await client.get<{ exited: number | boolean; exitcode?: number; 'out-data'?: string }>(
            apiPath`/nodes/${node}/qemu/${vmid}/agent/exec-status`,
            { pid: started.pid },
            { signal },
          );
          if (st.exited === 1 || st.exited === true) {
            if (st.exitcode !== undefined && st.exitcode !== 0) return 'unknown';
            return Number((st['out-data'] ?? '').trim()) > 0 ? 'yes' : 'no';
          }
          await sleep(pollMs, signal);
        }
        return 'unknown';
      } catch (err) {
        if (signal?.aborted) throw err;
        if (err instanceof PvePermissionError) return 'forbidden';
        if (err instanceof PveApiError) return 'unknown';
        throw err;
      }
    },
    sleep,
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
