// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The fleet query in the URL, so a filtered view can be bookmarked or sent to a colleague. Query
 * parameters, not the hash: inside the PVE web UI the hash belongs to ExtJS's state provider
 * (`#v1:0:=qemu%2F100:...`), and a `dp-` prefix keeps clear of PVE's own parameters.
 *
 *   ?dp-q=db&dp-node=pve1&dp-risk=critical&dp-only=cold-start,templates&dp-sort=risk&dp-vm=100
 */
import type { RiskLevel } from '../../src/analysis/types.js';
import { RISK_ORDER } from '../strings.js';
import { DEFAULT_SORT, EMPTY_QUERY, type FleetQuery, QUICK_FILTERS, type QuickFilter, SORT_KEYS, type SortKey } from './fleet-query.js';

const P = { text: 'dp-q', node: 'dp-node', risk: 'dp-risk', quick: 'dp-only', sort: 'dp-sort', vm: 'dp-vm' } as const;

/** Reads the query from URL parameters; anything unknown or malformed falls back to the default. */
export function queryFromParams(params: URLSearchParams): FleetQuery {
  const risk = params.get(P.risk) ?? '';
  const quick = (params.get(P.quick) ?? '').split(',').filter((k): k is QuickFilter => (QUICK_FILTERS as readonly string[]).includes(k));
  const sortText = params.get(P.sort) ?? '';
  const desc = sortText.startsWith('-');
  const sortKey = (desc ? sortText.slice(1) : sortText) as SortKey;
  const vm = params.get(P.vm) ?? '';
  return {
    text: params.get(P.text) ?? '',
    node: params.get(P.node) ?? '',
    risk: (RISK_ORDER as readonly string[]).includes(risk) ? (risk as RiskLevel) : '',
    quick: [...new Set(quick)],
    sort: SORT_KEYS.includes(sortKey) ? { key: sortKey, dir: desc ? 'desc' : 'asc' } : DEFAULT_SORT,
    vm: /^\d{3,9}$/.test(vm) ? Number(vm) : null,
  };
}

/** Writes `q` into `params` (a copy), dropping defaults and leaving every other parameter alone. */
export function paramsWithQuery(params: URLSearchParams, q: FleetQuery): URLSearchParams {
  const out = new URLSearchParams(params);
  const set = (name: string, value: string, fallback: string): void => {
    if (value === fallback) out.delete(name);
    else out.set(name, value);
  };
  set(P.text, q.text, EMPTY_QUERY.text);
  set(P.node, q.node, '');
  set(P.risk, q.risk, '');
  set(P.quick, q.quick.join(','), '');
  const sort = `${q.sort.dir === 'desc' ? '-' : ''}${q.sort.key}`;
  set(P.sort, sort, `${DEFAULT_SORT.key}`);
  set(P.vm, q.vm === null ? '' : String(q.vm), '');
  return out;
}

/** Where the query lives; replaceable for a host that owns the URL itself. */
export interface QueryStore {
  read(): FleetQuery;
  write(q: FleetQuery): void;
}

/** The page's own URL (`history.replaceState`: filtering adds no history entries). */
export const locationStore: QueryStore = {
  read: () => queryFromParams(new URLSearchParams(window.location.search)),
  write: (q) => {
    const params = paramsWithQuery(new URLSearchParams(window.location.search), q).toString();
    const url = `${window.location.pathname}${params ? `?${params}` : ''}${window.location.hash}`;
    if (url !== `${window.location.pathname}${window.location.search}${window.location.hash}`) {
      window.history.replaceState(window.history.state, '', url);
    }
  },
};

/** A store that keeps the query in memory only (tests, or a host that wants no URL state). */
export function memoryStore(initial: FleetQuery = EMPTY_QUERY): QueryStore & { current: FleetQuery } {
  const store = {
    current: initial,
    read: () => store.current,
    write: (q: FleetQuery) => {
      store.current = q;
    },
  };
  return store;
}
