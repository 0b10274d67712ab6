#!/usr/bin/env node
// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Runs Proxmox VE's own web UI, built from your checkouts of pve-manager and
 * proxmox-widget-toolkit, against the built-in simulator, with pve-dataplane's tabs installed by
 * the package's own installer (packaging/pve-dataplane-ui) into pve-manager's own index.html.tpl.
 * A developer's check that the glue works in the real GUI, not only in the stand-in the tests use.
 *
 *   npm run build
 *   node scripts/pve-gui.mjs --pve-manager ../pve-manager --widget-toolkit ../proxmox-widget-toolkit
 *   # open the printed URL, log in as root@pam / simulator (audit@pve / audit: read-only)
 *
 * Built as the upstream Makefiles do it: pvemanagerlib.js and proxmoxlib.js are their JSSRC
 * lists concatenated. Two files need tools this machine may lack and are replaced by stand-ins:
 * OnlineHelpInfo.js (asciidoc-pve: an empty help map) and marked.js (Debian's libjs-marked:
 * Markdown notes shown as plain text). ExtJS is npm's extjs-gpl 6.2 (PVE ships 7.0; the glue uses
 * only API both have). Nothing from upstream is copied into this repository: everything is read
 * from the checkouts you name and written to a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createPageServer, spawnSimulator } from './dev-server.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: node scripts/pve-gui.mjs --pve-manager DIR --widget-toolkit DIR [--port 8006] [--vms 60] [--seed 1]';

function fail(message) {
  console.error(`pve-gui: ${message}\n${USAGE}`);
  process.exit(2);
}

const { values: opt } = parseArgs({
  options: {
    'pve-manager': { type: 'string' },
    'widget-toolkit': { type: 'string' },
    port: { type: 'string', default: '8006' },
    vms: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  console.log(USAGE);
  process.exit(0);
}
const pm = opt['pve-manager'] ? resolve(opt['pve-manager']) : fail('--pve-manager is required (a clone of git://git.proxmox.com/git/pve-manager.git)');
const wt = opt['widget-toolkit'] ? resolve(opt['widget-toolkit']) : fail('--widget-toolkit is required (a clone of proxmox-widget-toolkit)');
for (const [dir, file] of [
  [pm, 'www/manager6/Makefile'],
  [pm, 'www/index.html.tpl'],
  [wt, 'src/Makefile'],
]) {
  if (!existsSync(join(dir, file))) fail(`${join(dir, file)}: missing; is ${dir} the right checkout?`);
}
const bundle = join(ROOT, 'dist/pve-ui/pve-dataplane-ui.js');
if (!existsSync(bundle)) fail(`${bundle}: missing; run npm run build first`);

/** The file list of a Makefile variable (`JSSRC= a.js \ b.js …`), in order. */
function makeList(makefile, name) {
  const text = readFileSync(makefile, 'utf8').replace(/\\\n/g, ' ');
  const line = new RegExp(`^${name}\\s*[:?]?=(.*)$`, 'm').exec(text);
  if (!line) fail(`${makefile}: no ${name}= list; this checkout's layout is not one this script knows`);
  return line[1].split(/\s+/).filter((f) => f.endsWith('.js'));
}

/** `cat` of the listed files, as the Makefile's rule does. */
function concat(dir, files, prefix = '') {
  return prefix + files.map((f) => readFileSync(join(dir, f), 'utf8')).join('');
}

const work = mkdtempSync(join(tmpdir(), 'pve-gui-'));
const lib = join(work, 'lib');
mkdirSync(lib);
writeFileSync(join(lib, 'pvemanagerlib.js'), concat(join(pm, 'www/manager6'), makeList(join(pm, 'www/manager6/Makefile'), 'JSSRC'), 'const proxmoxOnlineHelpInfo = {};\n'));
writeFileSync(
  join(lib, 'proxmoxlib.js'),
  concat(join(wt, 'src'), makeList(join(wt, 'src/Makefile'), 'JSSRC')) + '\nvar marked = { parse: (s) => s, use() {}, setOptions() {} };\n',
);

// The package's installer, on a copy of a node's files: the line goes where it goes on a real node.
const node = join(work, 'root');
mkdirSync(join(node, 'usr/share/pve-manager/js'), { recursive: true });
mkdirSync(join(node, 'usr/share/pve-dataplane'), { recursive: true });
copyFileSync(join(pm, 'www/index.html.tpl'), join(node, 'usr/share/pve-manager/index.html.tpl'));
copyFileSync(bundle, join(node, 'usr/share/pve-dataplane/pve-dataplane-ui.js'));
const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
writeFileSync(join(node, 'usr/share/pve-dataplane/VERSION'), `${version}\n`);
execFileSync('sh', [join(ROOT, 'packaging/pve-dataplane-ui'), '--root', node, 'install'], { stdio: 'inherit' });
const template = readFileSync(join(node, 'usr/share/pve-manager/index.html.tpl'), 'utf8');

/**
 * The part of Template Toolkit index.html.tpl uses: `[% var %]`, `IF a`, `IF a != 'x'`, `ELSE`,
 * `END`, with `-` whitespace markers. Unknown variables render empty.
 */
function renderTemplate(text, vars) {
  const parts = text.split(/\[%-?\s*(.*?)\s*-?%\]/s);
  const stack = [{ on: true }];
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const on = stack.every((s) => s.on);
    if (i % 2 === 0) {
      if (on) out += parts[i];
      continue;
    }
    const tag = parts[i];
    const cond = /^IF\s+(\w+)(?:\s*(!=|==)\s*'([^']*)')?$/.exec(tag);
    if (cond) {
      const v = vars[cond[1]];
      const truth = cond[2] === '!=' ? v !== cond[3] : cond[2] === '==' ? v === cond[3] : Boolean(v);
      stack.push({ on: truth, taken: truth });
    } else if (tag === 'ELSE') {
      const top = stack.at(-1);
      top.on = !top.taken;
    } else if (tag === 'END') {
      stack.pop();
    } else if (on) {
      out += String(vars[tag] ?? '');
    }
  }
  return out;
}

