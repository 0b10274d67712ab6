// SPDX-License-Identifier: AGPL-3.0-or-later
// `npm run package`: builds dist/pve-dataplane_VERSION_all.deb with dpkg-deb (nothing downloaded):
// the PVE-UI bundle under /usr/share/pve-dataplane/, the installer /usr/sbin/pve-dataplane-ui,
// the maintainer scripts and the dpkg trigger from packaging/.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPveUiBundle } from './pve-ui-bundle.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every file under `dir`, depth first, sorted (stable md5sums). */
function files(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * Stages and builds the package.
 * @param {{ outDir?: string, stageDir?: string, version?: string }} [o]
 * @returns {Promise<string>} the path of the .deb
 */
export async function buildPackage(o = {}) {
  const version = o.version ?? JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version;
  const outDir = o.outDir ?? join(repo, 'dist');
  const stage = o.stageDir ?? join(repo, 'out', 'deb', `pve-dataplane_${version}`);
  rmSync(stage, { recursive: true, force: true });
  const share = join(stage, 'usr/share/pve-dataplane');
  const doc = join(stage, 'usr/share/doc/pve-dataplane');
  const sbin = join(stage, 'usr/sbin');
  const debian = join(stage, 'DEBIAN');
  for (const d of [share, doc, sbin, debian]) mkdirSync(d, { recursive: true, mode: 0o755 });

  await buildPveUiBundle(join(share, 'pve-dataplane-ui.js'));
  writeFileSync(join(share, 'VERSION'), `${version}\n`);
  copyFileSync(join(repo, 'packaging/pve-dataplane-ui'), join(sbin, 'pve-dataplane-ui'));
  chmodSync(join(sbin, 'pve-dataplane-ui'), 0o755);
  copyFileSync(join(repo, 'packaging/debian/copyright'), join(doc, 'copyright'));

  const payload = files(stage).filter((f) => !f.startsWith(debian + '/'));
  const sizeKiB = Math.ceil(payload.reduce((n, f) => n + statSync(f).size, 0) / 1024);
  writeFileSync(
    join(debian, 'control'),
    readFileSync(join(repo, 'packaging/debian/control.in'), 'utf8').replace('@VERSION@', version).replace('@SIZE@', String(sizeKiB)),
  );
  for (const s of ['postinst', 'prerm', 'postrm']) {
    copyFileSync(join(repo, 'packaging/debian', s), join(debian, s));
    chmodSync(join(debian, s), 0o755);
  }
  copyFileSync(join(repo, 'packaging/debian/triggers'), join(debian, 'triggers'));
  writeFileSync(
    join(debian, 'md5sums'),
    payload.map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${relative(stage, f)}\n`).join(''),
  );
  for (const f of files(stage)) if (!(statSync(f).mode & 0o111)) chmodSync(f, 0o644);

  mkdirSync(outDir, { recursive: true });
  const deb = join(outDir, `pve-dataplane_${version}_all.deb`);
  // --root-owner-group: root:root inside the archive without fakeroot; xz like Debian's own.
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  return deb;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const deb = await buildPackage();
  process.stdout.write(`${relative(process.cwd(), deb)}\n`);
}
