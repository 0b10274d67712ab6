// SPDX-License-Identifier: AGPL-3.0-or-later
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/errors.js';
import { clientFromOptions, createProgress, normalisePveUrl } from '../../../src/cli/online.js';
import { type FakePve, ok, startFakePve } from './helpers/fake-pve.js';

const TOKEN = 'audit@pve!dataplane=0b9f6b55-1111-4222-8333-444455556666';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dp-online-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function tokenFile(name: string, text: string, mode = 0o600): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  await chmod(path, mode);
  return path;
}

async function usage(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  return (err as UsageError).message;
}

describe('normalisePveUrl', () => {
  it.each([
    ['pve1', 'https://pve1:8006/'],
    ['pve1:8443', 'https://pve1:8443/'],
    ['10.0.0.5', 'https://10.0.0.5:8006/'],
    ['https://pve1.example.com', 'https://pve1.example.com/'],
    ['https://pve1:8006/api2/json', 'https://pve1:8006/api2/json'],
    ['http://127.0.0.1:43111', 'http://127.0.0.1:43111/'],
  ])('%s -> %s', (input, want) => {
    expect(normalisePveUrl(input).href).toBe(want);
  });

  it('refuses other schemes, credentials in the URL and nothing at all', () => {
    expect(() => normalisePveUrl('ftp://pve1')).toThrow(/scheme must be https/);
    expect(() => normalisePveUrl('https://root:pw@pve1:8006')).toThrow(/must not contain credentials/);
    expect(() => normalisePveUrl(undefined)).toThrow('no PVE API URL: pass --pve https://HOST:8006 (or set PVE_URL)');
  });
});

describe('clientFromOptions: token', () => {
  it('names both ways to give a token when none is given', async () => {
    const msg = await usage(clientFromOptions({ pve: 'pve1' }, {}));
    expect(msg).toMatch(/^no API token: pass --token-file FILE .* or set PVE_TOKEN/);
  });

  it('names the file for a missing or empty token file', async () => {
    expect(await usage(clientFromOptions({ pve: 'pve1', tokenFile: join(dir, 'nope') }, {}))).toBe(
      `--token-file ${join(dir, 'nope')}: no such file`,
    );
    const empty = await tokenFile('empty', '# my token\n\n');
    expect(await usage(clientFromOptions({ pve: 'pve1', tokenFile: empty }, {}))).toMatch(/the file is empty/);
  });

  it('names file and line of a malformed token without printing the secret', async () => {
    const bad = await tokenFile('bad', '# comment\nroot@pam=supersecretvalue\n');
    const msg = await usage(clientFromOptions({ pve: 'pve1', tokenFile: bad }, {}));
    expect(msg).toMatch(new RegExp(`^--token-file ${bad}, line 2: invalid API token: the token id part`));
    expect(msg).not.toContain('supersecretvalue');
    const env = await usage(clientFromOptions({ pve: 'pve1' }, { PVE_TOKEN: 'nonsense' }));
    expect(env).toMatch(/^PVE_TOKEN: invalid API token/);
  });

  it('warns about a token file other users can read, and accepts env-file syntax', async () => {
    const loose = await tokenFile('loose', `export PVE_TOKEN='${TOKEN}'\n`, 0o644);
    const warnings: string[] = [];
    await clientFromOptions({ pve: 'pve1', tokenFile: loose }, {}, (l) => warnings.push(l));
    expect(warnings).toEqual([`--token-file ${loose} is readable by other users (mode 644); run: chmod 600 ${loose}`]);
  });

  it('refuses a malformed fingerprint and --fingerprint with --insecure', async () => {
    expect(await usage(clientFromOptions({ pve: 'pve1', token: TOKEN, fingerprint: 'AB:CD' }, {}))).toMatch(
      /^--fingerprint \(or PVE_FINGERPRINT\): invalid fingerprint/,
    );
    const fp = Array(32).fill('AB').join(':');
    expect(await usage(clientFromOptions({ pve: 'pve1', token: TOKEN, fingerprint: fp, insecure: true }, {}))).toMatch(
      /exclude each other/,
    );
    expect(await usage(clientFromOptions({ pve: 'pve1', token: TOKEN, concurrency: 0 }, {}))).toMatch(/--concurrency/);
  });
});

describe('clientFromOptions against a self-signed HTTPS server', () => {
  let server: FakePve;
  let fingerprint: string;
  beforeAll(async () => {
    const pems = await generate([{ name: 'commonName', value: 'pve1' }], { keyType: 'ec' });
    fingerprint = new X509Certificate(pems.cert).fingerprint256;
    server = await startFakePve((_req, reply) => ok(reply, { release: '9.2' }), { https: { key: pems.private, cert: pems.cert } });
  });
  afterAll(() => server.close());

  it('uses the token file (over PVE_TOKEN) and PVE_URL / PVE_FINGERPRINT from the environment', async () => {
    const file = await tokenFile('good', `${TOKEN}\n`);
    const client = await clientFromOptions(
      { tokenFile: file, concurrency: 2 },
      { PVE_URL: server.url, PVE_FINGERPRINT: fingerprint.toLowerCase(), PVE_TOKEN: 'other@pve!x1=zzz' },
    );
    expect(client.concurrency).toBe(2);
    expect(await client.get('/version')).toEqual({ release: '9.2' });
    expect(server.requests.at(-1)!.headers['authorization']).toBe(`PVEAPIToken=${TOKEN}`);
  });

  it('without a fingerprint the self-signed certificate is refused and its fingerprint shown', async () => {
    const client = await clientFromOptions({ pve: server.url, token: TOKEN }, {});
    await expect(client.get('/version')).rejects.toThrow(fingerprint);
  });
});

describe('createProgress', () => {
  function stream(tty: boolean): { s: NodeJS.WriteStream; out: () => string } {
    const p = new PassThrough();
    let text = '';
    p.on('data', (c: Buffer) => (text += c.toString()));
    return { s: Object.assign(p, { isTTY: tty, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true }) as unknown as NodeJS.WriteStream, out: () => text };
  }

  it('draws on a terminal for long runs only, and never on a pipe', () => {
    const tty = stream(true);
    const bar = createProgress('audit', tty.s, 5);
    bar.update(1, 3);
    expect(tty.out()).toBe('');
    bar.update(1, 10);
    bar.update(10, 10);
    bar.stop();
    expect(tty.out()).toContain('10/10 VMs');
    const pipe = stream(false);
    const none = createProgress('audit', pipe.s, 1);
    none.update(5, 10);
    none.stop();
    expect(pipe.out()).toBe('');
  });
});
