// SPDX-License-Identifier: AGPL-3.0-or-later
import { LitElement, css } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { RiskLevel } from '../../src/analysis/types.js';
import { riskBadge, riskBadgeStyles } from './risk-icon.js';

/**
 * A risk level as PVE shows health: icon plus text, never colour alone. (The fleet grid stamps the
 * same template, `riskBadge`, without an element per row.)
 */
@customElement('dp-risk-badge')
export class DpRiskBadge extends LitElement {
  static override styles = [
    riskBadgeStyles,
    css`
      :host {
        display: inline-block;
      }
    `,
  ];

  /** The risk level shown. */
  @property({ reflect: true }) level: RiskLevel = 'unknown';

  override render() {
    return riskBadge(this.level);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dp-risk-badge': DpRiskBadge;
  }
}
