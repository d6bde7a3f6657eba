import { ImportError, type ImportReport } from "../report.js";
import { freshId, type ResourceDocumentDraft, takenInDocument } from "../resource-file.js";
import type { Statement } from "./parse.js";
import type { Instance } from "./vrrp.js";
import {
  eachLine,
  executableOf,
  seconds,
  skipBlock,
  skipListed,
  wholeNumber,
  wrapperPlaceholder,
} from "./walk.js";

const SCHEDULERS = new Set(["rr", "wrr", "sh"]);
const CHECKERS = new Set([
  "HTTP_GET",
  "SSL_GET",
  "TCP_CHECK",
  "MISC_CHECK",
  "SMTP_CHECK",
  "DNS_CHECK",
  "BFD_CHECK",
  "FILE_CHECK",
  "UDP_CHECK",
  "PING_CHECK",
]);

const SERVICE_NOT_TRANSLATED: Record<string, string> = {
  persistence_timeout:
    "no persistence timeout: scheduler sh keeps a client on one real server while the healthy set stays",
  persistence_granularity: "no persistence: scheduler sh hashes the client's address",
  virtualhost: "the http check's url names the host it asks",
  alpha:
    "a real server counts as healthy until its check fails (keepalived's default without alpha)",
  omega: "nothing is run when a service is removed",
  quorum: "no quorum of real servers: the sorry server takes over when none is healthy",
  quorum_up: "no quorum of real servers",
  quorum_down: "no quorum of real servers",
  hysteresis: "no quorum of real servers",
  ops: "one-packet scheduling is not supported",
  retry: "each check's own fall",
  delay_before_retry: "a check is tried every interval_ms; there is no separate retry delay",
  connect_timeout: "each check's own timeout",
  inhibit_on_failure: "a failing real server is taken out of the service (not left with weight 0)",
  notify_up:
    "a check's changes are events for hooks (check_passing, check_failing: docs/resources.md#hooks-notifications)",
  notify_down:
    "a check's changes are events for hooks (check_passing, check_failing: docs/resources.md#hooks-notifications)",
  smtp_alert: "hooks send notifications (docs/resources.md#hooks-notifications)",
};

/**
 * virtual_server ADDRESS PORT: a virtual service in the group of the vrrp_instance whose VIP is
 * ADDRESS, its real servers judged by checks made from their HTTP_GET, SSL_GET, TCP_CHECK or
 * MISC_CHECK blocks, every delay_loop seconds.
 */
