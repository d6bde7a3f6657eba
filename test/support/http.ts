import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

/** One request to the API (HTTPS when the URL says so, trusting `ca`); the reply in full. */
export function apiRequest(
  url: string,
  options: { method?: string; token?: string; body?: string | Buffer; ca?: Buffer } = {},
): Promise<HttpReply> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: options.method ?? "GET",
        headers: {
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(options.body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        timeout: 10_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error(`${url}: no answer within 10 s`)));
    request.on("error", reject);
    request.end(options.body);
  });
}
