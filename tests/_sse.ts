/** A server-sent-events reader for tests: events as they arrive, with a deadline for each. */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

export interface SseReader {
  status: number;
  /** The next event (comments skipped), or null when the stream ended; throws after `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseEvent | null>;
  /** Every event until the stream ends (or `timeoutMs` passes without one: then those read so far). */
  drain(timeoutMs?: number): Promise<SseEvent[]>;
  /** Comments seen so far (heartbeats). */
  comments: string[];
  ended: boolean;
  close(): Promise<void>;
}

export function readSse(response: Response): SseReader {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const queue: (SseEvent | null)[] = [];
  const waiting: ((e: SseEvent | null) => void)[] = [];
  const comments: string[] = [];
  let buffer = "";
  const state = { ended: false };
  const push = (e: SseEvent | null) => {
    const w = waiting.shift();
    if (w) w(e);
    else queue.push(e);
  };
  (async () => {
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let split;
        while ((split = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const event: SseEvent = { data: "" };
          let isEvent = false;
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) comments.push(line.slice(1).trim());
            else if (line.startsWith("id:")) (event.id = line.slice(3).trim(), isEvent = true);
            else if (line.startsWith("event:")) (event.event = line.slice(6).trim(), isEvent = true);
            else if (line.startsWith("data:")) (event.data += line.slice(5).trim(), isEvent = true);
          }
          if (isEvent) push(event);
        }
      }
    } catch {
      // cancelled or broken: the stream has ended
    }
    state.ended = true;
    push(null);
  })();
  const next = (timeoutMs = 5000) => {
    if (queue.length) return Promise.resolve(queue.shift()!);
    return new Promise<SseEvent | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(done), 1);
        reject(new Error(`no event within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (e: SseEvent | null) => {
        clearTimeout(timer);
        resolve(e);
      };
      waiting.push(done);
    });
  };
  return {
    status: response.status,
    next,
    async drain(timeoutMs = 2000) {
      const events: SseEvent[] = [];
      while (true) {
        const e = await next(timeoutMs).catch(() => null);
        if (!e) return events;
        events.push(e);
      }
    },
    comments,
    get ended() {
      return state.ended;
    },
    async close() {
      await reader.cancel().catch(() => {});
    },
  };
}
