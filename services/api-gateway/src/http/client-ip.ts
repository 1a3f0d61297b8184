/**
 * The client's IP address behind `trustedHops` reverse proxies: each proxy appends the address it
 * received from to X-Forwarded-For, so the client is that many entries from the right (counting
 * the socket's own peer). Entries further left are client-supplied and never trusted.
 */
export function clientIp(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedHops: number,
): string {
  const socket = socketAddress ?? 'unknown';
  if (trustedHops === 0) return socket;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  const chain = [
    ...header
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    socket,
  ];
  return chain[Math.max(0, chain.length - 1 - trustedHops)]!;
}
