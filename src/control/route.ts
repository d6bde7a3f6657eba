/**
 * Routes are keyed "METHOD /path". A handler gets the parsed JSON body (undefined for GET) and
 * the URL's query parameters (what a GET asks with), and returns the reply body; it throws
 * RequestError for a bad request.
 */
export type Route = (body: unknown, query: URLSearchParams) => unknown | Promise<unknown>;

/**
 * The route for "METHOD /path": an exact key, or a pattern whose `:name` segments match one
 * path segment each ("GET /v1/health/:resource/:role"). A pattern's segments are handed to the
 * route as query parameters; a query that also gives one of them is refused (which would win?).
 */
export function findRoute(
  routes: Readonly<Record<string, Route>>,
  method: string,
  path: string,
  query: URLSearchParams,
): { route: Route; query: URLSearchParams } | undefined {
  const exact = Object.hasOwn(routes, `${method} ${path}`)
    ? routes[`${method} ${path}`]
    : undefined;
  if (exact !== undefined) return { route: exact, query };
  const segments = path.split("/");
  for (const [key, route] of Object.entries(routes)) {
    if (!key.includes("/:")) continue;
    const [keyMethod, pattern = ""] = key.split(" ");
    const patternSegments = pattern.split("/");
    if (keyMethod !== method || patternSegments.length !== segments.length) continue;
    const params = new URLSearchParams(query);
    const matches = patternSegments.every((segment, index) => {
      const given = segments[index] ?? "";
      if (!segment.startsWith(":")) return segment === given;
      if (given === "") return false;
      const name = segment.slice(1);
      if (query.has(name))
        throw new RequestError(
          400,
          `${name} is part of the path: do not give it as a query parameter`,
        );
      let value: string;
      try {
        value = decodeURIComponent(given);
      } catch {
        throw new RequestError(400, `path segment ${index} is not valid percent-encoding`);
      }
      params.set(name, value);
      return true;
    });
    if (matches) return { route, query: params };
  }
  return undefined;
}

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
