// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every kind of CLI option value, on commander's own features: each kind is an `Option` with its
 * `argParser` (one validator per kind of value, throwing commander's `InvalidArgumentError`, which
 * commander turns into "option '--port <port>' argument 'abc' is invalid. …", exit 2), its
 * `.choices()`, its `.env()` and its default (one place per default, `DEFAULTS`). Commands receive
 * typed values and never parse strings themselves.
 *
 * Environment variables go through the same parser as the flag: `DP_READ_ONLY=maybe` is a usage
 * error naming DP_READ_ONLY, never "writable". The environment is the `CliIO`'s (tests inject one);
 * `EnvCommand` makes commander read it instead of `process.env`.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { GATES, overridableCodes } from '../migration/gates.js';

/** Every default of the CLI, in one place. */
export const DEFAULTS = {
  /** The panel of `serve` and `demo`. */
  panelPort: 8080,
  /** `simulate` listens where PVE's API does. */
  simulatorPort: 8006,
  /** Listen on loopback unless told otherwise: the shim holds an API token. */
  host: '127.0.0.1',
  /** Parallel API requests / VMs worked on at once (pveproxy runs 3 workers per node by default). */
  concurrency: 4,
  reboot: 'never',
  aio: 'threads',
  demoVms: 60,
  simulatorVms: 200,
  simulatorNodes: 3,
  seed: 1,
  pveVersion: '9.1',
} as const;

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

/**
 * The one boolean reader of the CLI (flags given a value and environment variables alike):
 * 1/true/yes/on and 0/false/no/off in any case; anything else is refused, never read as false.
 */
export function parseBoolean(text: string): boolean {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new InvalidArgumentError(`expected ${TRUE_WORDS.join('/')} or ${FALSE_WORDS.join('/')} (any case)`);
}

/** A whole number from `min` to `max` (decimal digits only: no sign, exponent or hex). */
export function wholeNumber(min: number, max: number): (text: string) => number {
  return (text) => {
    if (!/^\d+$/.test(text.trim()) || Number(text) < min || Number(text) > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return Number(text);
  };
}

/** A number >= 0 (milliseconds, factors): `15`, `0.5`. */
export function nonNegativeNumber(text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) throw new InvalidArgumentError('expected a number >= 0 such as 15 or 0.5');
  return Number(text);
}

/** Lowest and highest VMID PVE accepts (pve-common PVE/JSONSchema.pm `pve-vmid`). */
const VMID_MIN = 100;
const VMID_MAX = 999_999_999;

/** `100,101 102` → [100, 101, 102]. */
export function parseVmids(text: string): number[] {
  const parts = text.split(/[\s,]+/).filter((p) => p !== '');
  if (parts.length === 0) throw new InvalidArgumentError('expected VMIDs such as 100,101');
  return parts.map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < VMID_MIN || Number(p) > VMID_MAX) {
      throw new InvalidArgumentError(`'${p}' is not a VMID (a whole number from ${VMID_MIN} to ${VMID_MAX})`);
    }
    return Number(p);
  });
}

/** One VMID. */
export function parseVmid(text: string): number {
  const ids = parseVmids(text);
  if (ids.length !== 1) throw new InvalidArgumentError('expected one VMID');
  return ids[0]!;
}

/**
 * Gate codes to override (`A,B` or repeated), each checked: a typo must not silently leave the gate
 * in place (or look like it was overridden).
 */
export function collectGateCodes(text: string, previous: string[] | undefined): string[] {
  const codes = text.split(',').map((c) => c.trim()).filter(Boolean);
  const can = overridableCodes().join(', ');
  for (const code of codes) {
    if (!(code in GATES)) throw new InvalidArgumentError(`${code}: no such gate code; codes that can be overridden: ${can}`);
    if (!overridableCodes().includes(code)) throw new InvalidArgumentError(`${code}: this gate cannot be overridden (codes that can: ${can})`);
  }
  return [...(previous ?? []), ...codes];
}

/** A boolean switch that an environment variable can also set (`--read-only` / DP_READ_ONLY). */
function envSwitch(flags: string, description: string, envVar: string): Option {
  // The flag alone means true (commander hands the preset to the parser); the variable's value goes
  // through the same parser, so every spelling is read the same everywhere.
  return new Option(flags, description).env(envVar).preset('true').argParser(parseBoolean);
}

