// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The risk level as PVE shows health: icon plus text, never colour alone. A template, not an
 * element, and one element with the icon drawn by CSS: the fleet grid stamps one per row while
 * scrolling, where a custom element with its own shadow root (or an SVG of three nodes) per row
 * costs more than the rest of the row. `<dp-risk-badge>` renders the same template.
 */
import { css, html } from 'lit';
import type { RiskLevel } from '../../src/analysis/types.js';
import { RISK_LABEL } from '../strings.js';

/** `<span class="risk-badge" data-level>Label</span>`; style it with `riskBadgeStyles`. */
export function riskBadge(level: RiskLevel) {
  return html`<span class="risk-badge" data-level=${level}>${RISK_LABEL[level] ?? level}</span>`;
}

// PVE's health icons (manager6/Utils.js, Font Awesome): check-circle good, exclamation-circle
// warning, times-circle critical, question-circle unknown; info-circle for info.
export const riskBadgeStyles = css`
  .risk-badge {
    white-space: nowrap;
  }
  .risk-badge::before {
    display: inline-block;
    box-sizing: border-box;
    width: 14px;
    height: 14px;
    margin-right: 4px;
    border-radius: 50%;
    vertical-align: -2px;
    font: bold 10px/14px sans-serif;
    text-align: center;
    color: #fff;
    background: var(--dp-unknown, #888);
    content: '?';
  }
  .risk-badge[data-level='ok']::before {
    background: var(--dp-good, #21bf4b);
    content: '\\2713';
  }
  .risk-badge[data-level='warning']::before {
    background: var(--dp-warning, #fc0);
    color: #000;
    content: '!';
  }
  .risk-badge[data-level='critical']::before {
    background: var(--dp-critical, #ff6c59);
    content: '\\2715';
  }
  .risk-badge[data-level='info']::before {
    background: var(--dp-info, #3892d4);
    content: 'i';
  }
`;
