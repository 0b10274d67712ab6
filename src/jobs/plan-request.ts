// SPDX-License-Identifier: AGPL-3.0-or-later
import type { PveClient } from '../api/client.js';
import { makePlan } from '../migration/online.js';
import type { PlanAnswer, PlanRequest } from './types.js';

/**
 * Reads and plans the VMs of `req` as the panel showed them (nothing written to PVE): what a job
 * will apply, before an id is given to it (the shim's `POST /dp/plans`, the browser's jobs).
 */
export async function planFromRequest(client: PveClient, req: PlanRequest, who: string, pve: string): Promise<Omit<PlanAnswer, 'id'>> {
  const wanted = new Map(req.vms.map((v) => [v.vmid, v.node]));
  const planOptions = {
    aio: req.aio ?? 'threads',
    ...(req.convertSata ? { convertSata: true } : {}),
    ...(req.convertIde ? { convertIde: true } : {}),
    ...(req.windowsStaged ? { windowsStaged: true } : {}),
    ...(req.overrides ? { overrides: req.overrides } : {}),
  };
  const { plan, errors } = await makePlan(client, { vmids: [...wanted.keys()] }, planOptions, { pve });
  // The plan applied is the plan previewed, of the VMs the user saw: one that moved to another
  // node since the panel read it is left out rather than planned where the user did not look.
  const moved = plan.vms.filter((v) => v.node !== wanted.get(v.vmid));
  for (const v of moved) errors.push(`VM ${v.vmid} is on ${v.node ?? '?'} now, not on ${wanted.get(v.vmid)} as shown: left out of the plan; reload and preview again`);
  plan.vms = plan.vms.filter((v) => v.node === wanted.get(v.vmid));
  const planned = new Set([...plan.vms.map((v) => v.vmid), ...moved.map((v) => v.vmid)]);
  for (const vmid of wanted.keys()) if (!planned.has(vmid)) errors.push(`VM ${vmid} (${wanted.get(vmid)}) could not be read: left out of the plan`);
  return {
    createdAt: plan.createdAt,
    who,
    plan,
    alreadyPending: plan.vms.filter((v) => v.eligible && v.changes.length > 0 && v.changes.every((c) => c.alreadyPending)).map((v) => v.vmid),
    errors,
  };
}
