// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css, html, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { RiskLevel } from '../../src/analysis/types.js';
import { RISK_LABEL } from '../strings.js';

// PVE's health icons (manager6/Utils.js): check-circle good, exclamation-circle warning,
// times-circle critical, question-circle unknown; info-circle for info.
const ICON: Record<RiskLevel, ReturnType<typeof svg>> = {
  ok: svg`<circle cx="8" cy="8" r="7"/><path d="M4.5 8.2l2.3 2.3 4.7-4.9" fill="none" stroke="#fff" stroke-width="1.8"/>`,
  warning: svg`<circle cx="8" cy="8" r="7"/><path d="M8 3.8v5.2M8 10.8v1.4" stroke="#000" stroke-width="1.8"/>`,
  critical: svg`<circle cx="8" cy="8" r="7"/><path d="M5.2 5.2l5.6 5.6M10.8 5.2l-5.6 5.6" stroke="#fff" stroke-width="1.8"/>`,
  info: svg`<circle cx="8" cy="8" r="7"/><path d="M8 7v5M8 4v1.5" stroke="#fff" stroke-width="1.8"/>`,
  unknown: svg`<circle cx="8" cy="8" r="7"/><path d="M6 6.2a2 2 0 1 1 2.8 1.8c-.6.3-.8.7-.8 1.3v.4M8 11.2v1.4" fill="none" stroke="#fff" stroke-width="1.6"/>`,
};

/**
 * A risk level as PVE shows health: icon plus text, never colour alone.
 */
@customElement('dp-risk-badge')
export class DpRiskBadge extends LitElement {
  static override styles = css`
    :host {
      display: inline-flex;
      align-items: center;
      gap: 4px;
      white-space: nowrap;
    }
    svg {
      width: 14px;
      height: 14px;
      flex: none;
    }
    :host([level='ok']) svg { fill: var(--dp-good, #21bf4b); }
    :host([level='warning']) svg { fill: var(--dp-warning, #fc0); }
    :host([level='critical']) svg { fill: var(--dp-critical, #ff6c59); }
    :host([level='info']) svg { fill: var(--dp-info, #3892d4); }
    :host([level='unknown']) svg { fill: var(--dp-unknown, #888); }
  `;

  /** The risk level shown. */
  @property({ reflect: true }) level: RiskLevel = 'unknown';

  override render() {
    return html`<svg viewBox="0 0 16 16" aria-hidden="true">${ICON[this.level] ?? ICON.unknown}</svg><span>${RISK_LABEL[this.level] ?? this.level}</span>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-risk-badge': DpRiskBadge;
  }
}
