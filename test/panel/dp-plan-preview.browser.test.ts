// SPDX-License-Identifier: AGPL-3.0-or-later
/// <reference types="mocha" />
// The plan preview lists a small plan in place and virtualizes a large one.
import { expect, fixture, html } from '@open-wc/testing';
import type { MigrationPlan } from '../../src/migration/types.js';
import { planSelected } from '../../panel/data/plan.js';
import type { DpPlanPreview } from '../../panel/views/dp-plan-preview.js';
import '../../panel/views/dp-plan-preview.js';
import { fleetAudit } from './fleet-fixture.js';

async function preview(plan: MigrationPlan): Promise<DpPlanPreview> {
  const el = await fixture<DpPlanPreview>(html`<dp-plan-preview .plan=${plan} inline></dp-plan-preview>`);
  await el.updateComplete;
  return el;
}

describe('dp-plan-preview list', () => {
  it("one VM's plan is listed in place, in a box no taller than its content (no blank virtualizer box)", async () => {
    const audit = fleetAudit();
    const el = await preview(planSelected(audit, new Set([100])));
    const list = el.shadowRoot!.querySelector('[role=list]') as HTMLElement;
    expect(list.tagName).to.equal('DIV');
    const items = list.querySelectorAll('[role=listitem]');
    expect(items.length).to.equal(1);
    // The box ends with its only VM: at most its borders below it.
    expect(list.getBoundingClientRect().bottom - items[0]!.getBoundingClientRect().bottom).to.be.lessThan(4);
  });

  it('a plan of more VMs than fit the box goes through the virtualizer', async () => {
    const audit = fleetAudit();
    const all = new Set(audit.report.vms.map((vm) => vm.vmid));
    expect(all.size, 'fixture size').to.be.greaterThan(3);
    const el = await preview(planSelected(audit, all));
    expect(el.shadowRoot!.querySelector('[role=list]')!.tagName).to.equal('LIT-VIRTUALIZER');
  });
});
