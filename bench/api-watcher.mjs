// What watches an agent in bench:detect's "API on" idle figures: a Prometheus and a dashboard.
// Run inside a lab host's namespace, where the agent's API listens on loopback:
//   VIGIL_API_TOKEN=TOKEN node api-watcher.mjs URL [SCRAPE_INTERVAL_MS]
// Holds GET /v1/stream open as the dashboard does (fetch, the token in the Authorization header,
// every event read) and scrapes GET /metrics every SCRAPE_INTERVAL_MS (default 15000,
// Prometheus's usual interval), the first at once. Prints "stream open", one line per scrape
// ("scrape STATUS BYTES"), "stream ended: WHY" if the stream ends, and on SIGTERM "events N"
// (the stream's events so far) before it exits.
const [url, intervalText = "15000"] = process.argv.slice(2);
const token = process.env.VIGIL_API_TOKEN;
const intervalMs = Number(intervalText);
if (!url || !token || !(intervalMs > 0)) {
  process.stderr.write("usage: VIGIL_API_TOKEN=TOKEN api-watcher.mjs URL [SCRAPE_INTERVAL_MS]\n");
  process.exit(2);
}
const headers = { authorization: `Bearer ${token}` };
let events = 0;

async function scrape() {
  try {
    const response = await fetch(`${url}/metrics`, { headers });
    const body = await response.text();
    process.stdout.write(`scrape ${response.status} ${Buffer.byteLength(body)}\n`);
  } catch (error) {
    process.stdout.write(`scrape failed ${error.message}\n`);
  }
}

async function watch() {
  const response = await fetch(`${url}/v1/stream`, {
    headers: { ...headers, accept: "text/event-stream" },
  });
  if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
  process.stdout.write("stream open\n");
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      // The dashboard parses every event's data: so does this client, to read as it does.
      const data = /^data: (.*)$/m.exec(buffer.slice(0, end));
      if (data !== null) JSON.parse(data[1]);
      events++;
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
    }
  }
  throw new Error("the agent ended the stream");
}

process.on("SIGTERM", () => {
  process.stdout.write(`events ${events}\n`, () => process.exit(0));
});
watch().catch((error) => process.stdout.write(`stream ended: ${error.message}\n`));
scrape();
setInterval(scrape, intervalMs);
