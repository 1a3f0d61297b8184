/** IM accounts: the owner's network logins, stored encrypted; the password is never shown again. */
import { useState, type FormEvent } from 'react';
import { api, call } from '../api/client';
import { Field, formatTime, Notice, Page, ProblemAlert, Select, useLoad, useSubmit } from '../ui';

export function ImAccountsPage() {
  const accounts = useLoad(() => call(api.GET('/api/v1/im-accounts')), []);
  const [network, setNetwork] = useState<'xmpp' | 'irc'>('xmpp');
  const [address, setAddress] = useState('');
  const [password, setPassword] = useState('');
  const [added, setAdded] = useState<string | null>(null);
  const add = useSubmit(async () => {
    const account = await call(api.POST('/api/v1/im-accounts', { body: { network, address, password } }));
    setAddress('');
    setPassword('');
    setAdded(`${account.address} (${account.network}) was added.`);
    await accounts.reload();
  });
  const remove = useSubmit(async (id: string, label: string) => {
    if (!window.confirm(`Remove the IM account ${label}?`)) return;
    await call(api.DELETE('/api/v1/im-accounts/{id}', { params: { path: { id } } }));
    await accounts.reload();
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void add.submit();
  };
  return (
    <Page title="IM accounts">
      <p>
        The accounts you use on each network. Parley stores them encrypted and uses them only to load your
        contacts and, if you choose, to represent you in a conference.
      </p>
      <ProblemAlert error={accounts.error ?? remove.error} />
      {accounts.data && accounts.data.items.length === 0 && <p>No IM accounts yet.</p>}
      {accounts.data && accounts.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>My IM accounts</caption>
            <thead>
              <tr>
                <th scope="col">Network</th>
                <th scope="col">Address</th>
                <th scope="col">Added</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {accounts.data.items.map((a) => (
                <tr key={a.id}>
                  <td>{a.network}</td>
                  <td>{a.address}</td>
                  <td>{formatTime(a.createdAt)}</td>
                  <td>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => void remove.submit(a.id, `${a.address} (${a.network})`)}
                    >
                      Remove <span className="visually-hidden">{a.address}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Add an IM account</h2>
      <form onSubmit={onSubmit} noValidate>
        <ProblemAlert error={add.error} />
        {added && <Notice>{added}</Notice>}
        <Select
          label="Network"
          name="network"
          value={network}
          onChange={(e) => setNetwork(e.target.value as 'xmpp' | 'irc')}
          error={add.error}
        >
          <option value="xmpp">XMPP</option>
          <option value="irc">IRC</option>
        </Select>
        <Field
          label="Address"
          name="address"
          hint="XMPP: name@server. IRC: nick@server."
          value={address}
          onChange={(e) => setAddress(e.target.value)}
          error={add.error}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="off"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={add.error}
        />
        <button type="submit" disabled={add.busy}>
          Add IM account
        </button>
      </form>
    </Page>
  );
}

export function ContactsPage() {
  return (
    <Page title="Contacts">
      <Notice>
        Contact import is coming: “Load my contacts” will read the contact list of each of your IM accounts,
        with a progress bar, so you can invite people from it.
      </Notice>
      <p>Until then, invite people by their address on a conference’s page.</p>
    </Page>
  );
}