export function translateVirtualServer(
  statement: Statement,
  instances: readonly Instance[],
  document: ResourceDocumentDraft,
  report: ImportReport,
): void {
  const [, address, portText] = statement.words;
  if (address === "fwmark" || address === "group") {
    skipBlock(
      statement,
      `virtual_server ${address}: Vigil's virtual services are an address and a port`,
      report,
    );
    return;
  }
  if (address === undefined || !/^[0-9a-fA-F:.]+$/.test(address))
    throw new ImportError(statement, "virtual_server: expected an address and a port");
  const port = wholeNumber(statement, portText, 1, 65535);
  const taken = takenInDocument(document);
  const owner = instances.find((instance) => instance.vips.has(address));
  let group: string;
  let vip: string;
  if (owner?.group !== undefined) {
    group = owner.group;
    vip = owner.vips.get(address)!;
  } else {
    vip = freshId(`ip-${address}`, taken);
    document.resources[vip] = {
      agent: "vip",
      params: { address: `${address}/${address.includes(":") ? 128 : 32}` },
    };
    group = freshId(`lvs-${address}`, taken);
    document.groups[group] = { members: [vip] };
    report.placeholder({
      document: "resources",
      path: ["resources", vip, "params", "address"],
      message: `no vrrp_instance has ${address}: this vip, alone in group ${group}, stands for it; give it its subnet's prefix (and an interface)`,
      at: statement,
    });
  }
  const id = freshId(`lvs-${address}-${port}`, taken);
  const service: Record<string, unknown> = { vip, port, protocol: "tcp", scheduler: "wrr" };
  const servers: Record<string, unknown>[] = [];
  let intervalMs = 60_000;
  const delayLoop = statement.block?.find((line) => line.words[0] === "delay_loop");
  if (delayLoop !== undefined) intervalMs = seconds(delayLoop, delayLoop.words[1]);

  for (const line of statement.block ?? []) {
    const [key, value, extra] = line.words as [string, string | undefined, string | undefined];
    switch (key) {
      case "delay_loop":
        report.translate(line, `the real servers' checks every ${intervalMs} ms (interval_ms)`);
        break;
      case "lb_algo":
        if (value !== undefined && SCHEDULERS.has(value)) {
          service.scheduler = value;
          report.translate(line, `scheduler: ${value}`);
        } else
          report.untranslated(
            line,
            `Vigil's director schedules rr, wrr or sh: ${value} is not one; wrr is used`,
          );
        break;
      case "lb_kind":
        if (value === "NAT")
          report.translate(
            line,
            "the director DNATs (nftables, or IPVS NAT): the real servers route back through it",
          );
        else
          report.untranslated(
            line,
            `${value}: Vigil's director forwards by NAT only; the real servers must answer through the director (their route, or masquerade: true)`,
          );
        break;
      case "protocol":
        if (value !== "TCP" && value !== "UDP")
          throw new ImportError(line, `protocol: expected TCP or UDP, got "${value}"`);
        service.protocol = value.toLowerCase();
        report.translate(line, `protocol: ${value.toLowerCase()}`);
        break;
      case "sorry_server":
        service.sorry_server = { address: value, port: wholeNumber(line, extra, 1, 65535) };
        report.translate(line, `sorry_server ${value}:${extra}`);
        break;
      case "ha_suspend":
        report.translate(line, "the director runs only where its VIP runs (always)");
        break;
      case "real_server":
        servers.push(realServer(line, id, intervalMs, document, report));
        break;
      default:
        skipListed(line, SERVICE_NOT_TRANSLATED, "virtual_server", report);
    }
  }
  if (servers.length === 0) throw new ImportError(statement, "virtual_server: no real_server");
  service.real_servers = servers;
  document.virtual_services[id] = service;
  (document.groups[group]!.members as string[]).push(id);
  report.translate(statement, `virtual service ${id} in group ${group}, after vip ${vip}`);
}

function realServer(
  statement: Statement,
  serviceId: string,
  intervalMs: number,
  document: ResourceDocumentDraft,
  report: ImportReport,
): Record<string, unknown> {
  const [, address, portText] = statement.words;
  if (address === undefined)
    throw new ImportError(statement, "real_server: expected an address and a port");
  const port = wholeNumber(statement, portText, 1, 65535);
  const server: Record<string, unknown> = { address, port };
  let checked = false;
  for (const line of statement.block ?? []) {
    const key = line.words[0]!;
    if (key === "weight") {
      const weight = wholeNumber(line, line.words[1], 0, 65535);
      server.weight = Math.min(weight, 100);
      if (weight > 100)
        report.untranslated(line, `weight ${weight}: Vigil's weights go to 100; 100 is used`);
      else report.translate(line, `weight ${weight}`);
    } else if (CHECKERS.has(key)) {
      if (checked) {
        skipBlock(line, "a real server has one check in Vigil: the first one is used", report);
        continue;
      }
      checked = true;
      const translated = checkOf(line, address, port, intervalMs, report);
      if (translated === undefined) continue;
      const checkId = freshId(`${serviceId}-${address}-${port}`, (id) => id in document.checks);
      document.checks[checkId] = translated.check;
      if (translated.command !== undefined)
        wrapperPlaceholder(report, ["checks", checkId, "exec"], translated.command, line);
      server.check = checkId;
      report.translate(line, `check ${checkId}`);
    } else skipListed(line, SERVICE_NOT_TRANSLATED, "real_server", report);
  }
  report.translate(statement, `real server ${address}:${port} of ${serviceId}`);
  return server;
}

