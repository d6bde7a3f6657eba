/**
 * Routes are keyed "METHOD /path". A handler gets the parsed JSON body (undefined for GET) and
 * the URL's query parameters (what a GET asks with), and returns the reply body; it throws
 * RequestError for a bad request.
 */
export type Route = (body: unknown, query: URLSearchParams) => unknown | Promise<unknown>;

/**
 * The query's parameters, each given at most once and each one the route knows; else a 400
 * naming the parameter. A parameter not given is absent from the result.
 */
export function queryParameters<const N extends string>(
  query: URLSearchParams,
  known: readonly N[],
): Partial<Record<N, string>> {
  const values: Partial<Record<N, string>> = {};
  for (const name of new Set(query.keys())) {
    if (!(known as readonly string[]).includes(name)) {
      throw new RequestError(
        400,
        `unknown query parameter ${name} (known: ${known.join(", ") || "none"})`,
      );
    }
    const given = query.getAll(name);
    if (given.length > 1) throw new RequestError(400, `query parameter ${name} is given twice`);
    values[name as N] = given[0] as string;
  }
  return values;
}

export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
