// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The panel's shared controls, as a user sees them in each theme: axe checks their contrast.
import { expect, fixture, html } from '@open-wc/testing';
import { LitElement } from 'lit';
import { shared } from '../../panel/styles/shared.js';
import { tokens } from '../../panel/styles/tokens.js';
import { THEMES } from './themed.js';

class DpTestControls extends LitElement {
  static override styles = [tokens, shared];
  override render() {
    return html`<div style="background: var(--dp-panel-bg); padding: 8px">
      <button type="button" class="primary">Apply to 12 VMs</button> <button type="button">Cancel</button>
      <button type="button" class="link">Download journal (JSONL)</button>
    </div>`;
  }
}
customElements.define('dp-test-controls', DpTestControls);

describe('shared controls', () => {
  for (const theme of THEMES) {
    it(`the primary button's white label is readable on its fill (WCAG AA), ${theme}`, async () => {
      const el = await fixture<DpTestControls>(html`<dp-test-controls theme=${theme}></dp-test-controls>`);
      await expect(el).to.be.accessible();
    });
  }
});
