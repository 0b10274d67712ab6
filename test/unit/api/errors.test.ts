// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every typed error, produced from real PVE answers over a real socket: the recorded `error-*.txt`
 * captures (PVE 6.2: text only in the reason phrase), and the texts PVE's source dies with for the
 * cases nobody published a capture of, in both the old (reason only) and new (body `message`) form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PveClient } from '../../../src/api/client.js';
import {
  PveApiError,
  PveAuthError,
  PveDigestMismatchError,
  PveLockedError,
  PveNotFoundError,
  PveParamError,
  PvePermissionError,
  errorFromResponse,
} from '../../../src/api/errors.js';
import { type FakePve, fail, recordedAnswer, replay, startFakePve } from './helpers/fake-pve.js';

let server: FakePve;
let client: PveClient;

/** Routes: `/recorded/<fixture name>` replays a capture; `/die/<old|new>/<status>?text=` dies like PVE. */
beforeAll(async () => {
  server = await startFakePve((req, reply) => {
    const url = new URL(req.url, 'http://x');
    const rec = /^\/api2\/json\/recorded\/(.+)$/.exec(url.pathname);
    if (rec) return replay(reply, recordedAnswer(decodeURIComponent(rec[1]!)));
    const die = /^\/api2\/json\/die\/(old|new)\/(\d+)$/.exec(url.pathname);
    if (die) {
      const errors = url.searchParams.get('errors');
      return fail(reply, Number(die[2]), url.searchParams.get('text')!, {
        newBody: die[1] === 'new',
        ...(errors ? { errors: JSON.parse(errors) as Record<string, string> } : {}),
      });
    }
    return fail(reply, 501, `Method '${req.method} ${url.pathname.slice(10)}' not implemented`);
  });
  client = new PveClient({ baseUrl: server.url, auth: { kind: 'token', token: 'a@pve!tk=s' }, retries: 0 });
});
afterAll(() => server.close());

function caught(p: Promise<unknown>): Promise<PveApiError> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as PveApiError,
  );
}

describe('typed errors from recorded PVE answers', () => {
  it('400 Parameter verification failed -> PveParamError with per-field text, PVE UI message', async () => {
    const err = await caught(client.get(`/recorded/error-400-param-invalid-vmid.txt`));
    expect(err).toBeInstanceOf(PveParamError);
    expect(err.name).toBe('PveParamError');
    expect(err.status).toBe(400);
    expect(err.fieldErrors).toEqual({ vmid: 'invalid format - value does not look like a valid VM ID' });
    expect(err.message).toBe(
      'Parameter verification failed. (400)\nvmid: invalid format - value does not look like a valid VM ID',
    );
    const exists = await caught(client.get(`/recorded/error-400-param-vm-exists.txt`));
    expect(exists.fieldErrors).toEqual({ vmid: 'VM 100 already exists' });
  });

  it('401 with JSON body (bad password) and with an EMPTY body and no content type (bad token)', async () => {
    const login = await caught(client.post(`/recorded/error-401-access-ticket-auth-failure.txt`));
    expect(login).toBeInstanceOf(PveAuthError);
    expect(login.message).toBe('authentication failure (401)');
    const token = await caught(client.get(`/recorded/error-401-invalid-token.txt`));
    expect(token).toBeInstanceOf(PveAuthError);
    expect(token.name).toBe('PveAuthError');
    expect(token.message).toBe('invalid token value! (401)');
  });

  it('500 "Configuration file ... does not exist" -> PveNotFoundError (PVE answers a missing VM with 500, not 404)', async () => {
    const err = await caught(client.get(`/recorded/error-500-config-file-missing.txt`));
    expect(err).toBeInstanceOf(PveNotFoundError);
    expect(err.status).toBe(500);
    expect(err.text).toBe("Configuration file 'nodes/pve/qemu-server/101.conf' does not exist");
    expect(err.request).toBe('GET /recorded/error-500-config-file-missing.txt');
  });

  it('other 500s stay the base PveApiError with the reason text', async () => {
    const err = await caught(client.post(`/recorded/error-500-create-vm-exists.txt`));
    expect(err.constructor).toBe(PveApiError);
    expect(err.message).toBe("unable to create VM 100 - VM 100 already exists on node 'pve' (500)");
  });

  it('501 unknown method -> PveNotFoundError', async () => {
    const err = await caught(client.get('/nodes/pve/frobnicate'));
    expect(err).toBeInstanceOf(PveNotFoundError);
    expect(err.message).toBe("Method 'GET /nodes/pve/frobnicate' not implemented (501)");
  });
});

