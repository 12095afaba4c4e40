/**
 * What both listeners (Neon's and postgres.js's) share: the channels their one connection serves,
 * who hears each, and the LISTEN statement for a channel name checked against injection.
 */

export interface Listener {
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export class Channels {
  readonly #handlers = new Map<string, Set<(payload: string) => void>>();

  /** Adds a subscriber; true when the channel is new to this connection (it must be listened to). */
  add(channel: string, onPayload: (payload: string) => void): boolean {
    listenStatement(channel);
    const known = this.#handlers.get(channel);
    if (known) {
      known.add(onPayload);
      return false;
    }
    this.#handlers.set(channel, new Set([onPayload]));
    return true;
  }

  /** Removes the subscriber again (the channel stays listened to: others may come). */
  remover(channel: string, onPayload: (payload: string) => void): () => Promise<void> {
    return () => {
      this.#handlers.get(channel)?.delete(onPayload);
      return Promise.resolve();
    };
  }

  deliver(channel: string, payload: string): void {
    for (const handler of this.#handlers.get(channel) ?? []) handler(payload);
  }

  /** The LISTEN statements to send on a (re)opened connection. */
  statements(): string[] {
    return [...this.#handlers.keys()].map(listenStatement);
  }
}

export function listenStatement(channel: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  return `LISTEN ${channel}`;
}
