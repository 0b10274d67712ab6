// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A node's local time. journalctl prints syslog times and reads `--since`/`--until` in the
 * node's time zone, so `GET /nodes/{n}/syslog?since=...` means local time (docs/how-qemu-server-decides.md#api). Zones:
 * `UTC`, fixed offsets (`+02:00`, `-05:30`) or IANA names (DST through Intl).
 */

export interface LocalTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function fixedOffset(tz: string): number | null {
  if (tz === 'UTC' || tz === 'Etc/UTC' || tz === 'Z') return 0;
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(tz);
  if (!m) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Throws a message naming the option when `tz` is no zone the simulator understands. */
export function checkTimezone(tz: string, where: string): void {
  if (fixedOffset(tz) !== null) return;
  try {
    formatter(tz);
  } catch {
    throw new Error(`${where}: unknown time zone '${tz}' (use UTC, +HH:MM / -HH:MM, or an IANA name such as Europe/Vienna)`);
  }
}

/** Minutes the zone is ahead of UTC at that instant (epoch ms). */
export function utcOffsetMinutes(tz: string, epochMs: number): number {
  const fixed = fixedOffset(tz);
  if (fixed !== null) return fixed;
  const p = Object.fromEntries(formatter(tz).formatToParts(new Date(epochMs)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return Math.round((asUtc - Math.floor(epochMs / 1000) * 1000) / 60000);
}

/** Wall-clock time of the node at epoch seconds `sec`. */
export function localTime(tz: string, sec: number): LocalTime {
  const d = new Date((sec + utcOffsetMinutes(tz, sec * 1000) * 60) * 1000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}

/** Epoch seconds of a wall-clock time in the zone (the earlier one when DST repeats an hour). */
export function epochOfLocal(tz: string, t: LocalTime): number {
  const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) / 1000;
  // Two passes: the offset at the first guess, then at the corrected instant.
  let guess = wall - utcOffsetMinutes(tz, wall * 1000) * 60;
  guess = wall - utcOffsetMinutes(tz, guess * 1000) * 60;
  return guess;
}

/** journalctl's `YYYY-MM-DD[ HH:MM[:SS]]` in the node's zone -> epoch seconds. */
export function parseJournalTime(tz: string, text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text)!;
  return epochOfLocal(tz, {
    year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0),
  });
}

/** The name `/etc/timezone` holds (`GET /nodes/{n}/time`): IANA as given, `Etc/UTC`, `Etc/GMT-2` for +02:00. */
export function zoneName(tz: string): string {
  const fixed = fixedOffset(tz);
  if (fixed === null) return tz;
  if (fixed === 0) return 'Etc/UTC';
  // POSIX-style Etc zones have the sign inverted; half-hour offsets have no Etc name.
  return fixed % 60 === 0 ? `Etc/GMT${fixed > 0 ? '-' : '+'}${Math.abs(fixed / 60)}` : tz;
}
