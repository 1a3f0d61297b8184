import { describe, expect, it } from 'vitest';
import { parseCommand } from './parse-command.js';

describe('parseCommand', () => {
  it.each([
    ['/join', { name: 'join' }],
    ['--join', { name: 'join' }],
    ['\u2014join', { name: 'join' }],
    ['\u2013join', { name: 'join' }],
    ['/JOIN', { name: 'join' }],
    ['  /Join  ', { name: 'join' }],
    ['/exit', { name: 'exit' }],
    ['/quit', { name: 'exit' }],
    ['--QUIT', { name: 'exit' }],
    ['/pause', { name: 'pause' }],
    ['/resume', { name: 'resume' }],
    ['/help', { name: 'help' }],
    ['/help invite', { name: 'help' }],
    ['/list', { name: 'list', filter: 'all' }],
    ['/list STATUS', { name: 'list', filter: 'status' }],
    ['/list active', { name: 'list', filter: 'active' }],
    ['/invite xmpp bob@example.org', { name: 'invite', network: 'xmpp', address: 'bob@example.org' }],
    ['/invite XMPP Bob@Example.org', { name: 'invite', network: 'xmpp', address: 'Bob@Example.org' }],
    [
      '/invite irc dave@irc.example.org:6667',
      { name: 'invite', network: 'irc', address: 'dave@irc.example.org:6667' },
    ],
    ['/history', { name: 'history', args: '' }],
    ['/history 5 hours', { name: 'history', args: '5 hours' }],
    ['/search budget plan', { name: 'search', query: 'budget plan' }],
  ])('reads %j as a command', (body, command) => {
    expect(parseCommand(body)).toEqual({ kind: 'command', command });
  });

  it.each([
    'hello',
    '/me waves',
    '/',
    '//',
    '-- not a command',
    '\u2014 an aside',
    '/ join',
    'a /join',
    '-join',
    '---',
  ])('relays %j as text', (body) => {
    expect(parseCommand(body)).toEqual({ kind: 'text', text: body });
  });

  it.each([
    ['/frobnicate', /^Unknown command "\/frobnicate"\. Send \/help for the list of commands\.$/],
    ['/join now', /^\/join takes no arguments\./],
    ['/exit please', /^\/exit takes no arguments\./],
    ['/list everyone', /^\/list takes nothing, "status" or "active"\./],
    ['/list status now', /^\/list takes nothing/],
    ['/invite', /^\/invite needs a network and an address/],
    ['/invite xmpp', /^\/invite needs a network and an address/],
    ['/invite xmpp a@b.c d', /^\/invite needs/],
    ['/invite icq 12345', /^Unknown network "icq": use xmpp or irc\./],
    ['/invite xmpp nobody', /^Cannot invite "nobody": an XMPP address must look like user@domain\./],
    ['/invite xmpp bob@example.org/phone', /bare JID/],
    ['/invite irc 9nick@irc.example.org', /IRC nick is not valid/],
    ['/search', /^\/search needs words/],
  ])('explains what is wrong with %j in one line, with a hint to /help', (body, reply) => {
    const parsed = parseCommand(body);
    expect(parsed.kind).toBe('invalid');
    const text = (parsed as { reply: string }).reply;
    expect(text).toMatch(reply);
    expect(text).toMatch(/Send \/help for the list of commands\.$/);
    expect(text).not.toContain('\n');
  });

  it('clips a huge unknown command word in the answer', () => {
    const parsed = parseCommand(`/${'a'.repeat(5_000)}`);
    expect((parsed as { reply: string }).reply.length).toBeLessThan(120);
  });
});
