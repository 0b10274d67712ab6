// SPDX-License-Identifier: AGPL-3.0-or-later
// Wraps a view in the panel's design tokens, light or dark, as <dp-app> does, so axe checks the
// colours a user sees in both themes.
import { LitElement, css, html } from 'lit';
import { tokens } from '../../panel/styles/tokens.js';

export class DpTestTheme extends LitElement {
  static override styles = [
    tokens,
    css`
      :host {
        display: block;
        background: var(--dp-bg);
        color: var(--dp-text);
        font: var(--dp-font);
      }
    `,
  ];
  override render() {
    return html`<slot></slot>`;
  }
}
if (!customElements.get('dp-test-theme')) customElements.define('dp-test-theme', DpTestTheme);

export const THEMES = ['light', 'dark'] as const;
export type ThemeName = (typeof THEMES)[number];
