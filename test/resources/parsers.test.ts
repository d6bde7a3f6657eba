import assert from "node:assert/strict";
import { test } from "node:test";
import { formatAgentRef } from "../../src/resource-model/agent-ref.js";
import { parseAgentRef } from "../../src/resource-model/parse-model.js";
import {
  addressValue,
  parseVipAddress,
  subnetContains,
} from "../../src/resource-model/vip-address.js";
import {
  MetadataError,
  parseDurationMs,
  parseOcfMetadata,
} from "../../src/resources/agents/metadata.js";
import { parseXml, XmlParseError } from "../../src/resources/agents/xml.js";

test("xml: comments, CDATA, entities, single quotes and self-closing tags", () => {
  const root = parseXml(
    `<?xml version="1.0"?>\n<!DOCTYPE a SYSTEM "a.dtd">\n<!-- c --><a x='1 &amp; 2'><b>&lt;hi&gt;&#65;&#x42;</b><![CDATA[<raw>]]><c/></a>`,
  );
  assert.equal(root.name, "a");
  assert.equal(root.attributes.x, "1 & 2");
  assert.equal(root.children[0]?.text, "<hi>AB");
  assert.equal(root.text, "<raw>");
  assert.equal(root.children[1]?.name, "c");
});

test("xml: malformed documents are rejected with the offset", () => {
  assert.throws(() => parseXml("<a><b></a>"), /invalid XML at offset 10: <\/a> does not match <b>/);
  assert.throws(() => parseXml("<a>"), /<a> is never closed/);
  assert.throws(() => parseXml("<a>&bogus;</a>"), XmlParseError);
  assert.throws(() => parseXml("<!DOCTYPE a [<!ENTITY x 'y'>]><a/>"), /internal subsets/);
});

test("meta-data: durations and a missing resource-agent root", () => {
  assert.equal(parseDurationMs("20s", "t"), 20_000);
  assert.equal(parseDurationMs("20", "t"), 20_000);
  assert.equal(parseDurationMs("500ms", "t"), 500);
  assert.equal(parseDurationMs("2min", "t"), 120_000);
  assert.throws(
    () => parseDurationMs("soon", "action start timeout"),
    /action start timeout: "soon"/,
  );
  assert.throws(() => parseOcfMetadata("<agent/>"), MetadataError);
  const parsed = parseOcfMetadata(
    `<resource-agent name="x"><parameters><parameter name="p" required="1"><content type="integer" default="3"/></parameter></parameters><actions><action name="promote" timeout="10s" role="Promoted"/></actions></resource-agent>`,
  );
  assert.deepEqual(parsed.parameters, [
    { name: "p", required: true, unique: false, type: "integer", default: "3" },
  ]);
  assert.deepEqual(parsed.actions, [{ name: "promote", timeoutMs: 10_000, role: "Promoted" }]);
});

test("vip addresses: prefixes, defaults, IPv6 spellings, subnets", () => {
  assert.deepEqual(
    { ...parseVipAddress("198.18.0.10"), value: undefined },
    { family: 4, address: "198.18.0.10", prefixLength: 32, value: undefined },
  );
  assert.equal(parseVipAddress("198.18.0.10/24").prefixLength, 24);
  assert.equal(parseVipAddress("2001:db8::1").prefixLength, 128);
  assert.equal(addressValue("2001:db8::1", 6), addressValue("2001:0db8:0:0:0:0:0:0001", 6));
  assert.equal(addressValue("::ffff:192.0.2.1", 6), (0xffffn << 32n) | 0xc0000201n);
  assert.throws(() => parseVipAddress("198.18.0.300"), /not an IPv4 or IPv6 address/);
  assert.throws(() => parseVipAddress("198.18.0.1/33"), /prefix must be 1..32/);
  const net = addressValue("198.18.4.1", 4);
  assert.equal(subnetContains(net, 24, addressValue("198.18.4.200", 4), 4), true);
  assert.equal(subnetContains(net, 24, addressValue("198.18.5.1", 4), 4), false);
});

test("agent references: the written form round-trips through parse and format", () => {
  for (const text of [
    "vip",
    "ocf:heartbeat:IPaddr2",
    "exec:/usr/local/bin/x",
    "lsb:nginx",
    "systemd:redis.service",
  ]) {
    const ref = parseAgentRef(text);
    assert.ok(!("error" in ref), text);
    assert.equal(formatAgentRef(ref), text);
  }
});
