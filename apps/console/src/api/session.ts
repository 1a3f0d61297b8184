/**
 * The logged-in owner's access token, kept in sessionStorage (this tab only; gone when it closes).
 * Tokens are short-lived and there is no refresh: when one expires the owner logs in again.
 */
const KEY = 'parley.session';

type Listener = (reason: 'login' | 'logout' | 'expired') => void;
const listeners = new Set<Listener>();

interface Stored {
  token: string;
  expiresAt: number;
}

function read(): Stored | null {
  try {
    const stored = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Stored | null;
    return stored && stored.expiresAt > Date.now() ? stored : null;
  } catch {
    return null;
  }
}

export const session = {
  token(): string | null {
    return read()?.token ?? null;
  },
  loggedIn(): boolean {
    return read() !== null;
  },
  start(token: string, expiresInSeconds: number): void {
    sessionStorage.setItem(KEY, JSON.stringify({ token, expiresAt: Date.now() + expiresInSeconds * 1000 }));
    listeners.forEach((l) => l('login'));
  },
  end(): void {
    sessionStorage.removeItem(KEY);
    listeners.forEach((l) => l('logout'));
  },
  /** The API refused the token (expired, or the account is gone). */
  expire(): void {
    if (!sessionStorage.getItem(KEY)) return;
    sessionStorage.removeItem(KEY);
    listeners.forEach((l) => l('expired'));
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
