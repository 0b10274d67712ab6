// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The command table. Each command is declared here (name, options, help) and lives in
 * `./commands/<name>.ts`, loaded only when it runs. A command module exports
 * `run(rawOptions, io): Promise<exitCode>` and a data-returning function for tests and other callers.
 *
 * To add a command: one `defineCommand(program, io, {...})` entry below.
 */
import { type Command, CommanderError, Option } from 'commander';
import { ExitError, UsageError } from './errors.js';
import type { CliIO } from './io.js';
import { DEFAULTS, EnvCommand, type OptionOrigin, onlineOptions, options as o } from './options.js';
import pkg from '../../package.json' with { type: 'json' };

/**
 * What a command module must export: `run` gets the typed option values (parsed by the kinds of
 * ./options.ts) and, for messages, where each came from.
 */
export interface CommandModule {
  run(options: never, io: CliIO, origin: OptionOrigin): Promise<number>;
}

interface CommandSpec {
  name: string;
  summary: string;
  /** Extra help text after the options (examples). */
  help?: string;
  options: Option[];
  load: () => Promise<CommandModule>;
}

function defineCommand(program: Command, io: CliIO, spec: CommandSpec, setExit: (code: number) => void): void {
  const cmd = program.command(spec.name).description(spec.summary);
  for (const o of spec.options) cmd.addOption(o);
  if (spec.help) cmd.addHelpText('after', spec.help);
  cmd.action(async (options: Record<string, unknown>, self: EnvCommand) => {
    const mod = await spec.load();
    setExit(await mod.run(options as never, io, self.originOf()));
  });
}

const AUDIT_HELP = `
Examples:
  pve-dataplane audit --config-dir /etc/pve
  pve-dataplane audit --config-dir ./etc-pve-copy --qemu-version 10.1 --format json
  pve-dataplane audit --conf 100.conf 101.conf --storage-cfg storage.cfg
  pve-dataplane audit --config-dir ./etc-pve-copy --explain 100
  pve-dataplane audit --config-dir examples/etc-pve        (the sample tree of this repository)

The table wraps to the terminal width (piped: COLUMNS, else 120); json and csv are unwrapped.
Exit status: 0 when at least one VM was audited (config problems are listed on stderr),
1 when nothing could be audited (or the API refused), 2 on usage errors.`;

