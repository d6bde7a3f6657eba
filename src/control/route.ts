/**
 * Routes are keyed "METHOD /path". A handler gets the parsed JSON body (undefined for GET) and
 * returns the reply body; it throws RequestError for a bad request.
 */
export type Route = (body: unknown) => unknown | Promise<unknown>;

export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
