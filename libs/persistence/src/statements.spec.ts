import { describe, expect, it } from 'vitest';
import { combineStatements } from './statements.js';

describe('combineStatements', () => {
  it('leaves one statement as it is and answers nothing for none', () => {
    const one = { sql: 'UPDATE t SET a = $1 WHERE id = $2', params: [1, 'x'] };
    expect(combineStatements([one])).toEqual([one]);
    expect(combineStatements([])).toEqual([]);
  });

  it('starts a new statement before one would pass 30,000 parameters or 64 writes', () => {
    const big = { sql: 'INSERT INTO u (a) VALUES ($1)', params: Array.from({ length: 20_000 }, () => 0) };
    expect(combineStatements([big, big, big]).map((s) => s.params.length)).toEqual([20_000, 20_000, 20_000]);
    const small = { sql: 'DELETE FROM v WHERE id = $1', params: [1] };
    expect(combineStatements(Array.from({ length: 130 }, () => small)).map((s) => s.params.length)).toEqual([
      64, 64, 2,
    ]);
  });

  it('joins writes as CTEs, renumbering each statement’s parameters after the ones before it', () => {
    const [combined] = combineStatements([
      { sql: 'UPDATE t SET a = $1 WHERE id = $2', params: [1, 'x'] },
      { sql: 'INSERT INTO u (b, c) VALUES ($1, $2), ($3, $1)', params: ['b', 'c', 'd'] },
      { sql: 'DELETE FROM v WHERE id = $1', params: [10] },
    ]);
    expect(combined).toEqual({
      sql:
        'WITH s0 AS (UPDATE t SET a = $1 WHERE id = $2),\n' +
        's1 AS (INSERT INTO u (b, c) VALUES ($3, $4), ($5, $3)),\n' +
        's2 AS (DELETE FROM v WHERE id = $6)\nSELECT 1',
      params: [1, 'x', 'b', 'c', 'd', 10],
    });
  });

  it('renumbers two-digit parameters as numbers, not as text', () => {
    const twelve = Array.from({ length: 12 }, (_, i) => i);
    const [combined] = combineStatements([
      { sql: 'DELETE FROM v WHERE id = $1', params: ['a'] },
      { sql: 'UPDATE t SET a = $12, b = $1 WHERE id = $10', params: twelve },
    ]);
    expect(combined!.sql).toContain('UPDATE t SET a = $13, b = $2 WHERE id = $11');
    expect(combined!.params).toHaveLength(13);
  });
});
