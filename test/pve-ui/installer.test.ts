// SPDX-License-Identifier: AGPL-3.0-or-later
// packaging/pve-dataplane-ui and the maintainer scripts, run under dash (Debian's /bin/sh) on a
// copy of a node's file tree (--root / DPKG_ROOT).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const TOOL = 'packaging/pve-dataplane-ui';
const TEMPLATE = readFileSync('test/pve-ui/fixtures/index.html.tpl');
const TPL = 'usr/share/pve-manager/index.html.tpl';
const LINE = '    <script src="/pve2/js/pve-dataplane-ui.js?ver=0.2.0"></script>';
const ANCHOR = '<script type="text/javascript" src="/pve2/js/pvemanagerlib.js?ver=[% version %]"></script>';

let root: string;

/** A node's tree: pve-manager's template and js/, and what the pve-dataplane package ships. */
function makeRoot(): string {
  const r = mkdtempSync(join(tmpdir(), 'dp-root-'));
  mkdirSync(join(r, 'usr/share/pve-manager/js'), { recursive: true });
  mkdirSync(join(r, 'usr/share/pve-dataplane'), { recursive: true });
  mkdirSync(join(r, 'usr/sbin'), { recursive: true });
  writeFileSync(join(r, TPL), TEMPLATE);
  writeFileSync(join(r, 'usr/share/pve-dataplane/pve-dataplane-ui.js'), '/* bundle 0.2.0 */\n');
  writeFileSync(join(r, 'usr/share/pve-dataplane/VERSION'), '0.2.0\n');
  copyFileSync(TOOL, join(r, 'usr/sbin/pve-dataplane-ui'));
  chmodSync(join(r, 'usr/sbin/pve-dataplane-ui'), 0o755);
  return r;
}

function run(args: string[], shell = 'dash') {
  const p = spawnSync(shell, [TOOL, '--root', root, ...args], { encoding: 'utf8' });
  return { code: p.status, out: p.stdout, err: p.stderr };
}

/** A maintainer script as dpkg runs it for a chrootless --root install. */
function maintainer(script: string, ...args: string[]) {
  const p = spawnSync('dash', [`packaging/debian/${script}`, ...args], { encoding: 'utf8', env: { ...process.env, DPKG_ROOT: root } });
  return { code: p.status, out: p.stdout, err: p.stderr };
}

const tpl = () => readFileSync(join(root, TPL));
const tplText = () => tpl().toString('utf8');
const bundle = join('usr/share/pve-manager/js/pve-dataplane-ui.js');

