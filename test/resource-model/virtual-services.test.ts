/**
 * The `virtual_services` section: a sound one becomes a director primitive whose parameters carry
 * the whole service; each kind of mistake is refused at its path, saying what to write.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parse } from "yaml";
import { checkResourceDocument } from "../../src/resource-check/check-document.js";
import { usableResourceModel } from "../../src/resource-check/usable-model.js";
import {
  readVirtualServiceParams,
  type VirtualService,
  virtualServiceParams,
} from "../../src/resource-model/virtual-service.js";

const NODES = ["node1", "node2", "node3"];

function document(service: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    resources: { "web-ip": { agent: "vip", params: { address: "198.18.0.100/24" } } },
    virtual_services: {
      "web-lvs": {
        vip: "web-ip",
        port: 80,
        scheduler: "wrr",
        real_servers: [
          { address: "198.18.1.11", port: 8080, weight: 3, check: "web1" },
          { address: "198.18.1.12", port: 8080, weight: 1 },
        ],
        sorry_server: { address: "198.18.1.19", port: 8080 },
        ...service,
      },
    },
    groups: { web: ["web-ip", "web-lvs"] },
    checks: {
      web1: { http: { url: "http://198.18.1.11:8080/" }, interval_ms: 500, timeout_ms: 400 },
    },
    ...extra,
  };
}

function problems(doc: unknown): string[] {
  return checkResourceDocument(doc, NODES).problems.map((p) => `${p.path.join(".")}: ${p.message}`);
}

describe("virtual services in the document", () => {
  test("a sound one: a director primitive in the group, its parameters the whole service", () => {
    const { model, problems } = checkResourceDocument(document(), NODES);
    assert.deepEqual(problems, []);
    const primitive = model?.primitives["web-lvs"];
    assert.deepEqual(primitive?.agent, { kind: "director", name: "director" });
    assert.deepEqual(primitive?.params, {
      address: "198.18.0.100",
      port: "80",
      protocol: "tcp",
      scheduler: "wrr",
      real_servers: "198.18.1.11:8080*3@web1,198.18.1.12:8080*1",
      sorry_server: "198.18.1.19:8080",
      masquerade: "false",
      backend: "auto",
    });
    assert.deepEqual(model?.groups.web?.members, ["web-ip", "web-lvs"]);
    assert.equal(primitive?.operations.monitor?.intervalMs, 10_000);
  });

  test("examples/director/resources.yaml passes apply's checks on the examples' three nodes", () => {
    const file = join(import.meta.dirname, "..", "..", "examples", "director", "resources.yaml");
    const { model, problems } = checkResourceDocument(parse(readFileSync(file, "utf8")), [
      "db1",
      "db2",
      "db3",
    ]);
    assert.deepEqual(problems, []);
    assert.equal(model?.primitives["web-lvs"]?.params.masquerade, "true");
  });

  test("a committed document keeps its virtual services (the usable model reads the section)", () => {
    const { model, problems } = usableResourceModel(document(), NODES);
    assert.deepEqual(problems, []);
    assert.equal(model.primitives["web-lvs"]?.agent.kind, "director");
    assert.deepEqual(model.unusable, {});
  });

  const refusals: Array<[string, unknown, RegExp]> = [
    [
      "unknown scheduler",
      document({ scheduler: "lc" }),
      /^virtual_services\.web-lvs\.scheduler: expected a scheduler: rr \(round robin\), wrr \(weighted round robin\) or sh \(source hash\)$/,
    ],
    [
      "weight out of range",
      document({ real_servers: [{ address: "198.18.1.11", port: 8080, weight: 101 }] }),
      /^virtual_services\.web-lvs\.real_servers\.0\.weight: expected a weight from 0 to 100$/,
    ],
    [
      "negative weight",
      document({ real_servers: [{ address: "198.18.1.11", port: 8080, weight: -1 }] }),
      /^virtual_services\.web-lvs\.real_servers\.0\.weight: expected a weight from 0 \(no new connections\) to 100$/,
    ],
    [
      "service port out of range",
      document({ port: 70000 }),
      /^virtual_services\.web-lvs\.port: expected a port from 1 to 65535$/,
    ],
    [
      "real server port out of range",
      document({ real_servers: [{ address: "198.18.1.11", port: 0 }] }),
      /^virtual_services\.web-lvs\.real_servers\.0\.port: expected a port from 1 to 65535$/,
    ],
    [
      "duplicate real server",
      document({
        real_servers: [
          { address: "198.18.1.11", port: 8080 },
          { address: "198.18.1.12", port: 8080 },
          { address: "198.18.1.11", port: 8080, weight: 2 },
        ],
      }),
      /^virtual_services\.web-lvs\.real_servers\.2: real server 198\.18\.1\.11:8080 is listed twice \(real_servers\[0\] and real_servers\[2\]\)/,
    ],
    [
      "sorry server the same as a real server",
      document({ sorry_server: { address: "198.18.1.12", port: 8080 } }),
      /^virtual_services\.web-lvs\.sorry_server: the sorry server 198\.18\.1\.12:8080 is real_servers\[1\]: .*must be another server$/,
    ],
    [
      "an address with a prefix",
      document({ real_servers: [{ address: "198.18.1.11/24", port: 80 }] }),
      /^virtual_services\.web-lvs\.real_servers\.0\.address: expected an IPv4 or IPv6 address without \/prefix/,
    ],
    [
      "a real server of the other family",
      document({ real_servers: [{ address: "2001:db8::11", port: 80 }] }),
      /^virtual_services\.web-lvs\.real_servers\.0\.address: 2001:db8::11 is IPv6 and the VIP 198\.18\.0\.100 \(web-ip\) IPv4/,
    ],
    [
      "no real server",
      document({ real_servers: [] }),
      /^virtual_services\.web-lvs\.real_servers: expected at least one real server$/,
    ],
    [
      "unknown protocol",
      document({ protocol: "sctp" }),
      /^virtual_services\.web-lvs\.protocol: expected a protocol: tcp or udp$/,
    ],
    [
      "an unknown key",
      document({ persistence_ms: 300 }),
      /^virtual_services\.web-lvs: .*persistence_ms/,
    ],
    [
      "masquerade with the ipvs backend",
      document({ masquerade: true, backend: "ipvs" }),
      /^virtual_services\.web-lvs\.masquerade: masquerade is done by the nftables backend: set backend: nftables or auto/,
    ],
    [
      "vip is not a vip resource",
      document({ vip: "web" }),
      /^virtual_services\.web-lvs\.vip: no vip resource named web: a virtual service serves the address of a resource with agent: vip$/,
    ],
    [
      "not in a group after its vip",
      { ...document(), groups: { web: ["web-lvs", "web-ip"] } },
      /^virtual_services\.web-lvs\.vip: web-lvs must run where web-ip runs, after it: put both in one group, web-ip first/,
    ],
    [
      "in no group",
      { ...document(), groups: {} },
      /^virtual_services\.web-lvs\.vip: web-lvs must run where web-ip runs/,
    ],
    [
      "its id taken by a resource",
      {
        ...document(),
        resources: {
          "web-ip": { agent: "vip", params: { address: "198.18.0.100/24" } },
          "web-lvs": { agent: "exec:/bin/true" },
        },
      },
      /^virtual_services\.web-lvs: id web-lvs is used twice; resources, virtual services, groups and clones share one namespace$/,
    ],
    [
      "cloned",
      { ...document(), clones: { many: { of: "web-lvs" } } },
      /^clones\.many\.of: web-lvs is a virtual service: it runs where its vip runs, as one copy, and is not cloned$/,
    ],
    [
      "a check that does not exist",
      document({ real_servers: [{ address: "198.18.1.11", port: 80, check: "web9" }] }),
      /^virtual_services\.web-lvs\.real_servers\.0\.check: no check named web9 \(checks: web1\)$/,
    ],
    [
      "a ttl check",
      document({}, { checks: { web1: { ttl: { ttl_ms: 1000 } } } }),
      /^virtual_services\.web-lvs\.real_servers\.0\.check: check web1 is a ttl check, reported to one node/,
    ],
    [
      "a check bound to a resource",
      document(
        {},
        { checks: { web1: { tcp: { host: "198.18.1.11", port: 8080 }, resource: "web-ip" } } },
      ),
      /^virtual_services\.web-lvs\.real_servers\.0\.check: check web1 watches resource web-ip \(its failure restarts it\)/,
    ],
  ];
  for (const [what, doc, expected] of refusals) {
    test(`refused: ${what}`, () => {
      const found = problems(doc);
      assert.ok(
        found.some((line) => expected.test(line)),
        `expected ${expected} among:\n  ${found.join("\n  ")}`,
      );
    });
  }

  test("two services on one address, port and protocol: the second is refused", () => {
    const doc = document();
    const services = doc.virtual_services as Record<string, unknown>;
    services["web-lvs2"] = { ...(services["web-lvs"] as object) };
    (doc.groups as Record<string, string[]>).web = ["web-ip", "web-lvs", "web-lvs2"];
    assert.ok(
      problems(doc).includes(
        "virtual_services.web-lvs2.port: virtual service web-lvs already serves tcp 198.18.0.100:80",
      ),
      problems(doc).join("\n"),
    );
  });

  test("a check that judges only a real server is enough; one that does nothing at all is refused", () => {
    assert.deepEqual(problems(document()), []);
    const idle = document(
      {},
      {
        checks: {
          web1: { http: { url: "http://198.18.1.11:8080/" } },
          idle: { tcp: { host: "198.18.1.12", port: 8080 } },
        },
      },
    );
    assert.deepEqual(problems(idle), [
      "checks.idle: a check acts on a resource (resource:), sets a node attribute (attribute:) or judges a virtual service's real server (its check:): give one",
    ]);
  });
});

describe("the director's parameters", () => {
  const endpoint4 = fc.record({
    address: fc.ipV4(),
    port: fc.integer({ min: 1, max: 65535 }),
  });
  const endpoint6 = fc.record({
    address: fc.ipV6(),
    port: fc.integer({ min: 1, max: 65535 }),
  });
  const service = fc.oneof(
    ...([4, 6] as const).map((family) => {
      const endpoint = family === 4 ? endpoint4 : endpoint6;
      return fc.record({
        family: fc.constant(family),
        address: family === 4 ? fc.ipV4() : fc.ipV6(),
        port: fc.integer({ min: 1, max: 65535 }),
        protocol: fc.constantFrom("tcp" as const, "udp" as const),
        scheduler: fc.constantFrom("rr" as const, "wrr" as const, "sh" as const),
        realServers: fc.array(
          fc.record(
            {
              address: endpoint.map((e) => e.address),
              port: fc.integer({ min: 1, max: 65535 }),
              weight: fc.integer({ min: 0, max: 100 }),
              check: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
            },
            { requiredKeys: ["address", "port", "weight"] },
          ),
          { minLength: 1, maxLength: 8 },
        ),
        sorryServer: fc.option(endpoint, { nil: undefined }),
        masquerade: fc.boolean(),
        backend: fc.constantFrom("auto" as const, "nftables" as const, "ipvs" as const),
      });
    }),
  );

  test("property: the parameters read back as the service they were written from", () => {
    fc.assert(
      fc.property(service, (written) => {
        // Plain objects (fast-check's records have no prototype), no absent keys.
        const expected = JSON.parse(JSON.stringify(written)) as VirtualService;
        assert.deepEqual(readVirtualServiceParams(virtualServiceParams(expected)), expected);
      }),
    );
  });

  test("damaged parameters are refused naming the parameter", () => {
    const params = virtualServiceParams({
      family: 4,
      address: "198.18.0.100",
      port: 80,
      protocol: "tcp",
      scheduler: "rr",
      realServers: [{ address: "198.18.1.11", port: 80, weight: 1 }],
      masquerade: false,
      backend: "auto",
    });
    assert.throws(() => readVirtualServiceParams({ ...params, real_servers: "198.18.1.11:80" }), {
      param: "real_servers",
      message: /is not ADDRESS:PORT\*WEIGHT\[@CHECK\]/,
    });
    assert.throws(() => readVirtualServiceParams({ ...params, scheduler: "lc" }), {
      param: "scheduler",
    });
    assert.throws(() => readVirtualServiceParams({ ...params, sorry_server: "[2001:db8::1]:80" }), {
      param: "sorry_server",
      message: /one family/,
    });
  });
});