const page = renderTemplate(template, { nodename: 'pve1', lang: 'en', theme: 'crisp', langfile: '', debug: '', version, wtversion: version, arch: 'x86_64', username: '', token: '', consenttext: '' });

// The simulator, as `pve-dataplane simulate --http` (the same the PVE-UI browser tests start).
const sim = spawnSimulator(['--vms', opt.vms, '--seed', opt.seed], { root: ROOT, stderr: 'inherit' });
const simUrl = await sim.url;

const EXT = join(ROOT, 'node_modules/extjs-gpl/build');
/** URL prefix → directory (or file), as pveproxy maps them (PVE/Service/pveproxy.pm). */
const DIRS = [
  ['/pve2/ext6/theme-crisp/', join(EXT, 'classic/theme-crisp/')],
  ['/pve2/ext6/crisp/', join(EXT, 'packages/charts/classic/crisp/')],
  ['/pve2/ext6/charts', join(EXT, 'packages/charts/classic/charts')],
  ['/pve2/ext6/locale/', join(EXT, 'classic/locale/')],
  ['/pve2/ext6/', `${EXT}/`],
  ['/pve2/js/pve-dataplane-ui.js', join(node, 'usr/share/pve-manager/js/pve-dataplane-ui.js')],
  ['/pve2/js/pvemanagerlib.js', join(lib, 'pvemanagerlib.js')],
  ['/proxmoxlib.js', join(lib, 'proxmoxlib.js')],
  ['/pve2/css/', join(pm, 'www/css/')],
  ['/pve2/images/', join(pm, 'www/images/')],
  ['/pwt/css/', join(wt, 'src/css/')],
  ['/pwt/images/', join(wt, 'src/images/')],
];
const server = createPageServer({ page, api2: () => simUrl, routes: DIRS });
server.listen(Number(opt.port), '127.0.0.1', () => {
  console.log(`PVE web UI (pve-manager from ${pm}) with pve-dataplane ${version}: http://127.0.0.1:${server.address().port}/`);
  console.log('log in as root@pam / simulator, operator@pve / operator or audit@pve / audit; Ctrl-C stops');
});
const stop = () => {
  sim.stop();
  server.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
