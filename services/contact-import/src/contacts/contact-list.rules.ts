/**
 * How a contact list read from a network changes the saved one — pure, no I/O. A re-import updates
 * what changed, adds what is new and removes what this account's list no longer has; it never
 * duplicates (one saved contact per owner, network and address).
 */
import { normalizeAddress, type Network, type RosterContact } from '@parley/contracts';

/** A saved contact as the rules need it. */
export interface SavedContact {
  id: string;
  address: string;
  name: string | null;
  groups: string[];
  /** The account whose import saved it last. */
  imAccountId: string;
}

export interface ContactListChanges {
  add: Array<{ address: string; name: string | null; groups: string[] }>;
  /** Saved contacts to update (name, groups, or the account that now lists them). */
  update: Array<{ id: string; address: string; name: string | null; groups: string[]; isChange: boolean }>;
  /** Ids of saved contacts of this account that its list no longer has. */
  remove: string[];
  unchanged: number;
}

/** The fetched list with addresses normalised, one entry per address (groups merged), groups sorted. */
export function normalizeContactList(network: Network, fetched: RosterContact[]): ContactListChanges['add'] {
  const byAddress = new Map<string, { address: string; name: string | null; groups: Set<string> }>();
  for (const contact of fetched) {
    const address = normalizeAddress(network, contact.address);
    if (!address) continue;
    const entry = byAddress.get(address) ?? { address, name: null, groups: new Set<string>() };
    entry.name ??= contact.name?.trim() || null;
    contact.groups.forEach((g) => entry.groups.add(g));
    byAddress.set(address, entry);
  }
  return [...byAddress.values()].map(({ address, name, groups }) => ({
    address,
    name,
    groups: [...groups].sort(),
  }));
}

const sameGroups = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().every((g, i) => g === [...b].sort()[i]);

/**
 * Compares the fetched list of `imAccountId` with the saved contacts that matter: those of the
 * same network whose address is in the list, and those this account saved before.
 */
export function diffContactList(
  network: Network,
  imAccountId: string,
  saved: SavedContact[],
  fetched: RosterContact[],
): ContactListChanges {
  const list = normalizeContactList(network, fetched);
  const savedByAddress = new Map(saved.map((c) => [c.address, c]));
  const listed = new Set(list.map((c) => c.address));
  const changes: ContactListChanges = { add: [], update: [], remove: [], unchanged: 0 };
  for (const contact of list) {
    const before = savedByAddress.get(contact.address);
    if (!before) {
      changes.add.push(contact);
      continue;
    }
    const isChange = before.name !== contact.name || !sameGroups(before.groups, contact.groups);
    if (isChange || before.imAccountId !== imAccountId) {
      changes.update.push({ id: before.id, ...contact, isChange });
    }
    if (!isChange) changes.unchanged += 1;
  }
  for (const before of saved) {
    if (before.imAccountId === imAccountId && !listed.has(before.address)) changes.remove.push(before.id);
  }
  return changes;
}
