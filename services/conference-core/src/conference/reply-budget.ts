/**
 * How much a bot says to people who are not in its conference (strangers, people it removed, anyone
 * writing to a conference that ended or does not exist). Their messages cost every participant
 * (they share the conference's lane), and a bot answering a bot is an endless loop; so each
 * stranger gets a few answers and then silence for a while, and a conference answers strangers at
 * a bounded rate in all. Token buckets, in memory per replica (a conference's lane lives in one).
 */

export interface ReplyBudgetLimits {
  /** Answers one stranger may get in a burst, and the seconds to earn one more. */
  perStrangerBurst: number;
  perStrangerRefillSeconds: number;
  /** Answers to strangers one conference gives in a burst, and per second after it. */
  perConferenceBurst: number;
  perConferencePerSecond: number;
}

export const DEFAULT_REPLY_BUDGET: ReplyBudgetLimits = {
  perStrangerBurst: 3,
  perStrangerRefillSeconds: 10,
  perConferenceBurst: 20,
  perConferencePerSecond: 2,
};

interface Bucket {
  tokens: number;
  at: number;
}

/** Most buckets kept; full ones are forgotten first. */
const MAX_BUCKETS = 50_000;

export class ReplyBudget {
  private readonly strangers = new Map<string, Bucket>();
  private readonly conferences = new Map<string, Bucket>();

  constructor(
    private readonly limits: ReplyBudgetLimits = DEFAULT_REPLY_BUDGET,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether a stranger's message to a conference may be answered now (and counts it if so). */
  allowStranger(conferenceId: string, stranger: string): boolean {
    const now = this.clock();
    const { perStrangerBurst, perStrangerRefillSeconds, perConferenceBurst, perConferencePerSecond } =
      this.limits;
    const person = this.bucket(this.strangers, `${conferenceId}\n${stranger}`, perStrangerBurst, now);
    const conference = this.bucket(this.conferences, conferenceId, perConferenceBurst, now);
    refill(person, now, 1 / perStrangerRefillSeconds, perStrangerBurst);
    refill(conference, now, perConferencePerSecond, perConferenceBurst);
    if (person.tokens < 1 || conference.tokens < 1) return false;
    person.tokens -= 1;
    conference.tokens -= 1;
    return true;
  }

  private bucket(map: Map<string, Bucket>, key: string, burst: number, now: number): Bucket {
    let bucket = map.get(key);
    if (!bucket) {
      if (map.size >= MAX_BUCKETS) map.delete(map.keys().next().value!);
      bucket = { tokens: burst, at: now };
      map.set(key, bucket);
    }
    return bucket;
  }
}

function refill(bucket: Bucket, now: number, perSecond: number, burst: number): void {
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
  bucket.at = now;
}
