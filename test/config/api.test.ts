import assert from "node:assert/strict";
import { test } from "node:test";
import { isLoopback, parseListenAddress } from "../../src/config/api-schema.js";
import { parseConfigText } from "../../src/config/load.js";
import { configErrorOf, issueAt, replaceOnce, VALID_YAML } from "./helpers.js";

const withApi = (api: string) => `${VALID_YAML}api: ${api}\n`;

test("the API is off by default", () => {
  assert.equal(parseConfigText(VALID_YAML, "test.yaml").api, undefined);
});

test("api: listen on loopback without TLS, tokens_file defaulted", () => {
  const config = parseConfigText(withApi('{ listen: "127.0.0.1:9420" }'), "test.yaml");
  assert.deepEqual(config.api, { listen: "127.0.0.1:9420", tokens_file: "/etc/vigil/api-tokens" });
  assert.equal(
    parseConfigText(withApi('{ listen: "[::1]:9420", tokens_file: /etc/vigil/t }'), "t.yaml").api
      ?.tokens_file,
    "/etc/vigil/t",
  );
});

test("a non-loopback address without TLS is refused at api.listen, saying why", () => {
  const error = configErrorOf(withApi('{ listen: "0.0.0.0:9420" }'));
  const issue = issueAt(error, "api.listen");
  assert.equal(issue.line, 25);
  assert.equal(
    issue.message,
    "0.0.0.0:9420 is not a loopback address, and without api.tls the API's bearer tokens would cross the network in clear: add api.tls { cert, key }, or listen on 127.0.0.1 (or [::1])",
  );
  const withTls = parseConfigText(
    withApi(
      '{ listen: "0.0.0.0:9420", tls: { cert: /etc/vigil/api.crt, key: /etc/vigil/api.key } }',
    ),
    "test.yaml",
  );
  assert.equal(withTls.api?.tls?.cert, "/etc/vigil/api.crt");
});

test("malformed addresses, relative paths and unknown keys name their key", () => {
  assert.match(
    issueAt(configErrorOf(withApi('{ listen: "localhost:9420" }')), "api.listen").message,
    /^expected ADDR:PORT with a numeric address, such as 127\.0\.0\.1:9420 or \[::1\]:9420 \(got "localhost:9420"\)$/,
  );
  assert.match(
    issueAt(configErrorOf(withApi('{ listen: "127.0.0.1:70000" }')), "api.listen").message,
    /^expected ADDR:PORT/,
  );
  assert.match(
    issueAt(
      configErrorOf(withApi('{ listen: "127.0.0.1:9420", tokens_file: tokens }')),
      "api.tokens_file",
    ).message,
    /expected an absolute path such as \/etc\/vigil\/api-tokens/,
  );
  assert.ok(
    configErrorOf(withApi('{ listen: "127.0.0.1:9420", port: 1 }')).issues.some(
      (issue) => issue.keyPath === "api" || issue.keyPath === "api.port",
    ),
  );
});

test("a node's own api_listen: only with the API on, and loopback without TLS", () => {
  const nodeListen = (address: string) =>
    replaceOnce(VALID_YAML, "    name: beta\n", `    name: beta\n    api_listen: "${address}"\n`);
  assert.match(
    issueAt(configErrorOf(nodeListen("127.0.0.1:9421")), "nodes[1].api_listen").message,
    /^node beta sets api_listen, but the API is off: add an api section/,
  );
  const text = `${nodeListen("198.18.0.2:9421")}api: { listen: "127.0.0.1:9420" }\n`;
  assert.match(
    issueAt(configErrorOf(text), "nodes[1].api_listen").message,
    /^198\.18\.0\.2:9421 is not a loopback address, and without api\.tls/,
  );
  const ok = parseConfigText(
    `${nodeListen("127.0.0.2:9421")}api: { listen: "127.0.0.1:9420" }\n`,
    "t.yaml",
  );
  assert.equal(ok.nodes[1]?.api_listen, "127.0.0.2:9421");
});

test("listen addresses: numeric IPv4, bracketed IPv6; loopback is 127/8 and ::1", () => {
  assert.deepEqual(parseListenAddress("127.0.0.1:9420"), { host: "127.0.0.1", port: 9420 });
  assert.deepEqual(parseListenAddress("[::1]:9420"), { host: "::1", port: 9420 });
  assert.equal(parseListenAddress("::1:9420"), null);
  assert.equal(parseListenAddress("example.org:80"), null);
  assert.equal(isLoopback("127.8.9.10"), true);
  assert.equal(isLoopback("::1"), true);
  assert.equal(isLoopback("0.0.0.0"), false);
  assert.equal(isLoopback("::"), false);
});
