// SPDX-License-Identifier: AGPL-3.0-or-later
/** Styles every view shares: text, buttons, tables, code, in PVE's look. */
import { css } from 'lit';

export const shared = css`
  :host {
    font: var(--dp-font);
    color: var(--dp-text);
  }
  button {
    font: inherit;
    color: var(--dp-text);
    background: var(--dp-header-bg);
    border: 1px solid var(--dp-border);
    border-radius: 3px;
    padding: 3px 10px;
    cursor: pointer;
  }
  button:hover:not([disabled]) {
    border-color: var(--dp-primary);
  }
  button[disabled] {
    opacity: 0.5;
    cursor: default;
  }
  button.primary {
    background: var(--dp-primary-fill);
    border-color: var(--dp-primary-fill);
    color: #fff;
  }
  button.link {
    background: none;
    border: none;
    padding: 0;
    color: var(--dp-link, #1a6fb5);
    text-decoration: underline;
  }
  select,
  input {
    font: inherit;
    color: var(--dp-text);
    background: var(--dp-panel-bg);
    border: 1px solid var(--dp-border);
    border-radius: 3px;
    padding: 2px 4px;
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th {
    text-align: left;
    font-weight: bold;
    background: var(--dp-header-bg);
    border-bottom: 1px solid var(--dp-border);
    padding: 4px 6px;
    white-space: nowrap;
  }
  td {
    border-bottom: 1px solid var(--dp-border);
    padding: 4px 6px;
    vertical-align: top;
  }
  code,
  pre {
    font-family: monospace;
    background: var(--dp-code-bg);
    border-radius: 3px;
  }
  pre {
    padding: 6px 8px;
    overflow-x: auto;
  }
  .muted {
    color: var(--dp-text-muted);
  }
  h2 {
    font-size: 14px;
    margin: 0 0 8px;
  }
`;

/** A bordered panel under the fleet table (VM detail, plan preview), like PVE's sub-panels. */
export const card = css`
  :host {
    display: block;
    border: 1px solid var(--dp-border);
    background: var(--dp-panel-bg);
    padding: 10px;
    margin-top: 10px;
  }
`;
