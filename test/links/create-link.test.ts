import assert from "node:assert/strict";
import { test } from "node:test";
import type { LinkConfig } from "../../src/config/schema.js";
import type { LinkNode } from "../../src/links/attachments.js";
import { receiveAddress } from "../../src/links/bind-address.js";
import { createLink } from "../../src/links/create-link.js";

const mc0: LinkConfig = {
  name: "mc0",
  type: "mcast",
  group: "239.255.42.1",
  port: 694,
  ttl: 1,
  loopback: false,
};
const bc0: LinkConfig = { name: "bc0", type: "bcast", port: 694 };

function node(links: LinkNode["links"]): LinkNode {
  return { id: 1, name: "alpha", links };
}

test("createLink builds the kind the configuration names", () => {
  const alpha = node({ mc0: { interface: "eth1" }, bc0: { interface: "eth1" } });
  assert.equal(createLink(mc0, alpha, []).kind, "mcast");
  assert.equal(createLink(bc0, alpha, []).kind, "bcast");
  assert.equal(createLink(mc0, alpha, []).name, "mc0");
});

test("mcast refuses a group outside 224.0.0.0/4", () => {
  assert.throws(
    () => createLink({ ...mc0, group: "198.18.0.1" }, node({ mc0: { interface: "eth1" } }), []),
    {
      message:
        "link mc0: group 198.18.0.1 is not a multicast address (expected 224.0.0.0 to 239.255.255.255)",
    },
  );
});

test("mcast and bcast need to know the local interface or address", () => {
  assert.throws(() => createLink(mc0, node({ mc0: {} }), []), {
    message: "link mc0: node alpha needs an address or an interface on mcast link mc0",
  });
  assert.throws(() => createLink(bc0, node({ bc0: { port: 700 } }), []), {
    message: "link bc0: node alpha needs an interface on bcast link bc0",
  });
});

test("an interface this host lacks rejects open(), naming the link and the interface", async () => {
  for (const config of [mc0, bc0]) {
    const link = createLink(config, node({ [config.name]: { interface: "vigil-none0" } }), []);
    await assert.rejects(
      link.open(
        () => {},
        () => {},
      ),
      (error: Error) => {
        assert.equal(error.name, "LinkError");
        assert.match(
          error.message,
          new RegExp(
            `^link ${config.name}: interface vigil-none0 not found or not running \\(interfaces up: .*lo`,
          ),
        );
        return true;
      },
    );
    await link.close();
  }
});

test("bcast by address alone needs an interface holding that address", async () => {
  const link = createLink(bc0, node({ bc0: { address: "198.18.254.254" } }), []);
  await assert.rejects(
    link.open(
      () => {},
      () => {},
    ),
    { message: "link bc0: no interface of this host has address 198.18.254.254" },
  );
});

test("group and broadcast sockets bind to their destination on Linux only", () => {
  assert.equal(receiveAddress("239.255.42.1", "linux"), "239.255.42.1");
  assert.equal(receiveAddress("198.18.1.255", "freebsd"), "0.0.0.0");
});
