// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `--dp-*` design tokens. Light values from proxmox-widget-toolkit `ext6-pmx.css` (crisp), dark
 * values from `proxmox-dark/scss/abstracts/_variables.scss`; `<dp-app theme="dark">` switches.
 * Custom properties inherit through shadow roots, so every element reads them.
 */
import { css } from 'lit';

export const tokens = css`
  :host {
    --dp-font: 13px 'Helvetica Neue', helvetica, arial, verdana, sans-serif;
    --dp-text: #000;
    --dp-text-muted: #666;
    --dp-bg: #f5f5f5;
    --dp-panel-bg: #fff;
    --dp-border: #cfcfcf;
    --dp-header-bg: #f5f5f5;
    --dp-row-hover: #eaeff4;
    --dp-row-selected: #c2ddf2;
    --dp-primary: #3892d4;
    /* PVE's primary blue under a white label is 3.4:1; filled buttons use the link blue (5.2:1, WCAG AA). */
    --dp-primary-fill: #1a6fb5;
    --dp-link: #1a6fb5;
    --dp-good: #21bf4b;
    --dp-warning: #fc0;
    --dp-critical: #ff6c59;
    --dp-info: #3892d4;
    --dp-unknown: #888;
    /* PendingObjectGrid draws pending values in darkorange; on white that is 2.3:1, so the light
       theme uses a darker orange that reaches 5:1 (WCAG AA). */
    --dp-pending: #b45309;
    /* Text marks (effective differs from configured): critical red, darkened for 5:1 on white. */
    --dp-mark: #c0392b;
    --dp-warning-row: #f5e5d8;
    --dp-invalid-row: #f3d6d7;
    --dp-code-bg: #f0f0f0;
    color-scheme: light;
  }
  :host([theme='dark']) {
    --dp-text: hsl(0 0% 95%);
    --dp-text-muted: hsl(0 0% 70%);
    --dp-bg: hsl(0 0% 15%);
    --dp-panel-bg: hsl(0 0% 20%);
    --dp-border: hsl(0 0% 30%);
    --dp-header-bg: hsl(0 0% 17%);
    --dp-row-hover: hsl(205 30% 25%);
    --dp-row-selected: hsl(205 100% 22%);
    --dp-primary: hsl(205 100% 32%);
    --dp-primary-fill: hsl(205 100% 32%);
    --dp-link: hsl(205 100% 70%);
    --dp-info: hsl(205 100% 60%);
    --dp-warning-row: hsl(40 100% 20%);
    --dp-invalid-row: hsl(360 60% 20%);
    --dp-code-bg: hsl(0 0% 12%);
    --dp-pending: darkorange;
    --dp-mark: #ff8a7a;
    color-scheme: dark;
  }
`;
