import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { NodeConfig } from "../../src/config/schema.js";
import { resourceDocumentSchema } from "../../src/resource-model/model-schema.js";
import { parseResourceModel } from "../../src/resource-model/parse-model.js";
import {
  clientLinkBans,
  linkPeersAttribute,
  linksOfVip,
  peersHeardPerLink,
} from "../../src/takeover/client-links.js";

const node = (id: number, name: string): NodeConfig =>
  ({
    id,
    name,
    witness: false,
    links: {
      front: { address: `198.18.0.${10 + id}` },
      back: { address: `198.19.0.${10 + id}`, interface: "eth1" },
    },
  }) as unknown as NodeConfig;
const nodes = [node(1, "a"), node(2, "b"), node(3, "c")];

function model(resources: Record<string, unknown>) {
  const parsed = resourceDocumentSchema.parse({ resources });
  return parseResourceModel(parsed, ["a", "b", "c"]).model;
}

const attributes = (heard: Record<string, number | undefined>) => (name: string) => {
  const count = heard[name];
  return count === undefined ? undefined : { [linkPeersAttribute("front")]: String(count) };
};

describe("a VIP follows its client-facing link", () => {
  const vips = model({
    "web-ip": { agent: "vip", params: { address: "198.18.0.100/24" } },
    "back-ip": { agent: "vip", params: { address: "10.0.0.5/8", interface: "eth1" } },
    legacy: { agent: "ocf:heartbeat:IPaddr2", params: { ip: "198.18.0.101", cidr_netmask: "24" } },
    other: { agent: "vip", params: { address: "203.0.113.7/24" } },
  });

  test("a VIP rides the link whose subnet holds it, or whose interface it is put on", () => {
    assert.deepEqual(linksOfVip(vips.primitives["web-ip"]!, nodes[0]!), ["front"]);
    assert.deepEqual(linksOfVip(vips.primitives["back-ip"]!, nodes[0]!), ["back"]);
    assert.deepEqual(linksOfVip(vips.primitives.legacy!, nodes[0]!), ["front"]);
    assert.deepEqual(linksOfVip(vips.primitives.other!, nodes[0]!), []);
  });

  test("banned where the node hears nobody on the link while others hear each other there", () => {
    const bans = clientLinkBans(vips, nodes, attributes({ a: 0, b: 1, c: 1 }));
    assert.deepEqual(
      bans.map((ban) =>
        ban.kind === "location" ? `${ban.resource}@${ban.node} ${ban.score}` : "",
      ),
      ["legacy@a -1000000", "web-ip@a -1000000"],
    );
  });

  test("nothing moves when the link is down everywhere, or before nodes have said", () => {
    assert.deepEqual(clientLinkBans(vips, nodes, attributes({ a: 0, b: 0, c: 0 })), []);
    assert.deepEqual(clientLinkBans(vips, nodes, attributes({ a: 0 })), []);
    assert.deepEqual(clientLinkBans(vips, nodes, attributes({})), []);
  });

  test("a peer counts as heard on a link while it is up or late there", () => {
    const heard = peersHeardPerLink(
      [
        {
          links: [
            { link: "front", state: "up" },
            { link: "back", state: "down" },
          ],
        },
        {
          links: [
            { link: "front", state: "late" },
            { link: "back", state: "up" },
          ],
        },
      ],
      ["front", "back"],
    );
    assert.deepEqual(heard, { front: 2, back: 1 });
  });
});
