import { describe, expect, it } from 'vitest';
import { clientIp } from './client-ip.js';

describe('clientIp', () => {
  it('uses the socket address when no proxy is trusted, whatever the header says', () => {
    expect(clientIp('10.0.0.5', '203.0.113.9', 0)).toBe('10.0.0.5');
  });

  it('takes the entry the trusted proxy appended, ignoring what the client prepended', () => {
    expect(clientIp('10.0.0.5', '198.51.100.1, 203.0.113.9', 1)).toBe('203.0.113.9');
    expect(clientIp('10.0.0.5', '198.51.100.1, 203.0.113.9, 10.0.0.4', 2)).toBe('203.0.113.9');
  });

  it('falls back to the leftmost entry when there are fewer hops than trusted', () => {
    expect(clientIp('10.0.0.5', undefined, 1)).toBe('10.0.0.5');
    expect(clientIp('10.0.0.5', '203.0.113.9', 3)).toBe('203.0.113.9');
  });
});
