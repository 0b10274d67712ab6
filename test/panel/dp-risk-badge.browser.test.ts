// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The risk badge as PVE shows health: an icon beside the word, never colour or text alone.
import { expect, fixture, html } from '@open-wc/testing';
import '../../panel/components/dp-risk-badge.js';
import type { DpRiskBadge } from '../../panel/components/dp-risk-badge.js';

describe('dp-risk-badge', () => {
  // PVE's health icons: check for good, ! for warning, cross for critical, i for info, ? unknown.
  const ICONS = { ok: '"✓"', warning: '"!"', critical: '"✕"', info: '"i"', unknown: '"?"' } as const;
  for (const [level, icon] of Object.entries(ICONS)) {
    it(`draws the ${level} icon as a filled circle before the word`, async () => {
      const el = await fixture<DpRiskBadge>(html`<dp-risk-badge level=${level}></dp-risk-badge>`);
      const badge = el.shadowRoot!.querySelector('.risk-badge')!;
      const before = getComputedStyle(badge, '::before');
      expect(before.content).to.equal(icon);
      expect(before.width).to.equal('14px');
      expect(before.backgroundColor).to.not.equal('rgba(0, 0, 0, 0)');
    });
  }
});
