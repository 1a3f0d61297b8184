/** The console's shell: navigation (different when logged in), the pages in the product's order. */
import { useEffect, useState } from 'react';
import { session } from './api/session';
import { AccountPage } from './pages/account';
import { ArchivePage } from './pages/archive';
import { ConfirmPage, LoginPage, RegisterPage } from './pages/auth';
import { ConferencePage } from './pages/conference';
import { ConferencesPage } from './pages/conferences';
import { ContactsPage, ImAccountsPage } from './pages/im-accounts';
import { Link, match, navigate, useLocation } from './router';
import { Page } from './ui';

function useSession() {
  const [state, setState] = useState({ loggedIn: session.loggedIn(), expired: false });
  useEffect(
    () =>
      session.subscribe((reason) =>
        setState({ loggedIn: reason === 'login', expired: reason === 'expired' }),
      ),
    [],
  );
  return state;
}

const OWNER_NAV = [
  ['/conferences', 'Conferences'],
  ['/im-accounts', 'IM accounts'],
  ['/contacts', 'Contacts'],
  ['/account', 'My account'],
] as const;

export function App() {
  const location = useLocation();
  const { loggedIn, expired } = useSession();
  const path = location.pathname;
  const publicPage = ['/register', '/confirm', '/login'].includes(path);

  useEffect(() => {
    if (!loggedIn && !publicPage) navigate('/login', { replace: true });
    if (loggedIn && (path === '/' || path === '/login')) navigate('/conferences', { replace: true });
  }, [loggedIn, publicPage, path]);

  let page;
  let params: Record<string, string> | null;
  if (path === '/register') page = <RegisterPage />;
  else if (path === '/confirm') page = <ConfirmPage token={location.searchParams.get('token') ?? ''} />;
  else if (path === '/login' || !loggedIn)
    page = <LoginPage notice={expired ? 'Your session ended. Please log in again.' : undefined} />;
  else if (path === '/conferences') page = <ConferencesPage />;
  else if ((params = match('/conferences/:id/archive', path)))
    page = <ArchivePage key={params.id} id={params.id!} />;
  else if ((params = match('/conferences/:id', path)))
    page = <ConferencePage key={params.id} id={params.id!} />;
  else if (path === '/im-accounts') page = <ImAccountsPage />;
  else if (path === '/contacts') page = <ContactsPage />;
  else if (path === '/account') page = <AccountPage />;
  else
    page = (
      <Page title="Page not found">
        <p>
          There is no page at <code>{path}</code>. <Link to="/conferences">Go to my conferences</Link>.
        </p>
      </Page>
    );

  const current = (to: string) => (path === to || path.startsWith(`${to}/`) ? 'page' : undefined);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span className="brand">Parley</span>
        <nav aria-label="Main">
          <ul>
            {loggedIn ? (
              <>
                {OWNER_NAV.map(([to, label]) => (
                  <li key={to}>
                    <Link to={to} aria-current={current(to)}>
                      {label}
                    </Link>
                  </li>
                ))}
                <li>
                  <button
                    type="button"
                    className="link"
                    onClick={() => {
                      session.end();
                      navigate('/login');
                    }}
                  >
                    Log out
                  </button>
                </li>
              </>
            ) : (
              <>
                <li>
                  <Link to="/login" aria-current={current('/login')}>
                    Log in
                  </Link>
                </li>
                <li>
                  <Link to="/register" aria-current={current('/register')}>
                    Register
                  </Link>
                </li>
              </>
            )}
          </ul>
        </nav>
      </header>
      <main id="main">{page}</main>
      <footer>
        <a href="/docs">REST API</a>
      </footer>
    </>
  );
}