/** The option kinds of the CLI. Each call makes a fresh `Option` (commander owns it once added). */
export const options = {
  pve: (description = 'PVE API URL, e.g. https://pve1:8006') => new Option('--pve <url>', description).env('PVE_URL'),
  tokenFile: (description = 'file holding the API token USER@REALM!ID=SECRET (env PVE_TOKEN: the token itself)') =>
    new Option('--token-file <file>', description),
  fingerprint: (description = 'pinned TLS certificate fingerprint') => new Option('--fingerprint <sha256>', description).env('PVE_FINGERPRINT'),
  insecure: (description = 'do not verify the TLS certificate') => new Option('--insecure', description),
  readOnly: (description = 'refuse every write') => envSwitch('--read-only', description, 'DP_READ_ONLY'),
  yes: () => new Option('--yes', 'really write'),
  port: (fallback: number, description = 'TCP port, 0 = any free port') =>
    new Option('--port <port>', description).argParser(wholeNumber(0, 65535)).default(fallback),
  host: (description = 'listen address') => new Option('--host <addr>', description).default(DEFAULTS.host),
  panelDir: () => new Option('--panel-dir <dir>', 'built panel directory (default: dist/panel of this installation)'),
  concurrency: (description = 'parallel API requests') =>
    new Option('--concurrency <n>', description).argParser(wholeNumber(1, 64)).default(DEFAULTS.concurrency),
  vmids: (flags = '--vmid <list>', description = 'these VMIDs, e.g. 101,102') => new Option(flags, description).argParser(parseVmids),
  vmid: (flags: string, description: string) => new Option(flags, description).argParser(parseVmid),
  count: (flags: string, description: string, min: number, max: number, fallback?: number) => {
    const o = new Option(flags, description).argParser(wholeNumber(min, max));
    return fallback === undefined ? o : o.default(fallback);
  },
  number: (flags: string, description: string) => new Option(flags, description).argParser(nonNegativeNumber),
  seconds: (flags: string, description: string) => new Option(flags, description).argParser(wholeNumber(0, 86_400)),
  seed: (description = 'seed of the simulated cluster (same seed, same cluster)') =>
    new Option('--seed <n>', description).argParser(wholeNumber(0, 2 ** 31 - 1)).default(DEFAULTS.seed),
  reboot: () =>
    new Option('--reboot <policy>', 'never: leave changes pending; now: API reboot and verify; if-stopped: stopped VMs only')
      .choices(['never', 'now', 'if-stopped'])
      .default(DEFAULTS.reboot),
  format: <F extends string>(formats: readonly F[], fallback: F) =>
    new Option('--format <format>', 'output format').choices(formats).default(fallback),
  gateOverrides: () =>
    new Option('--override <codes...>', 'override gates by code, e.g. PASSTHROUGH_ROOT_ONLY').argParser(collectGateCodes),
};

/** Options every online command shares. */
export function onlineOptions(): Option[] {
  return [options.pve(), options.tokenFile(), options.fingerprint(), options.insecure()];
}

/** How an option got its value, for messages: `--read-only`, `DP_READ_ONLY=yes`, or undefined (default). */
export type OptionOrigin = (attribute: string) => string | undefined;

/**
 * A `Command` whose `.env()` options read `env` (the CliIO's) rather than `process.env`. An empty
 * variable counts as unset (`DP_READ_ONLY= pve-dataplane …`).
 */
export class EnvCommand extends Command {
  private readonly envSource: Record<string, string | undefined>;

  constructor(name: string | undefined, env: Record<string, string | undefined>) {
    super(name);
    this.envSource = env;
  }

  override createCommand(name?: string): Command {
    return new EnvCommand(name, this.envSource);
  }

  /**
   * Replaces commander's own pass over `process.env` (commander 14 `Command._parseOptionsEnv`, run
   * after the command line is parsed): same precedence (command line > environment > default), but
   * the variable's value always reaches the option's parser, also for switches, where commander
   * would take any value, even "0", as on.
   */
  _parseOptionsEnv(): void {
    for (const option of this.options) {
      const value = option.envVar ? this.envSource[option.envVar] : undefined;
      if (value === undefined || value === '') continue;
      const key = option.attributeName();
      const source = this.getOptionValueSource(key);
      if (this.getOptionValue(key) === undefined || source === 'default' || source === 'config' || source === 'env') {
        // Commander's own event for "value from the environment" (Command is an EventEmitter at run time).
        (this as unknown as { emit(event: string, value: string): boolean }).emit(`optionEnv:${option.name()}`, value);
      }
    }
  }

  /** Where each option's value came from (see `OptionOrigin`). */
  originOf(): OptionOrigin {
    return (attribute) => {
      const option = this.options.find((o) => o.attributeName() === attribute);
      if (!option) return undefined;
      const source = this.getOptionValueSource(attribute);
      if (source === 'env' && option.envVar) return `${option.envVar}=${this.envSource[option.envVar]}`;
      if (source === 'cli') return option.long ?? option.flags;
      return undefined;
    };
  }
}
