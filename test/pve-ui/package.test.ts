// SPDX-License-Identifier: AGPL-3.0-or-later
// `npm run package`: the .deb dpkg-deb builds, read back with dpkg-deb -I / -c / -x / -e, and
// installed from its own files onto a copy of a node's tree.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPackage } from '../../scripts/package.mjs';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
let tmp: string;
let deb: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'dp-deb-'));
  deb = await buildPackage({ outDir: tmp, stageDir: join(tmp, 'stage') });
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const dpkgDeb = (...args: string[]) => execFileSync('dpkg-deb', args, { encoding: 'utf8' });

describe('the Debian package', () => {
  it('is named pve-dataplane_VERSION_all.deb and its control names pve-manager as dependency', () => {
    expect(deb).toBe(join(tmp, `pve-dataplane_${version}_all.deb`));
    const info = dpkgDeb('-I', deb);
    expect(info).toMatch(/^ Package: pve-dataplane$/m);
    expect(info).toMatch(new RegExp(`^ Version: ${version.replace(/\./g, '\\.')}$`, 'm'));
    expect(info).toMatch(/^ Architecture: all$/m);
    expect(info).toMatch(/^ Depends: .*pve-manager/m);
    for (const f of ['control', 'postinst', 'prerm', 'postrm', 'triggers', 'md5sums']) expect(info).toContain(` ${f}`);
  });

  it('holds the bundle, the installer (0755, root:root) and the copyright (AGPL-3.0)', () => {
    const list = dpkgDeb('-c', deb);
    expect(list).toMatch(/^-rwxr-xr-x root\/root .* \.\/usr\/sbin\/pve-dataplane-ui$/m);
    expect(list).toMatch(/^-rw-r--r-- root\/root .* \.\/usr\/share\/pve-dataplane\/pve-dataplane-ui\.js$/m);
    expect(list).toMatch(/\.\/usr\/share\/pve-dataplane\/VERSION$/m);
    expect(list).toMatch(/\.\/usr\/share\/doc\/pve-dataplane\/copyright$/m);
    // Nothing of pve-manager's is shipped: those files are written by the installer, not by dpkg.
    expect(list).not.toContain('pve-manager');
    const ctl = join(tmp, 'ctl');
    dpkgDeb('-e', deb, ctl);
    expect(readFileSync(join(ctl, 'triggers'), 'utf8')).toMatch(/^interest-noawait \/usr\/share\/pve-manager$/m);
    const x = join(tmp, 'x');
    dpkgDeb('-x', deb, x);
    expect(readFileSync(join(x, 'usr/share/doc/pve-dataplane/copyright'), 'utf8')).toContain('License: AGPL-3.0-or-later');
    expect(readFileSync(join(x, 'usr/share/pve-dataplane/VERSION'), 'utf8').trim()).toBe(version);
  });

  it('ships a classic-script bundle without "use strict" (ExtJS callParent reads Function.caller)', () => {
    const x = join(tmp, 'x2');
    dpkgDeb('-x', deb, x);
    const js = readFileSync(join(x, 'usr/share/pve-dataplane/pve-dataplane-ui.js'), 'utf8');
    expect(js.startsWith('(()=>{')).toBe(true);
    expect(js.slice(0, 200)).not.toContain('use strict');
    expect(js).not.toMatch(/^\s*(import|export)\s/m);
  });

  it('installs from its own files: postinst configure adds the line, prerm remove restores the template', () => {
    const root = join(tmp, 'root');
    dpkgDeb('-x', deb, root);
    const ctl = join(tmp, 'ctl2');
    dpkgDeb('-e', deb, ctl);
    mkdirSync(join(root, 'usr/share/pve-manager/js'), { recursive: true });
    const tpl = join(root, 'usr/share/pve-manager/index.html.tpl');
    copyFileSync('test/pve-ui/fixtures/index.html.tpl', tpl);
    const env = { ...process.env, DPKG_ROOT: root };
    const post = spawnSync(join(ctl, 'postinst'), ['configure', ''], { encoding: 'utf8', env });
    expect(post.status, post.stderr).toBe(0);
    expect(readFileSync(tpl, 'utf8')).toContain(`<script src="/pve2/js/pve-dataplane-ui.js?ver=${version}"></script>`);
    expect(readFileSync(join(root, 'usr/share/pve-manager/js/pve-dataplane-ui.js'))).toEqual(readFileSync(join(root, 'usr/share/pve-dataplane/pve-dataplane-ui.js')));
    const pre = spawnSync(join(ctl, 'prerm'), ['remove'], { encoding: 'utf8', env });
    expect(pre.status, pre.stderr).toBe(0);
    expect(readFileSync(tpl)).toEqual(readFileSync('test/pve-ui/fixtures/index.html.tpl'));
  });
});
