// SPDX-License-Identifier: AGPL-3.0-or-later
/** See dev-server.mjs. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export const API2_HEADERS: readonly string[];
export function contentTypeOf(file: string): string;
export function forwardApi2(base: string, req: IncomingMessage): Promise<{ status: number; statusText: string; type: string; body: Buffer }>;
export function proxyApi2(base: string, req: IncomingMessage, res: ServerResponse): Promise<void>;
export function fileOf(path: string, routes: ReadonlyArray<readonly [string, string]>): string | null;
export function createPageServer(o: { page: string; api2: () => string | Promise<string>; routes: ReadonlyArray<readonly [string, string]> }): Server;
export function spawnSimulator(args: string[], o?: { root?: string; stderr?: 'inherit' | 'ignore' }): { url: Promise<string>; stop: () => void };
