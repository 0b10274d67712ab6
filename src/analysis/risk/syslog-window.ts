// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The `since` of a node syslog request for "the last N hours". Pure.
 *
 * PVE QUIRK: `GET /nodes/{node}/syslog?since=...` hands `since` to journalctl, which reads it as the
 * node's LOCAL wall-clock time (`YYYY-MM-DD HH:MM:SS`, no zone). A UTC wall time sent to a node
 * at -05:00 starts the window 5 h late (lines are missed); at +02:00 it starts 2 h early (lines
 * older than the window are counted). So the node's clock is read first (`GET /nodes/{node}/time`:
 * `time` = epoch seconds, `localtime` = its wall clock as epoch seconds read as UTC, `timezone`).
 *
 * Without the node's clock the zone is unknown. Every zone in use lies between UTC-12:00 and
 * UTC+14:00, so `since` is set 12 h before the UTC wall time of the window start: whatever the
 * node's zone, the answer then covers at least the whole window and at most 26 h more. The count is
 * marked approximate with that upper bound: a count of 0 is still exact (the answer is a superset of
 * the window), a positive count may include lines up to 26 h older than the window. The lines
 * themselves cannot narrow it: their time stamps carry neither zone nor year.
 */

/** `GET /nodes/{node}/time`, as far as the window needs it. */
export interface NodeClock {
  /** Epoch seconds (UTC). */
  time: number;
  /** The node's wall-clock time as epoch seconds read as if it were UTC (`timegm(localtime(time))`). */
  localtime: number;
  /** `/etc/timezone`, e.g. `Europe/Vienna`, `Etc/UTC`. */
  timezone?: string;
}

/** Hours the farthest zone lies behind UTC (UTC-12:00). */
export const MAX_HOURS_BEHIND_UTC = 12;
/** Hours the farthest zone lies ahead of UTC (UTC+14:00, Kiribati). */
export const MAX_HOURS_AHEAD_UTC = 14;

/** How the counted window differs from the one asked for, when the node's zone is unknown. */
export interface ApproximateWindow {
  /** The lines counted are at most this many hours old (and cover at least the window asked for). */
  windowMaxHours: number;
  /** Why, e.g. `time zone of node pve1 unknown (missing privilege Sys.Audit on /nodes/pve1)`. */
  why: string;
}

export interface SyslogWindow {
  /** `since` to send, in the node's local wall-clock time. */
  since: string;
  /** Set when the node's zone is unknown (see the module comment). */
  approximate?: ApproximateWindow;
}

/** `YYYY-MM-DD HH:MM:SS` of epoch seconds read as UTC. */
function wallClock(epochSec: number): string {
  return new Date(epochSec * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** Seconds the zone is ahead of UTC at `epochSec`, from the runtime's zone data; null if it does not know the zone. */
export function zoneOffsetSec(timezone: string, epochSec: number): number | null {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).formatToParts(new Date(epochSec * 1000));
  } catch {
    return null;
  }
  const p = Object.fromEntries(parts.map((x) => [x.type, Number(x.value)]));
  const wall = Date.UTC(p['year']!, p['month']! - 1, p['day']!, p['hour']!, p['minute']!, p['second']!) / 1000;
  return Number.isFinite(wall) ? wall - Math.floor(epochSec) : null;
}

/**
 * `since` for the last `windowHours` hours of a node's syslog.
 * @param clock the node's `/time` answer, or why it could not be read (`{unavailable}` text)
 * @param now our clock, used only when the node's clock is unknown
 */
export function syslogWindow(windowHours: number, clock: NodeClock | { unavailable: string }, now: Date, node: string): SyslogWindow {
  if ('unavailable' in clock) {
    const start = Math.floor(now.getTime() / 1000) - (windowHours + MAX_HOURS_BEHIND_UTC) * 3600;
    return {
      since: wallClock(start),
      approximate: {
        windowMaxHours: windowHours + MAX_HOURS_BEHIND_UTC + MAX_HOURS_AHEAD_UTC,
        why: `time zone of node ${node} unknown (${clock.unavailable})`,
      },
    };
  }
  // The node's own clock: a skewed clock on our side must not move the window.
  const start = clock.time - windowHours * 3600;
  const offsetNow = clock.localtime - clock.time;
  // The offset at the window start differs from today's when DST changed within the window; the
  // zone name gives it, if this runtime knows the zone and agrees with the node about today.
  const known = clock.timezone ? zoneOffsetSec(clock.timezone, clock.time) : null;
  const offsetAtStart = known === offsetNow ? (zoneOffsetSec(clock.timezone!, start) ?? offsetNow) : offsetNow;
  return { since: wallClock(start + offsetAtStart) };
}
