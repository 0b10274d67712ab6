// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * An error of the audit worker reaches the page as the same typed error (the views and callers
 * branch on the class and word it from its fields), after a structured clone as postMessage does.
 */
import { describe, expect, it } from 'vitest';
import { PveConnectionError, PvePermissionError } from '../../src/api/errors.js';
import { UnknownNodeError } from '../../src/audit/fleet.js';
import { receivedError, sendableError } from '../../panel/data/fleet-audit-protocol.js';

const across = (err: unknown): Error => receivedError(structuredClone(sendableError(err)));

describe('audit worker errors', () => {
  it('a permission failure stays a PvePermissionError with its ACL path, privilege and message', () => {
    const sent = new PvePermissionError({ status: 403, text: 'Permission check failed (/vms/100, VM.Audit)', method: 'GET', path: '/nodes/pve1/qemu/100/pending' });
    const got = across(sent) as PvePermissionError;
    expect(got).toBeInstanceOf(PvePermissionError);
    expect([got.message, got.aclPath, got.privilege, got.request]).toEqual([sent.message, '/vms/100', 'VM.Audit', 'GET /nodes/pve1/qemu/100/pending']);
  });

  it('a lost connection stays a PveConnectionError with its kind and whether it may have been sent', () => {
    const got = across(new PveConnectionError({ status: 0, text: 'timeout of 30000ms exceeded', method: 'GET', path: '/cluster/resources', kind: 'timeout', maybeSent: true })) as PveConnectionError;
    expect(got).toBeInstanceOf(PveConnectionError);
    expect([got.kind, got.maybeSent, got.message]).toEqual(['timeout', true, 'timeout of 30000ms exceeded']);
  });

  it('any other error keeps its name and message', () => {
    const got = across(new UnknownNodeError('pve9'));
    expect([got.name, got.message]).toEqual(['UnknownNodeError', new UnknownNodeError('pve9').message]);
  });
});
