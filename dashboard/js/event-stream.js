/**
 * Reads the agent's server-sent events (GET /v1/stream) with fetch, not EventSource:
 * EventSource cannot send an Authorization header, and a token in the URL would end up in
 * proxies' and browsers' logs. Reconnects after a failure, backing off to 5 s.
 */

const FIRST_RETRY_MS = 500;
const LAST_RETRY_MS = 5000;

/**
 * Opens the stream; `onEvent(name, data)` gets each event, `onConnection(state, detail)` each
 * change: "connecting", "live", "reconnecting" (with why) or "refused" (the token; no retry).
 * Returns a function that closes it.
 */
export function openEventStream(url, token, { onEvent, onConnection }) {
  const controller = new AbortController();
  let closed = false;
  const run = async () => {
    let retryMs = FIRST_RETRY_MS;
    while (!closed) {
      try {
        onConnection("connecting");
        const response = await fetch(url, {
          headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
          cache: "no-store",
          signal: controller.signal,
        });
        if (response.status === 401 || response.status === 403) {
          onConnection("refused", await errorOf(response));
          return;
        }
        if (!response.ok || response.body === null) throw new Error(await errorOf(response));
        onConnection("live");
        retryMs = FIRST_RETRY_MS;
        await readEvents(response.body, onEvent);
        throw new Error("the agent ended the stream");
      } catch (error) {
        if (closed) return;
        onConnection("reconnecting", error.message);
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        retryMs = Math.min(retryMs * 2, LAST_RETRY_MS);
      }
    }
  };
  run();
  return () => {
    closed = true;
    controller.abort();
  };
}

async function errorOf(response) {
  const text = await response.text().catch(() => "");
  try {
    return JSON.parse(text).error ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}${text === "" ? "" : `: ${text}`}`;
  }
}

async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll("\r\n", "\n");
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const event = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event !== null) onEvent(event.name, event.data);
      end = buffer.indexOf("\n\n");
    }
  }
}

/** One event block of the text/event-stream format: its name and its JSON data, or null. */
export function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  return data.length === 0 ? null : { name, data: JSON.parse(data.join("\n")) };
}