// Texts from qemu-server / pve-access-control / pve-http-server source (no published capture).
const SOURCE_TEXTS: [string, number, string, typeof PveApiError][] = [
  ['digest mismatch (PVE >= 8.3 spelling)', 500, 'checksum mismatch (file change by other user?)', PveDigestMismatchError],
  ['digest mismatch (PVE 8.0-8.2 spelling)', 500, 'checksum missmatch (file change by other user?)', PveDigestMismatchError],
  ['assert_if_modified', 500, 'detected modified configuration - file changed by other user? Try again.', PveDigestMismatchError],
  ['lock', 500, 'VM is locked (backup)', PveLockedError],
  ['permission', 403, 'Permission check failed (/vms/100, VM.Config.Disk)', PvePermissionError],
  ['csrf', 401, 'Permission denied - invalid csrf token', PveAuthError],
  ['no ticket', 401, 'No ticket', PveAuthError],
  ['unknown task', 400, 'no such task', PveNotFoundError],
];

describe.each(['old', 'new'] as const)('typed errors from PVE source texts, %s server', (flavour) => {
  it.each(SOURCE_TEXTS)('%s', async (_label, status, text, Cls) => {
    const err = await caught(client.get(`/die/${flavour}/${status}`, { text }));
    expect(err).toBeInstanceOf(Cls);
    expect(err.name).toBe(Cls.name);
    expect(err.message).toBe(`${text} (${status})`);
  });

  it('names lock and permission details', async () => {
    const locked = await caught(client.get(`/die/${flavour}/500`, { text: 'VM is locked (snapshot-delete)' }));
    expect((locked as PveLockedError).lock).toBe('snapshot-delete');
    const perm = (await caught(
      client.get(`/die/${flavour}/403`, { text: 'Permission check failed (/vms/100, VM.Config.Disk)' }),
    )) as PvePermissionError;
    expect([perm.aclPath, perm.privilege, perm.privileges]).toEqual(['/vms/100', 'VM.Config.Disk', ['VM.Config.Disk']]);
  });
});

describe('new servers: the body message carries the full multi-line text', () => {
  it('prefers the body message over the one-line reason phrase', async () => {
    const text = "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout\nsecond line";
    const err = await caught(client.get('/die/new/500', { text }));
    expect(err.text).toBe(text);
    const old = await caught(client.get('/die/old/500', { text }));
    expect(old.text).toBe("can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout");
  });

  it('a 400 hotplug problem keeps both message and field errors', async () => {
    const err = await caught(
      client.get('/die/new/400', {
        text: 'Parameter verification failed.',
        errors: JSON.stringify({ sata0: 'invalid format - invalid key in comma-separated list property: iothread\n' }),
      }),
    );
    expect(err).toBeInstanceOf(PveParamError);
    expect(err.message).toBe(
      'Parameter verification failed. (400)\nsata0: invalid format - invalid key in comma-separated list property: iothread',
    );
  });
});

describe('errorFromResponse without a socket', () => {
  it('falls back to a status description when reason and body are empty', () => {
    const err = errorFromResponse('GET', '/x', 403, '', null);
    expect(err).toBeInstanceOf(PvePermissionError);
    expect(err.message).toBe('Permission denied (403)');
    expect((err as PvePermissionError).privilege).toBeNull();
  });

  it('a permission check over several privileges lists each', () => {
    const err = errorFromResponse('PUT', '/x', 403, 'Permission check failed (/vms/100, VM.Config.Disk|VM.Config.CDROM)', null);
    expect((err as PvePermissionError).privileges).toEqual(['VM.Config.Disk', 'VM.Config.CDROM']);
  });
});
