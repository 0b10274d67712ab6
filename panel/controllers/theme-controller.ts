// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Follows PVE's theme choice: the `PVEThemeCookie` cookie holds `crisp` (light), `proxmox-dark`
 * (dark) or `__default__`/absent (auto: `prefers-color-scheme`, followed live as the
 * `GaugeWidget` does). Sets `theme="light|dark"` on the host, which switches the `--dp-*` tokens.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export type Theme = 'light' | 'dark';

/** `crisp` -> light, `proxmox-dark` -> dark, anything else -> null (follow the system). */
export function themeFromCookie(cookie: string): Theme | null {
  const m = /(?:^|;\s*)PVEThemeCookie=([^;]*)/.exec(cookie);
  const value = m ? decodeURIComponent(m[1]!) : '';
  if (value === 'crisp') return 'light';
  if (value === 'proxmox-dark') return 'dark';
  return null;
}

export class ThemeController implements ReactiveController {
  theme: Theme = 'light';
  private readonly media = window.matchMedia('(prefers-color-scheme: dark)');
  private readonly onChange = (): void => this.update();

  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {
    host.addController(this);
  }

  hostConnected(): void {
    this.media.addEventListener('change', this.onChange);
    this.update();
  }

  hostDisconnected(): void {
    this.media.removeEventListener('change', this.onChange);
  }

  private update(): void {
    const next = themeFromCookie(document.cookie) ?? (this.media.matches ? 'dark' : 'light');
    this.theme = next;
    this.host.setAttribute('theme', next);
    this.host.requestUpdate();
  }
}
