/** Requests to the agent's API with the bearer token; every data route needs it. */

export class ApiRefusal extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(method, path, token, body) {
  const response = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { error: text };
  }
  if (!response.ok) throw new ApiRefusal(response.status, json.error ?? `HTTP ${response.status}`);
  return json;
}

/** The token's holder and role ({ name, role }), or an ApiRefusal (401: unknown token). */
export function whoAmI(token) {
  return request("GET", "/v1/whoami", token);
}

/** One runtime switch (POST /v1/runtime, as `vigil node standby` etc. send it): a commit result. */
export function postRuntime(token, body) {
  return request("POST", "/v1/runtime", token, body);
}

/**
 * What the cluster would do after a change (GET /v1/simulate, as `vigil simulate`): `change`
 * is { fail: NODE } or { standby: NODE } or { "resource-fail": "RES@NODE" }. Nothing changes.
 */
export function simulate(token, change) {
  return request("GET", `/v1/simulate?${new URLSearchParams(change)}`, token);
}