/** HTTP_GET / SSL_GET / TCP_CHECK / MISC_CHECK → a check; other checkers are not translated. */
function checkOf(
  statement: Statement,
  address: string,
  port: number,
  intervalMs: number,
  report: ImportReport,
): { check: Record<string, unknown>; command?: string } | undefined {
  const kind = statement.words[0]!;
  if (!["HTTP_GET", "SSL_GET", "TCP_CHECK", "MISC_CHECK"].includes(kind)) {
    skipBlock(
      statement,
      `${kind}: Vigil's checks are http, tcp and exec: write it as an exec check`,
      report,
    );
    return undefined;
  }
  let connectPort = port;
  let connectHost = address;
  let timeoutMs = 5000;
  let fall = 1;
  let path = "/";
  let status: number[] | undefined;
  let misc: string | undefined;
  for (const line of eachLine(statement).slice(1)) {
    const [key, value] = line.words as [string, string | undefined];
    switch (key) {
      case "connect_port":
        connectPort = wholeNumber(line, value, 1, 65535);
        report.translate(line, `the check's port ${connectPort}`);
        break;
      case "connect_ip":
        connectHost = value ?? address;
        report.translate(line, `the check's host ${connectHost}`);
        break;
      case "connect_timeout":
      case "misc_timeout":
        timeoutMs = seconds(line, value);
        report.translate(line, `the check's timeout_ms ${timeoutMs} (below its interval)`);
        break;
      case "retry":
      case "nb_get_retry":
        fall = wholeNumber(line, value, 1, 100);
        report.translate(line, `the check's fall: ${fall}`);
        break;
      case "url":
        if (line !== statement.block?.find((entry) => entry.words[0] === "url")) {
          skipBlock(line, "one url per check in Vigil: the first is used", report);
          break;
        }
        report.translate(line, "the check's url");
        break;
      case "path":
        path = value ?? "/";
        report.translate(line, `the check's url path ${path}`);
        break;
      case "status_code":
        status = [...(status ?? []), wholeNumber(line, value, 100, 599)];
        report.translate(line, `the check's status ${value}`);
        break;
      case "misc_path":
        misc = line.words.slice(1).join(" ");
        report.translate(line, "the check's executable");
        break;
      case "misc_dynamic":
        report.untranslated(
          line,
          "an exec check passes or fails; its exit code does not set a weight",
        );
        break;
      case "digest":
        report.untranslated(
          line,
          "Vigil's http check matches the status and a body pattern, not a digest of the body",
        );
        break;
      default:
        // The checker's own block's lines are walked one by one: list this line alone.
        skipListed({ ...line, block: [] }, SERVICE_NOT_TRANSLATED, kind, report);
    }
  }
  const timing = {
    interval_ms: intervalMs,
    timeout_ms: Math.max(10, Math.min(timeoutMs, intervalMs - 1)),
    rise: 1,
    fall,
  };
  if (kind === "TCP_CHECK")
    return { check: { tcp: { host: connectHost, port: connectPort }, ...timing } };
  if (kind === "MISC_CHECK") {
    if (misc === undefined) throw new ImportError(statement, "MISC_CHECK: no misc_path");
    const executable = executableOf(misc);
    return executable === undefined
      ? { check: { exec: `/etc/vigil/checks/misc-${address}-${port}`, ...timing }, command: misc }
      : { check: { exec: executable, ...timing } };
  }
  const scheme = kind === "SSL_GET" ? "https" : "http";
  const host = connectHost.includes(":") ? `[${connectHost}]` : connectHost;
  return {
    check: {
      http: {
        url: `${scheme}://${host}:${connectPort}${path.startsWith("/") ? path : `/${path}`}`,
        ...(status !== undefined ? { status } : {}),
        // keepalived's SSL_GET does not verify the server's certificate.
        ...(kind === "SSL_GET" ? { tls_verify: false } : {}),
      },
      ...timing,
    },
  };
}
