// SPDX-License-Identifier: AGPL-3.0-or-later
/** ANSI styling for terminal output; every function is the identity when colours are off. */
export interface Style {
  /** A value that differs from what the config suggests (ignored iothread, non-default aio). */
  marked(text: string): string;
  /** A value that changes at the next cold start (PVE shows pending values in orange). */
  pending(text: string): string;
  /** Something that stops the VM from starting. */
  error(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const wrap = (open: string, close: string) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;

export function makeStyle(color: boolean): Style {
  if (!color) {
    const id = (t: string) => t;
    return { marked: id, pending: id, error: id, dim: id, bold: id };
  }
  return {
    marked: wrap('33', '39'),
    pending: wrap('38;5;208', '39'),
    error: wrap('31', '39'),
    dim: wrap('2', '22'),
    bold: wrap('1', '22'),
  };
}

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\x1b\[[0-9;]*m/g;

/** Printed width of a string (ANSI codes do not count). */
export function visibleLength(text: string): number {
  return text.includes('\x1b') ? text.replace(ANSI_RE, '').length : text.length;
}

/** Pads to `width` printed columns. */
export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)));
}
