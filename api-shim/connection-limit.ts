// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Caps on open client connections, per client address and in total. Each socket costs memory and
 * a file descriptor, and node:http accepts as many as come: 3,000 idle sockets from one address
 * all stayed open (until the 10 s header timeout, which a client beats by opening new ones
 * faster), and a job's journal and the upstream sockets need descriptors too. An SSE stream of a
 * long job holds its socket for the whole job. A browser opens about 6 per host, so one address
 * (an office behind NAT included) stays far below the cap; the one over it is answered 503
 * `DP_TOO_MANY_CONNECTIONS` and closed before anything reads from it.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { DP_TOO_MANY_CONNECTIONS } from './errors.js';
import { rawErrorAnswer } from './security-headers.js';

/**
 * The address a connection counts against: the IPv4 address (also when IPv4-mapped), or the /64
 * of an IPv6 address (one host is given a whole /64 and can pick any address in it).
 */
export function addressKey(address: string | undefined): string {
  if (!address) return '?';
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Counts `server`'s connections and closes each one past `perAddress` from one address
 * (`addressKey`) or past `total`. Over TLS nothing can be written before the handshake, so the
 * socket is only closed.
 */
export function limitConnections(server: Server, perAddress: number, total: number): void {
  const open = new Map<string, number>();
  let all = 0;
  const tls = server instanceof TlsServer;
  server.on('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress);
    const mine = open.get(key) ?? 0;
    if (mine >= perAddress || all >= total) {
      const why = mine >= perAddress ? `${mine} connections from ${key} are open (at most ${perAddress})` : `${all} connections are open (at most ${total})`;
      if (tls) return void socket.destroy();
      return rawErrorAnswer(socket, DP_TOO_MANY_CONNECTIONS.status, DP_TOO_MANY_CONNECTIONS.code, `${why}; close some and retry; nothing was sent to PVE`);
    }
    open.set(key, mine + 1);
    all++;
    socket.once('close', () => {
      all--;
      const left = open.get(key)! - 1;
      if (left === 0) open.delete(key);
      else open.set(key, left);
    });
  });
}
