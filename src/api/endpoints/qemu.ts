// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `/nodes/{node}/qemu/...` endpoints: inventory, config, pending values, status, metrics, config
 * writes and power actions. Wire shapes keep PVE's keys.
 */
import type { PveClient, RequestOptions } from '../client.js';
import { type Params, apiPath } from '../params.js';

/** One entry of `GET /nodes/{node}/qemu[?full=1]`. */
export interface QemuListEntry {
  vmid: number;
  status: 'running' | 'stopped' | (string & {});
  name?: string;
  /** 0/1; only sent when true on some versions. */
  template?: 0 | 1;
  lock?: string;
  tags?: string;
  pid?: number;
  cpus?: number;
  cpu?: number;
  /** Bytes. */
  maxmem?: number;
  mem?: number;
  memhost?: number;
  maxdisk?: number;
  /** Seconds. */
  uptime?: number;
  /** With full=1: QMP run state (`running`, `paused`, `prelaunch`, ...). */
  qmpstatus?: string;
  /** With full=1, running VMs: machine type QEMU runs now, e.g. `pc-i440fx-9.2+pve1`. */
  'running-machine'?: string;
  /** With full=1, running VMs: QEMU version of the running process, e.g. `9.2.0`. */
  'running-qemu'?: string;
  diskread?: number;
  diskwrite?: number;
  [member: string]: unknown;
}

/**
 * `GET /nodes/{node}/qemu[?full=1]`: all VMs of a node the caller has VM.Audit on. `full=1` adds
 * `running-machine`/`running-qemu` for running VMs - one request per node instead of one status
 * request per VM.
 */
export function fetchNodeQemuList(
  client: PveClient,
  node: string,
  params: { full?: boolean } = {},
  options?: RequestOptions,
): Promise<QemuListEntry[]> {
  return client.get<QemuListEntry[]>(apiPath`/nodes/${node}/qemu`, { full: params.full }, options);
}

/**
 * One item of `GET .../pending`: every config key (including `digest` and `description`), in
 * random order. `value` = current value (absent for keys that exist only in [PENDING]), `pending`
 * = the value after the next cold start, `delete` = pending deletion (2 = forced `!key`).
 */
export interface PendingItem {
  key: string;
  value?: string | number;
  pending?: string | number;
  /** 1, or 2 for a forced delete. pve-guest-common also reports 2 for a non-forced delete of a key
   * that is not set in the current config (a hash ref taken as "force"). */
  delete?: 0 | 1 | 2;
}

/** `GET /nodes/{node}/qemu/{vmid}/pending` - needs VM.Audit. Current + pending + digest in one answer. */
export function fetchVmPending(
  client: PveClient,
  node: string,
  vmid: number,
  options?: RequestOptions,
): Promise<PendingItem[]> {
  return client.get<PendingItem[]>(apiPath`/nodes/${node}/qemu/${vmid}/pending`, undefined, options);
}

/**
 * `GET .../config` answer: config keys -> values, always with `digest`. Drive and other property
 * strings are strings; since PVE 8.1 `memory` is a string too; `cores`, `sockets`, `balloon` and
 * 0/1 booleans are numbers.
 */
export interface VmConfig {
  digest: string;
  [key: string]: string | number | undefined;
}

/**
 * `GET /nodes/{node}/qemu/{vmid}/config`. Default: pending values applied (what the next cold
 * start runs); `current: true`: the values in effect now. `snapshot` reads a snapshot section.
 */
export function fetchVmConfig(
  client: PveClient,
  node: string,
  vmid: number,
  params: { current?: boolean; snapshot?: string } = {},
  options?: RequestOptions,
): Promise<VmConfig> {
  return client.get<VmConfig>(apiPath`/nodes/${node}/qemu/${vmid}/config`, params, options);
}

/** `GET .../status/current` answer (subset; PVE sends more). */
export interface VmStatus {
  /** A number since PVE 7.4; a string on PVE 6.x. */
  vmid: number | string;
  status: 'running' | 'stopped' | (string & {});
  qmpstatus?: string;
  name?: string;
  /** Only sent when true (6.2 sent `""`). */
  template?: 0 | 1 | '';
  lock?: string;
  /** `null` for a stopped VM on PVE 6.2. */
  pid?: number | null;
  uptime?: number;
  cpus?: number;
  maxmem?: number;
  mem?: number;
  /** HA manager view; `managed` 0/1. */
  ha?: { managed: 0 | 1; state?: string; group?: string; [member: string]: unknown };
  agent?: 0 | 1;
  'running-machine'?: string;
  'running-qemu'?: string;
  [member: string]: unknown;
}

/** `GET /nodes/{node}/qemu/{vmid}/status/current` - needs VM.Audit. */
export function fetchVmStatus(
  client: PveClient,
  node: string,
  vmid: number,
  options?: RequestOptions,
): Promise<VmStatus> {
  return client.get<VmStatus>(apiPath`/nodes/${node}/qemu/${vmid}/status/current`, undefined, options);
}

/**
 * One RRD point. `time` in epoch seconds; `diskread`/`diskwrite`/`netin`/`netout` are RRD DERIVE
 * values, i.e. bytes per second. Members are absent where the RRD has no value (stopped VM).
 */
export interface RrdPoint {
  time: number;
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  disk?: number;
  maxdisk?: number;
  diskread?: number;
  diskwrite?: number;
  netin?: number;
  netout?: number;
  memhost?: number;
  pressureiosome?: number;
  pressureiofull?: number;
  [member: string]: number | undefined;
}