beforeEach(() => {
  root = makeRoot();
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('pve-dataplane-ui (POSIX sh)', () => {
  it('parses under dash, sh and bash -n, and so do the maintainer scripts', () => {
    for (const f of [TOOL, 'packaging/debian/postinst', 'packaging/debian/prerm', 'packaging/debian/postrm']) {
      for (const sh of ['dash', 'sh', 'bash']) {
        const p = spawnSync(sh, ['-n', f], { encoding: 'utf8' });
        expect(p.status, `${sh} -n ${f}: ${p.stderr}`).toBe(0);
      }
    }
  });

  it('install adds exactly one line right after the pvemanagerlib.js tag and places the bundle', () => {
    const r = run(['install']);
    expect(r.code, r.err).toBe(0);
    const lines = tplText().split('\n');
    const at = lines.findIndex((l) => l.includes(ANCHOR));
    expect(lines[at + 1]).toBe(LINE);
    expect(lines.length).toBe(TEMPLATE.toString().split('\n').length + 1);
    expect(lines.filter((l) => l.includes('pve-dataplane-ui.js'))).toHaveLength(1);
    // Everything else is untouched: removing our line gives the original bytes.
    expect(lines.filter((l) => l !== LINE).join('\n')).toBe(TEMPLATE.toString());
    expect(readFileSync(join(root, bundle), 'utf8')).toBe('/* bundle 0.2.0 */\n');
    expect(statSync(join(root, bundle)).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(root, 'var/lib/pve-dataplane/index.html.tpl.pristine'))).toEqual(TEMPLATE);
    expect(run(['status']).code).toBe(0);
  });

  it('a second install changes nothing (idempotent), also under bash', () => {
    expect(run(['install']).code).toBe(0);
    const before = tpl();
    const mtime = statSync(join(root, TPL)).mtimeMs;
    const again = run(['install'], 'bash');
    expect(again.code).toBe(0);
    expect(again.out).toContain('already installed');
    expect(tpl()).toEqual(before);
    expect(statSync(join(root, TPL)).mtimeMs).toBe(mtime);
  });

  it('--dry-run prints the diff and changes nothing', () => {
    const r = run(['--dry-run', 'install']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`+${LINE}`);
    expect(r.out).toContain('--- /usr/share/pve-manager/index.html.tpl');
    expect(r.out).toContain(`would copy`);
    expect(tpl()).toEqual(TEMPLATE);
    expect(existsSync(join(root, bundle))).toBe(false);
    expect(existsSync(join(root, 'var/lib/pve-dataplane/index.html.tpl.pristine'))).toBe(false);
  });

  it('uninstall restores the template byte for byte and removes the bundle', () => {
    expect(run(['install']).code).toBe(0);
    const dry = run(['--dry-run', 'uninstall']);
    expect(dry.out).toContain(`-${LINE}`);
    expect(tpl()).not.toEqual(TEMPLATE);
    const r = run(['uninstall']);
    expect(r.code, r.err).toBe(0);
    expect(tpl()).toEqual(TEMPLATE);
    expect(existsSync(join(root, bundle))).toBe(false);
    expect(run(['status']).code).toBe(3);
    expect(run(['uninstall']).out).toContain('not installed');
  });

  it('a pve-manager upgrade replaces the template; the dpkg trigger (postinst triggered) re-applies the line', () => {
    expect(maintainer('postinst', 'configure', '').code).toBe(0);
    expect(tplText()).toContain(LINE);
    // pve-manager's new template: a changed layout around the anchor, and no line of ours.
    const upgraded = TEMPLATE.toString().replace('<title>', '<meta name="color-scheme" content="light dark">\n    <title>');
    writeFileSync(join(root, TPL), upgraded);
    const status = run(['status']);
    expect(status.code).toBe(3);
    expect(status.out).toContain('not installed');
    const t = maintainer('postinst', 'triggered', '/usr/share/pve-manager');
    expect(t.code, t.err).toBe(0);
    expect(tplText().split('\n').filter((l) => l === LINE)).toHaveLength(1);
    expect(tplText()).toContain('color-scheme');
    // Removing the package now gives back the upgraded template, not the one of the first install.
    expect(maintainer('prerm', 'remove').code).toBe(0);
    expect(tplText()).toBe(upgraded);
    expect(maintainer('postrm', 'purge').code).toBe(0);
    expect(existsSync(join(root, 'var/lib/pve-dataplane'))).toBe(false);
  });

  it('a new package version replaces the ?ver= of the line (browsers fetch the new bundle)', () => {
    expect(run(['install']).code).toBe(0);
    writeFileSync(join(root, 'usr/share/pve-dataplane/VERSION'), '0.3.0\n');
    writeFileSync(join(root, 'usr/share/pve-dataplane/pve-dataplane-ui.js'), '/* bundle 0.3.0 */\n');
    expect(run(['status']).out).toContain('needs re-applying');
    expect(run(['install']).code).toBe(0);
    expect(tplText()).toContain('pve-dataplane-ui.js?ver=0.3.0');
    expect(tplText()).not.toContain('ver=0.2.0"></script>\n    <script src');
    expect(readFileSync(join(root, bundle), 'utf8')).toContain('0.3.0');
    expect(run(['uninstall']).code).toBe(0);
    expect(tpl()).toEqual(TEMPLATE);
  });

  it.each([
    ['missing', TEMPLATE.toString().replace(/^.*pvemanagerlib\.js.*\n/m, ''), '0 times'],
    ['doubled', TEMPLATE.toString().replace(/^(.*pvemanagerlib\.js.*\n)/m, '$1$1'), '2 times'],
  ])('a template whose anchor is %s is refused, naming the file, and left untouched', (_what, text, count) => {
    writeFileSync(join(root, TPL), text);
    const r = run(['install']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(join(root, TPL));
    expect(r.err).toContain(count);
    expect(tplText()).toBe(text);
    expect(existsSync(join(root, bundle))).toBe(false);
    // The package's postinst says so and does not fail the dpkg run (PVE's own UI keeps working).
    const p = maintainer('postinst', 'configure', '');
    expect(p.code).toBe(0);
    expect(p.err).toContain('left unchanged');
    expect(tplText()).toBe(text);
  });

  it('refuses a version that could break out of the HTML attribute', () => {
    writeFileSync(join(root, 'usr/share/pve-dataplane/VERSION'), '1"><script>alert(1)</script>\n');
    const r = run(['install']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('not a version');
    expect(tpl()).toEqual(TEMPLATE);
  });

  it('keeps the template mode, and says what is wrong with a bad --root or argument', () => {
    chmodSync(join(root, TPL), 0o640);
    expect(run(['install']).code).toBe(0);
    expect(statSync(join(root, TPL)).mode & 0o777).toBe(0o640);
    const bad = spawnSync('dash', [TOOL, '--root', join(root, 'nope'), 'install'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('no such directory');
    expect(run(['frobnicate']).code).toBe(2);
  });
});
