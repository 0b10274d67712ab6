// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What an admin sees for inputs that match nothing or are not what they look like: filters that
 * select no VM, a binary file named like a config, a wrong --explain value, the offline run state.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { formatIssue } from '../../../src/cli/output/issues.js';
import { captureIO } from './capture.js';
import { STORAGE_CFG, conf, makeTree } from './tree.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/etc-pve', import.meta.url));

async function cli(args: string[]) {
  const io = captureIO();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('filters that match nothing', () => {
  it('--vmid of a VM not in the tree: exit 1, names the VMID and lists the VMs that are there', async () => {
    const { code, out, err } = await cli(['audit', '--config-dir', EXAMPLES, '--vmid', '999']);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('VM 999 not found');
    expect(err).toContain('100, 101, 102, 103, 104, 200, 201, 202');
  });

  it('--node that is not in the tree: exit 1, names the node and lists the nodes that are there', async () => {
    const { code, err } = await cli(['audit', '--config-dir', EXAMPLES, '--node', 'nope']);
    expect(code).toBe(1);
    expect(err).toContain("--node nope: no such node in");
    expect(err).toContain('(nodes: pve1, pve2)');
  });

  it('--vmid on the wrong --node: says where the VM is', async () => {
    const { code, err } = await cli(['audit', '--config-dir', EXAMPLES, '--vmid', '100', '--node', 'pve2']);
    expect(code).toBe(1);
    expect(err).toContain('VM 100 not found on node pve2');
    expect(err).toContain('it is on pve1');
  });

  it('some VMIDs found, one not: exit 0, the missing one is named', async () => {
    const { code, out, err } = await cli(['audit', '--config-dir', EXAMPLES, '--vmid', '100,999']);
    expect(code).toBe(0);
    expect(out).toContain('VM 100 db1');
    expect(err).toContain('VM 999 not found');
  });
});

describe('a container config given as a VM config', () => {
  const root = makeTree({
    'storage.cfg': STORAGE_CFG,
    // pve-container's layout (as `pct config` prints it): rootfs is what every container has.
    'lxc/200.conf': 'arch: amd64\nhostname: ct200\nmemory: 512\nostype: debian\nrootfs: local-lvm:subvol-200-disk-0,size=8G\n',
    'qemu-server/101.conf': conf('ok', ['scsi0: local-lvm:vm-101-disk-0,size=8G']),
  });

  it('is an error naming the file as a container, not reported as a VM without disks; the VM is audited', async () => {
    const { code, out, err } = await cli(['audit', '--conf', `${root}/lxc/200.conf`, `${root}/qemu-server/101.conf`, '--storage-cfg', `${root}/storage.cfg`]);
    expect(code).toBe(0);
    expect(err).toMatch(/lxc\/200\.conf: error: not a VM config: an LXC container's config/);
    expect(out).not.toMatch(/^VM 200\b/m);
    expect(out).toContain('VM 101 ok');
  });

  it('alone: nothing could be audited (exit 1)', async () => {
    const { code } = await cli(['audit', '--conf', `${root}/lxc/200.conf`, '--storage-cfg', `${root}/storage.cfg`]);
    expect(code).toBe(1);
  });
});

describe('a binary file named 100.conf', () => {
  const root = makeTree({
    'storage.cfg': STORAGE_CFG,
    'nodes/pve1/qemu-server/100.conf': '\x00\x1b[2J\x7fELF\x02\x01\x01\x00garbage\x1b]0;owned\x07\nmore\x00\n',
    'nodes/pve1/qemu-server/101.conf': conf('ok', ['scsi0: local-lvm:vm-101-disk-0,size=8G']),
  });

  it('is an error naming the file as binary, not a VM; the others are audited (exit 0)', async () => {
    const { code, out, err } = await cli(['audit', '--config-dir', root]);
    expect(code).toBe(0);
    expect(err).toMatch(/100\.conf: error: not a VM config: binary data/);
    expect(out).not.toMatch(/^VM 100\b/m);
    expect(out).toContain('VM 101 ok');
  });

  it('never writes its control characters to the terminal', async () => {
    const { err, out } = await cli(['audit', '--config-dir', root]);
    // eslint-disable-next-line no-control-regex
    expect(err + out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  it('the table says that a file was not audited (the VM is not silently missing)', async () => {
    const { out } = await cli(['audit', '--config-dir', root]);
    expect(out).toMatch(/not audited: 1 VM config .*100\.conf/);
  });
});

describe('issue lines', () => {
  it('escape control characters quoted from a file', () => {
    const text = formatIssue({ source: 'a.conf', line: 3, severity: 'error', message: "unable to parse config line '\x1b[31mred\x07'" });
    expect(text).toBe("a.conf:3: error: unable to parse config line '\\x1b[31mred\\x07'");
  });
});

describe('--explain with a value that is not a VMID', () => {
  it('names --explain, not --vmid', async () => {
    const { code, err } = await cli(['audit', '--config-dir', EXAMPLES, '--explain', 'abc']);
    expect(code).toBe(2);
    expect(err).toContain("option '--explain <vmid>' argument 'abc' is invalid. 'abc' is not a VMID");
  });
});

describe('offline run state', () => {
  it('the VM header says the run state is unknown from files, not a bare "unknown" next to the risk level', async () => {
    const { out } = await cli(['audit', '--config-dir', EXAMPLES, '--vmid', '202']);
    expect(out.split('\n')[0]).toBe('VM 202 web2 · node pve2 · run state unknown (files only) · scsihw virtio-scsi-single · i440fx 11.0+pve2 -blockdev');
  });
});

describe('a config dir without storage.cfg', () => {
  const root = makeTree({ 'nodes/pve1/qemu-server/101.conf': conf('ok', ['scsi0: local-lvm:vm-101-disk-0,size=8G']) });

  it('audits the VMs, says storage.cfg is missing and what to do; the cells keep a short reason', async () => {
    const { code, out, err } = await cli(['audit', '--config-dir', root]);
    expect(code).toBe(0);
    expect(err).toContain(`${root}/storage.cfg: error: cannot read storage.cfg`);
    expect(err).toContain(`copy the cluster's /etc/pve/storage.cfg into ${root}, or pass --storage-cfg FILE`);
    expect(out).toContain('VM 101 ok');
    expect(out).not.toContain('copy the cluster');
  });
});

describe('a --config-dir that is not a copy of /etc/pve', () => {
  it('a file: one error naming it, no follow-up noise about jobs.cfg, user.cfg or storage.cfg', async () => {
    const root = makeTree({ 'storage.cfg': STORAGE_CFG });
    const { code, err } = await cli(['audit', '--config-dir', `${root}/storage.cfg`]);
    expect(code).toBe(1);
    expect(err).toContain(`${root}/storage.cfg: error: cannot read config dir: not a directory`);
    expect(err).not.toMatch(/jobs\.cfg|user\.cfg/);
  });

  it('an empty directory: says no VM configs were found and where they are expected, nothing about storage.cfg', async () => {
    const root = makeTree({ 'README': 'empty' });
    const { code, err } = await cli(['audit', '--config-dir', root]);
    expect(code).toBe(1);
    expect(err).toContain('no VM configs found: expected nodes/<node>/qemu-server/<vmid>.conf or qemu-server/<vmid>.conf');
    expect(err).not.toContain('storage.cfg:');
  });
});

describe('--conf', () => {
  const root = makeTree({ 'storage.cfg': STORAGE_CFG, '100.conf': conf('a', ['scsi0: local-lvm:vm-100-disk-0']) });

  it('the same file twice (also as another path to it) is audited once', async () => {
    const { code, out } = await cli(['audit', '--conf', `${root}/100.conf`, `${root}/./100.conf`, '--storage-cfg', `${root}/storage.cfg`]);
    expect(code).toBe(0);
    expect(out.match(/^VM 100 /gm)).toHaveLength(1);
  });

  it('--vmid not among the files: says so once, without a made-up source', async () => {
    const { code, err } = await cli(['audit', '--conf', `${root}/100.conf`, '--storage-cfg', `${root}/storage.cfg`, '--vmid', '999']);
    expect(code).toBe(1);
    expect(err).toContain('pve-dataplane: error: VM 999 not found in the --conf files (VMs there: 100)');
  });
});

describe('what to do, in the message', () => {
  it('a missing --config-dir says to give /etc/pve or a copy of it', async () => {
    const { code, err } = await cli(['audit', '--config-dir', '/nonexistent/etc-pve']);
    expect(code).toBe(1);
    expect(err).toContain('/nonexistent/etc-pve: error: cannot read config dir: no such file or directory; give --config-dir /etc/pve on a node, or the path of a copy of it');
  });

  it('--qemu-version banana says where the version is found', async () => {
    const { code, err } = await cli(['audit', '--config-dir', EXAMPLES, '--qemu-version', 'banana']);
    expect(code).toBe(2);
    expect(err).toContain("--qemu-version: 'banana' is not a version such as 11.0 or 9.2.0 (on the node: pveversion -v | grep pve-qemu-kvm)");
  });
});

describe('config files not named <vmid>.conf in a tree', () => {
  it('are named in a warning (pmxcfs only knows <vmid>.conf), not silently skipped', async () => {
    const root = makeTree({
      'storage.cfg': STORAGE_CFG,
      'nodes/pve1/qemu-server/101.conf': conf('ok', ['scsi0: local-lvm:vm-101-disk-0']),
      'nodes/pve1/qemu-server/web.conf': conf('web', ['scsi0: local-lvm:vm-102-disk-0']),
      'nodes/pve1/qemu-server/101.conf.bak': conf('old', []),
    });
    const { code, out, err } = await cli(['audit', '--config-dir', root]);
    expect(code).toBe(0);
    expect(out).toContain('VM 101 ok');
    expect(err).toContain(`${root}/nodes/pve1/qemu-server/web.conf: warning: not audited: PVE reads only <vmid>.conf here; rename it (e.g. 102.conf) or pass it with --conf`);
    expect(err).not.toContain('101.conf.bak');
  });
});

describe('--node on a flat copy (qemu-server/ only, no node named anywhere)', () => {
  it('says the tree does not name nodes, and how to give it one', async () => {
    const root = makeTree({ 'storage.cfg': STORAGE_CFG, 'qemu-server/101.conf': conf('ok', ['scsi0: local-lvm:vm-101-disk-0']) });
    const { code, err } = await cli(['audit', '--config-dir', root, '--node', 'pve1']);
    expect(code).toBe(1);
    expect(err).toContain(`--node pve1: ${root} does not say which node its VMs are on (no nodes/<node>/qemu-server/, .vmlist or ../hostname): leave --node out, or copy the configs to nodes/pve1/qemu-server/`);
  });
});

describe('issue lines quoting a huge value', () => {
  it('shorten the quote and say how long it was', () => {
    const text = formatIssue({ source: 'a.conf', line: 1, severity: 'error', key: 'scsi0', message: `file: unable to parse volume ID '${'x'.repeat(5000)}'` });
    expect(text.length).toBeLessThan(300);
    expect(text).toContain(`'${'x'.repeat(80)}… (5000 characters)'`);
  });
});

describe('a binary storage.cfg', () => {
  it('is one error naming it as binary (not a warning per line); the VMs are audited with unknown storage types', async () => {
    const root = makeTree({
      'storage.cfg': '\x00\x01\x02binary\x00\nmore\x00\x1b[2J\n'.repeat(20),
      'nodes/pve1/qemu-server/101.conf': conf('ok', ['scsi0: local-lvm:vm-101-disk-0']),
    });
    const { code, out, err } = await cli(['audit', '--config-dir', root]);
    expect(code).toBe(0);
    expect(out).toContain('VM 101 ok');
    const lines = err.trimEnd().split('\n').filter((l) => l.includes('storage.cfg'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${root}/storage.cfg: error: cannot read storage.cfg, so every storage counts as unknown: binary data`);
  });
});

describe('--explain of a VM the filters left out', () => {
  it('says which VMs were audited and that --vmid/--node may have left it out', async () => {
    const { code, err } = await cli(['audit', '--config-dir', EXAMPLES, '--vmid', '101', '--explain', '100']);
    expect(code).toBe(1);
    expect(err).toContain('VM 100 is not among the audited configs (1 VM audited: 101); --vmid or --node may have left it out');
  });
});
