import { describe, expect, it } from 'vitest';
import { isActiveParticipant, nextIdleDeadline, type IdleDeadlineInput } from './idle-deadline.js';

const now = new Date('2026-11-22T10:00:00Z');
const earlier = new Date('2026-11-22T09:59:58Z');
const base: IdleDeadlineInput = {
  conferenceState: 'active',
  ttlSeconds: 3,
  hasActiveParticipant: false,
  current: null,
  now,
  isActivity: false,
};

describe('isActiveParticipant', () => {
  it.each([
    ['joined', 'online', true],
    ['joined', 'busy', true],
    ['joined', 'away', true],
    ['joined', undefined, true],
    ['joined', 'offline', false],
    ['paused', 'online', false],
    ['left', 'online', false],
    ['authorized', 'online', false],
    ['invited', 'online', false],
  ] as const)('%s + %s → %s', (state, presence, expected) => {
    expect(isActiveParticipant({ state }, presence)).toBe(expected);
  });
});

describe('nextIdleDeadline', () => {
  it('has no deadline while a participant is active', () => {
    expect(nextIdleDeadline({ ...base, hasActiveParticipant: true, current: earlier })).toBeNull();
  });

  it('starts the clock when the last active participant goes', () => {
    expect(nextIdleDeadline(base)).toEqual(new Date('2026-11-22T10:00:03Z'));
  });

  it('keeps a running clock when nothing happened (a presence change of an inactive participant)', () => {
    expect(nextIdleDeadline({ ...base, current: earlier })).toBe(earlier);
  });

  it('restarts a running clock on activity', () => {
    expect(nextIdleDeadline({ ...base, current: earlier, isActivity: true })).toEqual(
      new Date('2026-11-22T10:00:03Z'),
    );
  });

  it.each(['draft', 'terminated'] as const)('has no deadline for a %s conference', (conferenceState) => {
    expect(nextIdleDeadline({ ...base, conferenceState, current: earlier })).toBeNull();
  });
});
