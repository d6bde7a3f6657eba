import { request } from "node:http";

export class ControlClientError extends Error {
  override readonly name = "ControlClientError";
}

/** GETs a route of the local agent's control socket and returns the parsed JSON body. */
export function controlGet<T>(socketPath: string, path: string, timeoutMs = 2000): Promise<T> {
  return controlRequest<T>(socketPath, "GET", path, undefined, timeoutMs);
}

/** POSTs a JSON body to a route of the local agent's control socket. */
export function controlPost<T>(
  socketPath: string,
  path: string,
  body: unknown,
  timeoutMs = 10_000,
): Promise<T> {
  return controlRequest<T>(socketPath, "POST", path, body, timeoutMs);
}

function controlRequest<T>(
  socketPath: string,
  method: "GET" | "POST",
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          const body = JSON.parse(text) as T & { error?: string };
          if (response.statusCode !== 200) {
            reject(
              new ControlClientError(
                `agent answered ${response.statusCode}: ${body.error ?? text}`,
              ),
            );
          } else {
            resolve(body);
          }
        } catch {
          reject(
            new ControlClientError(`agent sent a reply that is not JSON: ${text.slice(0, 200)}`),
          );
        }
      });
    });
    req.on("timeout", () => {
      req.destroy();
      reject(
        new ControlClientError(`agent on ${socketPath} did not answer within ${timeoutMs} ms`),
      );
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      const hint =
        error.code === "ENOENT" || error.code === "ECONNREFUSED"
          ? "is the agent running? (vigil agent), or pass --socket PATH"
          : error.code === "EACCES"
            ? "the control socket is root-only: run as root"
            : error.message;
      reject(new ControlClientError(`cannot reach the agent at ${socketPath}: ${hint}`));
    });
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
