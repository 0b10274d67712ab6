// SPDX-License-Identifier: AGPL-3.0-or-later
/** What a route module provides: PVE path templates and handlers returning the `data` member. */
import type { Principal } from '../acl.js';
import { dieError } from '../errors.js';
import type { SimState } from '../state.js';

export interface RouteContext {
  state: SimState;
  /** The caller; absent only on routes that need no authentication. */
  principal: Principal;
  /** Path, query and body parameters after schema validation (all strings, booleans '1'/'0'). */
  params: Record<string, string>;
  method: string;
  /** Path after `/api2/json`. */
  path: string;
}

/** A result with PVE's extra top-level members (`total` on task lists and logs). */
export class Envelope {
  constructor(
    readonly data: unknown,
    readonly extra: Record<string, unknown> = {},
  ) {}
}

export type Handler = (ctx: RouteContext) => unknown | Promise<unknown>;

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** PVE path template, e.g. `/nodes/{node}/qemu/{vmid}/config` (the schema key too). */
  path: string;
  handler: Handler;
  /** No authentication (only `POST /access/ticket`). */
  noAuth?: boolean;
  /** Own validation for some parameters (see validateParams). */
  paramCheck?: (name: string, value: string) => string | null | undefined;
}

/** A node name that exists, else PVE's 500 for a host it cannot resolve. */
export function requireNode(state: SimState, node: string): string {
  if (!state.nodes.some((n) => n.name === node)) {
    throw dieError(`hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
  }
  return node;
}