/** Builds the program; `setExit` receives the exit code of the command that ran. */
export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new EnvCommand('pve-dataplane', io.env)
    .description('Audit and fix Proxmox VE VM disk dataplane settings (virtio-scsi-single, iothread, aio)')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });

  defineCommand(
    program,
    io,
    {
      name: 'audit',
      summary: 'show, for every VM disk, the controller, IO thread, aio and cache mode QEMU really uses',
      help: AUDIT_HELP,
      options: [
        new Option('--config-dir <dir>', 'a copy of /etc/pve (storage.cfg, nodes/*/qemu-server/*.conf); default /etc/pve on a node'),
        new Option('--conf <file...>', 'single VM config files (<vmid>.conf)'),
        new Option('--storage-cfg <file>', 'storage.cfg for --conf (or to override the one in --config-dir)'),
        new Option('--qemu-version <x.y[.z]>', "the node's installed QEMU (pve-qemu-kvm); default 11.0, and the report says so"),
        new Option(
          '--pve-qemu-version <version|node=version,...>',
          'installed pve-qemu-kvm package, e.g. 10.1.2-4 (every node) or pve1=10.1.2-4,pve2=10.2.1-1, for the version-aware risk; online it overrides apt/versions; without it offline those rules are not checked',
        ),
        o.vmids('--vmid <list>', 'only these VMIDs, e.g. 100,101'),
        new Option('--node <node>', 'only VMs of this node (with --conf: the node the files belong to)'),
        o.format(['table', 'json', 'csv'], 'table'),
        o.vmid('--explain <vmid>', 'every fact of one VM, with the reasons'),
        o.pve('online: PVE API URL, e.g. https://pve1:8006 (offline runs ignore PVE_URL)'),
        o.tokenFile('online: file holding the API token USER@REALM!ID=SECRET (env PVE_TOKEN)'),
        o.fingerprint('online: pinned TLS certificate fingerprint'),
        o.concurrency('online: parallel API requests'),
        o.insecure('online: do not verify the TLS certificate'),
        new Option('--no-evidence', 'online: skip the risk evidence (node syslog, rrddata, node CPU, backup jobs, snapshots); those parts are reported unknown'),
      ],
      load: () => import('./commands/audit.js'),
    },
    setExit,
  );

  defineCommand(
    program,
    io,
    {
      name: 'simulate',
      summary: 'run an in-memory PVE API simulator (prints one JSON line {url, token, fingerprint} when ready)',
      help: `
Examples:
  pve-dataplane simulate --port 8006 --vms 200 --seed 1
  pve-dataplane simulate --port 0 --vms 1000 --latency-ms 15 --http`,
      options: [
        o.port(DEFAULTS.simulatorPort),
        o.host(),
        o.count('--vms <n>', 'number of QEMU VMs', 0, 100_000, DEFAULTS.simulatorVms),
        o.count('--nodes <n>', 'number of nodes', 1, 64, DEFAULTS.simulatorNodes),
        o.seed('seed of the generated fleet (same seed, same cluster)'),
        o.number('--latency-ms <ms>', 'delay before every answer'),
        new Option('--http', 'plain HTTP instead of HTTPS with a self-signed certificate'),
        new Option('--pve-version <x.y>', 'answer like this PVE release').choices(['8.2', '9.1']).default(DEFAULTS.pveVersion),
        new Option('--pve-qemu-version <version|node=version,...>', 'installed pve-qemu-kvm apt/versions reports, e.g. 10.1.2-4 or pve1=10.1.2-4,pve2=11.0.0-2 (default: the release\'s)'),
        o.number('--auth-delay-ms <ms>', 'delay of 401 answers (PVE: 3000)'),
        o.number('--time-scale <f>', 'real ms per simulated ms for tasks such as guest shutdowns (default 0.1)'),
        new Option('--faults <file>', 'fault plan JSON {"rules":[{"path":"/nodes/*/qemu/*/pending","kind":"reset","rate":0.1}]}'),
        new Option('--log-requests', 'log every request on stderr'),
      ],
      load: () => import('./commands/simulate.js'),
    },
    setExit,
  );


  defineCommand(
    program,
    io,
    {
      name: 'serve',
      summary: 'serve the web panel and forward the audit reads it makes to PVE, with a token kept here or each user\'s own PVE login',
      help: `
Examples:
  pve-dataplane serve --pve https://pve1:8006 --token-file tok --fingerprint AA:BB:... --read-only
  pve-dataplane serve --pve https://pve1:8006 --fingerprint AA:BB:... --login \\
      --host 0.0.0.0 --allowed-host dataplane.example.com --tls-cert cert.pem --tls-key key.pem

Token mode listens on loopback only. Login mode (--login): users sign in with their own PVE user,
realm, password (and TOTP); PVE's ACLs decide what each one sees and changes. Only the reads of
the audit are forwarded (others: 403 DP_PATH_NOT_ALLOWED), never a write; with --read-only (or
DP_READ_ONLY=yes) the shim's jobs are refused too (403 DP_AUDIT_READ_ONLY). PVE is checked at
start-up (TLS pin, token or login endpoint): serve refuses to start when it cannot reach it.`,
      options: [
        ...onlineOptions(),
        o.readOnly(),
        o.port(DEFAULTS.panelPort),
        o.host('listen address; beyond loopback needs --login, --allowed-host and --tls-cert/--tls-key'),
        new Option('--login', 'PVE login mode: each user signs in with their own PVE account (no token)'),
        new Option('--allowed-host <name...>', 'host names users reach the shim by (DNS-rebinding guard; loopback names always)'),
        new Option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)'),
        new Option('--tls-key <file>', 'private key of --tls-cert (PEM)'),
        o.panelDir(),
      ],
      load: () => import('./commands/serve.js'),
    },
    setExit,
  );
  defineCommand(
    program,
    io,
    {
      name: 'demo',
      summary: 'the web panel on a built-in simulated PVE cluster (simulator + shim in one process)',
      help: `
Examples:
  pve-dataplane demo
  pve-dataplane demo --port 0 --vms 200 --read-only`,
      options: [
        o.port(DEFAULTS.panelPort, 'TCP port of the panel, 0 = any free port'),
        o.host(),
        o.count('--vms <n>', 'number of simulated VMs', 0, 10_000, DEFAULTS.demoVms),
        o.seed(),
        o.readOnly('the shim refuses every write before it reaches the simulator'),
        new Option('--login', 'PVE login mode: sign in as root@pam/simulator, audit@pve/audit, operator@pve/operator'),
        o.panelDir(),
      ],
      load: () => import('./commands/demo.js'),
    },
    setExit,
  );


  defineCommand(
    program,
    io,
    {
      name: 'plan',
      summary: 'show what converting to virtio-scsi-single + iothread + aio would change, per VM, with its gates (writes nothing)',
      help: `
Examples:
  pve-dataplane plan --pve https://pve1:8006 --token-file tok --node pve1
  pve-dataplane plan --pve https://pve1:8006 --token-file tok --all --min-risk warning --output plan.json`,
      options: [
        ...onlineOptions(),
        new Option('--node <node>', 'the VMs of this node'),
        o.vmids(),
        new Option('--all', 'every VM of the cluster'),
        new Option('--min-risk <level>', 'only VMs at this risk level or worse').choices(['critical', 'warning', 'info', 'ok']),
        new Option('--aio <mode>', 'aio written on every scsi/virtio disk').choices(['threads', 'io_uring', 'native', 'keep']).default(DEFAULTS.aio),
        new Option('--convert-sata', 'move sata data disks to scsi (behind gates)'),
        new Option('--convert-ide', 'move ide data disks to scsi (behind gates)'),
        new Option('--windows-staged', 'Windows boot disks: plan the staged driver path instead of blocking'),
        o.gateOverrides(),
        new Option('--output <file>', 'write the plan (JSON) for apply --from-plan'),
        o.format(['table', 'json'], 'table'),
        o.concurrency(),
      ],
      load: () => import('./commands/plan.js'),
    },
    setExit,
  );
  defineCommand(
    program,
    io,
    {
      name: 'apply',
      summary: 'execute a saved plan: one digest-guarded write per VM, journalled, then the reboot policy',
      help: `
Examples:
  pve-dataplane apply --pve https://pve1:8006 --token-file tok --from-plan plan.json --reboot now --yes

Re-running the same command resumes from its journal. Exit status: 0 done, 1 some VM failed,
2 usage (or --yes missing), 3 read-only mode.`,
      options: [
        ...onlineOptions(),
        new Option('--from-plan <file>', 'the plan written by plan --output'),
        o.reboot(),
        o.vmids('--force-reboot <vmids>', 'reboot or start these VMs even into a config QEMU refuses (by default such a VM keeps running, is named, and the exit status is 1)'),
        o.concurrency('VMs worked on at once'),
        new Option('--journal <file>', 'journal file (default: under the state directory, named after the plan)'),
        o.vmids('--vmid <list>', 'only these VMs of the plan'),
        o.vmids('--confirm-staged <list>', 'VMs whose staged-path guest check you confirmed by hand'),
        o.seconds('--shutdown-timeout <sec>', 'shutdown timeout PVE applies for the reboot'),
        o.readOnly('refuse to write'),
        o.yes(),
      ],
      load: () => import('./commands/apply.js'),
    },
    setExit,
  );
  defineCommand(
    program,
    io,
    {
      name: 'rollback',
      summary: 'restore the exact previous values from an apply journal (digest-guarded)',
      options: [
        ...onlineOptions(),
        new Option('--journal <file>', 'the journal apply printed'),
        o.vmids('--vmid <list>', 'only these VMs'),
        o.reboot(),
        o.vmids('--force-reboot <vmids>', 'reboot or start these VMs even into a config QEMU refuses (by default such a VM keeps running, is named, and the exit status is 1)'),
        o.concurrency('VMs worked on at once'),
        o.readOnly('refuse to write'),
        o.yes(),
      ],
      load: () => import('./commands/rollback.js'),
    },
    setExit,
  );

  return program;
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code. Usage errors give
 * 2, `ExitError`s their code; anything else is a bug and propagates.
 */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 2;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message (or the help/version text).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      io.stderr(`pve-dataplane: ${err.message}\n(add --help for usage)\n`);
      return err.code;
    }
    if (err instanceof ExitError) {
      if (err.message) io.stderr(`pve-dataplane: ${err.message}\n`);
      return err.code;
    }
    throw err;
  }
}
