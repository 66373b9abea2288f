/**
 * The bodies of a first sync's page, asked for as soon as its envelopes are in (mailbox.ts syncNewest): the listing
 * that ran the sync needs them for its snippets next, so the server reads the message files (~20 ms for 20 of them
 * on a 10,000-message Maildir here) while this process stores the envelopes, instead of afterwards. Each body is
 * handed out once, to the first loadBodies that asks for its UID; what nobody asks for is dropped after a while.
 */
import type { ParsedBody } from '../../store/store.js';

/** How long early bodies nobody asked for are kept (the listing asks within milliseconds, the prefetch soon after). */
const KEEP_MS = 60_000;

interface Early {
  uidvalidity: number;
  /** UIDs not handed out yet. */
  uids: Set<number>;
  /** Null when the fetch failed: the asker fetches them itself. */
  bodies: Promise<Map<number, ParsedBody> | null>;
  timer: NodeJS.Timeout;
}

export class EarlyBodies {
  private readonly byFolder = new Map<string, Early>();

  /** Starts fetching (`fetch`) the bodies of these UIDs of a folder, replacing any earlier ones of that folder. */
  start(folder: string, uidvalidity: number, uids: readonly number[], fetch: () => Promise<Map<number, ParsedBody>>): void {
    this.drop(folder);
    if (uids.length === 0) return;
    const bodies = fetch().catch(() => null);
    const timer = setTimeout(() => this.drop(folder), KEEP_MS).unref();
    this.byFolder.set(folder, { uidvalidity, uids: new Set(uids), bodies, timer });
  }

  /** A sync saw this UIDVALIDITY: early bodies of another one name other messages (RFC 3501 §2.3.1.1). */
  seen(folder: string, uidvalidity: number): void {
    if (this.byFolder.get(folder)?.uidvalidity !== uidvalidity) this.drop(folder);
  }

  /** The early bodies among `uids` (each handed out once) and the UIDs still to fetch (not fetched early, or missing). */
  async take(folder: string, uids: readonly number[]): Promise<{ got: Map<number, ParsedBody>; rest: number[] }> {
    const got = new Map<number, ParsedBody>();
    const early = this.byFolder.get(folder);
    const mine = new Set(early ? uids.filter((uid) => early.uids.has(uid)) : []);
    if (!early || mine.size === 0) return { got, rest: [...uids] };
    for (const uid of mine) early.uids.delete(uid);
    if (early.uids.size === 0) this.drop(folder);
    const rest = uids.filter((uid) => !mine.has(uid));
    const bodies = await early.bodies;
    for (const uid of mine) {
      const body = bodies?.get(uid);
      // Not there (the fetch failed, or the message was expunged meanwhile): asked for again, as without this.
      if (body) got.set(uid, body);
      else rest.push(uid);
    }
    return { got, rest };
  }

  drop(folder: string): void {
    const early = this.byFolder.get(folder);
    if (!early) return;
    clearTimeout(early.timer);
    this.byFolder.delete(folder);
  }
}
