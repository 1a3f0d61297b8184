/**
 * The bot's `/history` and `/search` answers: the pure rules of history-command.ts applied to the
 * archive's queries. conference-core forwards the command's argument text and shows the messages.
 */
import { Injectable } from '@nestjs/common';
import type { Identity } from '@parley/contracts';
import { ArchiveStore } from '../archive/archive-store.js';
import {
  DEFAULT_HISTORY_COUNT,
  MAX_HISTORY_LINES,
  MAX_SEARCH_LINES,
  cappedNote,
  historyAnswer,
  parseHistoryArgs,
} from './history-command.js';

export interface BotAnswer {
  messages: string[];
  lines: string[];
}

@Injectable()
export class HistoryService {
  constructor(private readonly store: ArchiveStore) {}

  async history(
    conferenceId: string,
    participant: Identity,
    args: string,
    now = new Date(),
  ): Promise<BotAnswer> {
    const request = parseHistoryArgs(args);
    switch (request.kind) {
      case 'invalid':
        return { messages: [request.message], lines: [request.message] };
      case 'last': {
        const events = await this.store.latest(conferenceId, { messagesOnly: true }, request.count);
        return historyAnswer(events, { note: request.note, empty: 'no messages yet' });
      }
      case 'window': {
        const since = new Date(now.getTime() - request.ms).toISOString();
        const { events, total } = await this.store.latestWithTotal(
          conferenceId,
          { messagesOnly: true, since },
          MAX_HISTORY_LINES,
        );
        const note =
          request.note ?? cappedNote(events.length, total, `messages of the last ${request.label}`);
        return historyAnswer(events, { note, empty: `no messages in the last ${request.label}` });
      }
      case 'default': {
        const left = await this.store.lastLeft(conferenceId, participant.network, participant.address);
        if (left === undefined) {
          const events = await this.store.latest(conferenceId, { messagesOnly: true }, DEFAULT_HISTORY_COUNT);
          return historyAnswer(events, { empty: 'no messages yet' });
        }
        const { events, total } = await this.store.latestWithTotal(
          conferenceId,
          { messagesOnly: true, after: left },
          MAX_HISTORY_LINES,
        );
        return historyAnswer(events, {
          note: cappedNote(events.length, total, 'messages since you left'),
          empty: 'no messages since you left',
        });
      }
    }
  }

  async search(conferenceId: string, args: string): Promise<BotAnswer> {
    const q = args.trim();
    if (q === '') {
      const line = 'say what to look for, e.g. /search release date';
      return { messages: [line], lines: [line] };
    }
    const { events, total } = await this.store.latestWithTotal(conferenceId, { q }, MAX_SEARCH_LINES);
    return historyAnswer(events, {
      note: cappedNote(events.length, total, `messages matching "${q}"`),
      empty: `no messages match "${q}"`,
    });
  }
}