/** `GET /nodes/{node}/qemu/{vmid}/rrddata?timeframe=...` - needs VM.Audit. */
export function fetchVmRrdData(
  client: PveClient,
  node: string,
  vmid: number,
  params: { timeframe: 'hour' | 'day' | 'week' | 'month' | 'year'; cf?: 'AVERAGE' | 'MAX' },
  options?: RequestOptions,
): Promise<RrdPoint[]> {
  return client.get<RrdPoint[]>(apiPath`/nodes/${node}/qemu/${vmid}/rrddata`, params, options);
}

/** Config keys and their new values; `delete` and `revert` are comma lists of keys. */
export interface VmConfigUpdate {
  delete?: string;
  revert?: string;
  [key: string]: string | number | boolean | undefined;
}

export interface UpdateVmConfigOptions extends RequestOptions {
  /**
   * The `digest` read with the values being changed. Required: PVE then refuses the write with
   * `checksum mismatch` (PveDigestMismatchError) if anyone changed the config meanwhile.
   */
  digest: string;
  /** Seconds (1-30) PVE waits for the task before answering; then `null` means it finished OK. */
  backgroundDelay?: number;
}

/**
 * `POST /nodes/{node}/qemu/{vmid}/config` (asynchronous update). Returns the UPID of the
 * `qmconfig` task (follow it with waitForTask), or `null` when `backgroundDelay` was given and
 * the task already finished OK. A change to a running VM's disk options or scsihw stays pending
 * until the next cold start. Never re-sent automatically.
 */
export function updateVmConfig(
  client: PveClient,
  node: string,
  vmid: number,
  params: VmConfigUpdate,
  options: UpdateVmConfigOptions,
): Promise<string | null> {
  if (!options.digest) throw new Error(`updateVmConfig(${vmid}): a digest is required so a concurrent edit is never overwritten`);
  const body: Params = { ...params, digest: options.digest };
  if (options.backgroundDelay !== undefined) body['background_delay'] = options.backgroundDelay;
  return client.post<string | null>(apiPath`/nodes/${node}/qemu/${vmid}/config`, body, options);
}

function powerAction(
  action: 'start' | 'stop' | 'shutdown' | 'reboot',
  client: PveClient,
  node: string,
  vmid: number,
  params: Params,
  options?: RequestOptions,
): Promise<string> {
  return client.post<string>(apiPath`/nodes/${node}/qemu/${vmid}/status/${action}`, params, options);
}

/**
 * `POST .../status/reboot` -> UPID (needs VM.PowerMgmt). Shuts the VM down and starts it again in
 * a separate task, applying pending changes; the `qmreboot` task ends when the shutdown is done,
 * so poll the VM status for the restart. `timeout` in seconds for the shutdown.
 */
export function rebootVm(
  client: PveClient,
  node: string,
  vmid: number,
  params: { timeout?: number } = {},
  options?: RequestOptions,
): Promise<string> {
  return powerAction('reboot', client, node, vmid, params, options);
}

/** `POST .../status/start` -> UPID. A start of a stopped VM applies pending changes first. */
export function startVm(
  client: PveClient,
  node: string,
  vmid: number,
  params: { timeout?: number } = {},
  options?: RequestOptions,
): Promise<string> {
  return powerAction('start', client, node, vmid, params, options);
}

/** `POST .../status/stop` -> UPID (hard stop, like pulling the plug). */
export function stopVm(
  client: PveClient,
  node: string,
  vmid: number,
  params: { timeout?: number; 'overrule-shutdown'?: boolean } = {},
  options?: RequestOptions,
): Promise<string> {
  return powerAction('stop', client, node, vmid, params, options);
}

/** `POST .../status/shutdown` -> UPID (ACPI or guest agent; `forceStop` after `timeout` seconds). */
export function shutdownVm(
  client: PveClient,
  node: string,
  vmid: number,
  params: { timeout?: number; forceStop?: boolean } = {},
  options?: RequestOptions,
): Promise<string> {
  return powerAction('shutdown', client, node, vmid, params, options);
}

/** One entry of `GET .../snapshot`; the last one is `current` ("You are here!") with `parent`. */
export interface VmSnapshot {
  name: string;
  description?: string;
  /** Epoch seconds; absent on `current`. */
  snaptime?: number;
  /** 0/1: RAM state saved. */
  vmstate?: 0 | 1;
  parent?: string;
  /** `current` only: 0/1. */
  running?: 0 | 1;
  digest?: string;
  [member: string]: unknown;
}

/** `GET /nodes/{node}/qemu/{vmid}/snapshot` - needs VM.Audit. */
export function fetchVmSnapshots(
  client: PveClient,
  node: string,
  vmid: number,
  options?: RequestOptions,
): Promise<VmSnapshot[]> {
  return client.get<VmSnapshot[]>(apiPath`/nodes/${node}/qemu/${vmid}/snapshot`, undefined, options);
}

/** `result` of `GET .../agent/get-osinfo` (QGA `guest-get-osinfo`; members as QEMU names them, all optional). */
export interface AgentOsInfo {
  id?: string;
  name?: string;
  'pretty-name'?: string;
  version?: string;
  'version-id'?: string;
  'kernel-release'?: string;
  'kernel-version'?: string;
  machine?: string;
  [member: string]: unknown;
}

/**
 * `GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo` - needs VM.GuestAgent.Audit (or .Unrestricted)
 * on /vms/{vmid} on PVE 9, VM.Monitor on PVE 8; fails (500) when the agent does not answer.
 */
export async function fetchAgentOsInfo(client: PveClient, node: string, vmid: number, options?: RequestOptions): Promise<AgentOsInfo> {
  const answer = await client.get<{ result?: AgentOsInfo }>(apiPath`/nodes/${node}/qemu/${vmid}/agent/get-osinfo`, undefined, options);
  return answer?.result ?? {};
}
