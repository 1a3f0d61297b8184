import { describe, expect, it } from 'vitest';
import { ReplyBudget } from './reply-budget.js';

describe('ReplyBudget', () => {
  it('answers a stranger a few times, then stays silent until the budget refills', () => {
    let now = 0;
    const budget = new ReplyBudget(undefined, () => now);
    const answered = Array.from({ length: 10 }, () => budget.allowStranger('c', 'eve'));
    expect(answered.filter(Boolean)).toHaveLength(3);
    now += 10_000;
    expect(budget.allowStranger('c', 'eve')).toBe(true);
    expect(budget.allowStranger('c', 'eve')).toBe(false);
  });

  it('bounds what one conference says to all strangers together', () => {
    let now = 0;
    const budget = new ReplyBudget(undefined, () => now);
    let answered = 0;
    for (let i = 0; i < 100; i++) if (budget.allowStranger('c', `stranger-${i}`)) answered++;
    expect(answered).toBe(20);
    expect(budget.allowStranger('other', 'stranger-1')).toBe(true);
    now += 1_000;
    expect(budget.allowStranger('c', 'someone-new')).toBe(true);
  });
});
