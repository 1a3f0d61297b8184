/**
 * Bot command parsing: turns what a participant sent to a conference bot into plain text to relay,
 * a command, or a one-line explanation of what was wrong. Pure, no I/O.
 *
 * A command starts with `/`, `--`, or the dash a client's auto-correction makes of `--` (`—`, `–`),
 * immediately followed by a letter; the command word is case-insensitive. Anything else is text,
 * including `/me …` (the XMPP/IRC action convention) and a lone dash.
 */
import { NETWORKS, addressError, networkSchema, type Network } from '@parley/contracts';

export type ListFilter = 'all' | 'status' | 'active';

export type Command =
  | { name: 'join' }
  | { name: 'exit' }
  | { name: 'list'; filter: ListFilter }
  | { name: 'invite'; network: Network; address: string }
  | { name: 'pause' }
  | { name: 'resume' }
  | { name: 'help' }
  /** `args`: the text after the word, interpreted by the archive ("", "20", "5 hours", …). */
  | { name: 'history'; args: string }
  | { name: 'search'; query: string }
  /** Owner only: `who` is a participant's display name or address. */
  | { name: 'remove'; who: string }
  /** Owner only. */
  | { name: 'close' };

export type ParsedInput =
  { kind: 'text'; text: string } | { kind: 'command'; command: Command } | { kind: 'invalid'; reply: string };

const PREFIX = /^(?:\/|--|\u2014|\u2013)(?=\p{L})/u;
const HELP_HINT = 'Send /help for the list of commands.';

/** The /help answer: one line per command. */
export const HELP_TEXT = [
  'Commands (start them with /, -- or —):',
  '/join — join the conference',
  '/exit or /quit — leave the conference',
  '/list — the participants; /list status — with their presence; /list active — who is here now',
  '/invite <network> <address> — invite someone, e.g. /invite xmpp bob@example.org',
  '/pause — stop receiving messages without leaving; /resume — receive them again',
  '/history — what you missed (or the last 20); /history 20, /history 30 minutes, /history 5 hours, /history 2 days, /history 1 week',
  '/search <words> — find messages',
  "/remove <name or address>, /close — for the conference's owner: remove someone, end the conference",
  '/help — this list',
  'Anything else you send is relayed to the other participants.',
].join('\n');

function invalid(reply: string): ParsedInput {
  return { kind: 'invalid', reply: `${reply} ${HELP_HINT}` };
}

/** Parses one message body sent to a bot. */
export function parseCommand(body: string): ParsedInput {
  const trimmed = body.trim();
  const prefix = PREFIX.exec(trimmed);
  if (!prefix) return { kind: 'text', text: body };
  const rest = trimmed.slice(prefix[0].length);
  const [word = '', ...args] = rest.split(/\s+/u);
  const name = word.toLowerCase();
  const noArguments = (command: Command): ParsedInput =>
    args.length === 0 ? { kind: 'command', command } : invalid(`/${name} takes no arguments.`);

  switch (name) {
    case 'me':
      // "/me waves" is an action, relayed as text like every client shows it.
      return { kind: 'text', text: body };
    case 'join':
      return noArguments({ name: 'join' });
    case 'exit':
    case 'quit':
      return noArguments({ name: 'exit' });
    case 'pause':
      return noArguments({ name: 'pause' });
    case 'resume':
      return noArguments({ name: 'resume' });
    case 'help':
      return { kind: 'command', command: { name: 'help' } };
    case 'list': {
      if (args.length === 0) return { kind: 'command', command: { name: 'list', filter: 'all' } };
      const filter = args[0]!.toLowerCase();
      if (args.length === 1 && (filter === 'status' || filter === 'active')) {
        return { kind: 'command', command: { name: 'list', filter } };
      }
      return invalid('/list takes nothing, "status" or "active".');
    }
    case 'invite':
      return parseInvite(args);
    case 'history':
      return { kind: 'command', command: { name: 'history', args: args.join(' ') } };
    case 'search':
      if (args.length === 0) return invalid('/search needs words to look for, e.g. /search budget.');
      return { kind: 'command', command: { name: 'search', query: args.join(' ') } };
    case 'remove':
      if (args.length === 0)
        return invalid('/remove needs the name or address of a participant, e.g. /remove bob.');
      return { kind: 'command', command: { name: 'remove', who: args.join(' ').slice(0, 320) } };
    case 'close':
      return noArguments({ name: 'close' });
    default:
      return invalid(`Unknown command "/${clip(word)}".`);
  }
}

function parseInvite(args: string[]): ParsedInput {
  if (args.length !== 2) {
    return invalid('/invite needs a network and an address, e.g. /invite xmpp bob@example.org.');
  }
  const [networkWord, address] = args as [string, string];
  const network = networkSchema.safeParse(networkWord.toLowerCase());
  if (!network.success) {
    return invalid(`Unknown network "${clip(networkWord)}": use ${NETWORKS.join(' or ')}.`);
  }
  const problem = addressError(network.data, address, 'participant');
  if (problem) return invalid(`Cannot invite "${clip(address)}": ${problem}.`);
  return { kind: 'command', command: { name: 'invite', network: network.data, address } };
}

/** Echoes user input back in a reply without letting a huge word flood it. */
function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
