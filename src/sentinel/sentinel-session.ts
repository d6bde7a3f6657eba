import { array, bulk, bulks, errorReply, integer, OK, type RespValue, simple } from "./resp.js";
import {
  infoText,
  masterReply,
  replicaReply,
  type SentinelWorld,
  sentinelReply,
} from "./sentinel-replies.js";
import { type ServiceView, servingMaster } from "./sentinel-view.js";

export interface SessionAnswer {
  replies: RespValue[];
  /** Close the connection once the replies are written (QUIT). */
  close: boolean;
}

/** What Sentinel accepts from a client in subscribed mode (RESP2). */
const SUBSCRIBED_COMMANDS = new Set([
  "subscribe",
  "psubscribe",
  "unsubscribe",
  "punsubscribe",
  "ping",
  "quit",
  "reset",
]);

/** Sentinel's commands that change its monitoring: Vigil's resources are moved through Vigil. */
const READ_ONLY_REFUSED = new Set([
  "failover",
  "monitor",
  "remove",
  "set",
  "reset",
  "flushconfig",
  "config",
  "simulate-failure",
  "debug",
]);

/** Sentinel publishes one channel here: a client needs a few subscriptions, not thousands. */
const MAX_SUBSCRIPTIONS = 64;

/** Names a client may give itself: what Redis's CLIENT SETNAME takes, bounded. */
const CLIENT_NAME = /^[!-~]{0,128}$/;

/**
 * One client connection of the Sentinel protocol: its name and subscriptions, and each command's
 * replies. Pure: the listener (sentinel-server.ts) feeds it commands and published messages.
 */
export class SentinelSession {
  private clientName: string | null = null;
  private readonly channels = new Set<string>();
  private readonly patterns = new Set<string>();

  constructor(
    private readonly world: SentinelWorld,
    private readonly clientId: number,
  ) {}

  get subscribed(): boolean {
    return this.channels.size + this.patterns.size > 0;
  }

  handle(args: readonly string[]): SessionAnswer {
    const name = (args[0] ?? "").toLowerCase();
    const rest = args.slice(1);
    if (this.subscribed && !SUBSCRIBED_COMMANDS.has(name))
      return this.one(
        errorReply(
          `ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
        ),
      );
    switch (name) {
      case "ping":
        if (rest.length > 1) return this.one(arity("ping"));
        if (this.subscribed) return this.one(bulks(["pong", rest[0] ?? ""]));
        return this.one(rest[0] === undefined ? simple("PONG") : bulk(rest[0]));
      case "echo":
        return this.one(rest.length === 1 ? bulk(rest[0]!) : arity("echo"));
      case "quit":
        return { replies: [OK], close: true };
      case "reset":
        this.channels.clear();
        this.patterns.clear();
        this.clientName = null;
        return this.one(simple("RESET"));
      case "auth":
        return this.one(
          errorReply(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
          ),
        );
      case "hello":
        return this.one(this.hello(rest));
      case "client":
        return this.one(this.client(rest));
      case "role":
        return this.one(
          array([bulk("sentinel"), bulks(this.world.services().map((view) => view.name))]),
        );
      case "info":
        return this.one(
          rest.length > 1 ? errorReply("ERR syntax error") : bulk(infoText(this.world, rest[0])),
        );
      case "sentinel":
        return this.one(this.sentinel(rest));
      case "subscribe":
      case "psubscribe":
        return this.subscribe(name, rest);
      case "unsubscribe":
      case "punsubscribe":
        return this.unsubscribe(name, rest);
      default:
        return this.one(unknownCommand(args));
    }
  }

  /**
   * The messages a publication on `channel` makes for this client, as Redis sends them: one for
   * the channel if subscribed to it, one per pattern it matches; none if it listens to neither.
   */
  messages(channel: string, text: string): RespValue[] {
    const out: RespValue[] = [];
    if (this.channels.has(channel)) out.push(bulks(["message", channel, text]));
    for (const pattern of this.patterns)
      if (globMatches(pattern, channel)) out.push(bulks(["pmessage", pattern, channel, text]));
    return out;
  }

  private one(reply: RespValue): SessionAnswer {
    return { replies: [reply], close: false };
  }

  private hello(rest: readonly string[]): RespValue {
    if (rest.length > 0 && rest[0] !== "2")
      return /^\d+$/.test(rest[0]!)
        ? errorReply("NOPROTO sorry, this protocol version is not supported.")
        : errorReply("ERR Protocol version is not an integer or out of range");
    for (let i = 1; i < rest.length; i++) {
      const option = rest[i]!.toLowerCase();
      if (option === "auth")
        return errorReply("WRONGPASS invalid username-password pair or user is disabled.");
      if (option === "setname" && i + 1 < rest.length) {
        const reply = this.setName(rest[++i]!);
        if (reply.kind === "error") return reply;
      } else return errorReply(`ERR Syntax error in HELLO option '${rest[i]}'`);
    }
    return array([
      ...["server", "redis", "version", "7.0.0", "proto"].map(bulk),
      integer(2),
      bulk("id"),
      integer(this.clientId),
      ...["mode", "sentinel", "role", "sentinel", "modules"].map(bulk),
      array([]),
    ]);
  }

  private client(rest: readonly string[]): RespValue {
    const sub = (rest[0] ?? "").toLowerCase();
    if (sub === "setname" && rest.length === 2) return this.setName(rest[1]!);
    if (sub === "getname" && rest.length === 1) return bulk(this.clientName);
    if (sub === "id" && rest.length === 1) return integer(this.clientId);
    // Libraries announce themselves (redis-py, ioredis): accepted, nothing to keep.
    if (sub === "setinfo" && rest.length === 3) return OK;
    if (["setname", "getname", "id", "setinfo"].includes(sub)) return arity(`client|${sub}`);
    return errorReply(`ERR unknown subcommand '${clip(rest[0] ?? "")}'. Try CLIENT HELP.`);
  }

  private setName(name: string): RespValue {
    if (!CLIENT_NAME.test(name) || name.includes(" "))
      return errorReply("ERR Client names cannot contain spaces, newlines or special characters.");
    this.clientName = name === "" ? null : name;
    return OK;
  }

  private sentinel(rest: readonly string[]): RespValue {
    const sub = (rest[0] ?? "").toLowerCase();
    const views = this.world.services();
    const named = (): ServiceView | RespValue => {
      if (rest.length !== 2) return arity(`sentinel|${sub}`);
      return (
        views.find((view) => view.name === rest[1]) ??
        errorReply("ERR No such master with that name")
      );
    };
    switch (sub) {
      case "myid":
        return rest.length === 1 ? bulk(this.world.runId) : arity("sentinel|myid");
      case "masters":
        return rest.length === 1
          ? array(views.map((view) => masterReply(view, this.world)))
          : arity("sentinel|masters");
      case "master": {
        const view = named();
        return isView(view) ? masterReply(view, this.world) : view;
      }
      case "get-master-addr-by-name": {
        if (rest.length !== 2) return arity("sentinel|get-master-addr-by-name");
        const view = views.find((v) => v.name === rest[1]);
        const master = view === undefined ? null : servingMaster(view);
        return master === null ? array(null) : bulks([master.ip, String(master.port)]);
      }
      case "replicas":
      case "slaves": {
        const view = named();
        return isView(view)
          ? array(view.replicas.map((replica) => replicaReply(replica, view.master, this.world)))
          : view;
      }
      case "sentinels": {
        const view = named();
        return isView(view)
          ? array(this.world.sentinels().map((peer) => sentinelReply(peer, this.world)))
          : view;
      }
      case "ckquorum": {
        const view = named();
        if (!isView(view)) return view;
        return servingMaster(view) === null
          ? errorReply(`NOQUORUM ${view.name} has no master serving under a lease now`)
          : simple(
              `OK ${this.world.sentinels().length + 1} usable Sentinels. Quorum and failover authorization can be reached`,
            );
      }
      default:
        if (READ_ONLY_REFUSED.has(sub))
          return errorReply(
            `ERR Vigil answers the Sentinel protocol and decides failovers itself: SENTINEL ${sub.toUpperCase()} is not served (move the master with vigil resource move)`,
          );
        return errorReply(`ERR unknown subcommand '${clip(rest[0] ?? "")}'. Try SENTINEL HELP.`);
    }
  }

  private subscribe(name: "subscribe" | "psubscribe", rest: readonly string[]): SessionAnswer {
    if (rest.length === 0) return this.one(arity(name));
    const replies = rest.map((channel) => {
      const into = name === "subscribe" ? this.channels : this.patterns;
      if (this.channels.size + this.patterns.size >= MAX_SUBSCRIPTIONS && !into.has(channel))
        return errorReply(`ERR at most ${MAX_SUBSCRIPTIONS} channels and patterns per connection`);
      into.add(channel);
      return array([bulk(name), bulk(channel), integer(this.channels.size + this.patterns.size)]);
    });
    return { replies, close: false };
  }

  private unsubscribe(
    name: "unsubscribe" | "punsubscribe",
    rest: readonly string[],
  ): SessionAnswer {
    const from = name === "unsubscribe" ? this.channels : this.patterns;
    const names = rest.length > 0 ? rest : [...from.keys()];
    if (names.length === 0)
      return this.one(
        array([bulk(name), bulk(null), integer(this.channels.size + this.patterns.size)]),
      );
    const replies = names.map((channel) => {
      from.delete(channel);
      return array([bulk(name), bulk(channel), integer(this.channels.size + this.patterns.size)]);
    });
    return { replies, close: false };
  }
}

function isView(value: ServiceView | RespValue): value is ServiceView {
  return !("kind" in value);
}

function clip(text: string): string {
  return text.length > 128 ? text.slice(0, 128) : text;
}

function arity(command: string): RespValue {
  return errorReply(`ERR wrong number of arguments for '${command}' command`);
}

/** Redis's wording, which clients match on (ioredis: "unknown command" and the name). */
function unknownCommand(args: readonly string[]): RespValue {
  const shown = args
    .slice(1)
    .reduce<{ text: string; room: number }>(
      (acc, arg) =>
        acc.room <= 0 ? acc : { text: `${acc.text}'${clip(arg)}' `, room: acc.room - arg.length },
      { text: "", room: 128 },
    ).text;
  return errorReply(
    `ERR unknown command '${clip(args[0] ?? "")}', with args beginning with: ${shown}`,
  );
}

/**
 * Whether `text` matches a glob as PSUBSCRIBE takes it: * any run, ? any one character, \ quotes
 * the next. By dynamic programming over both, O(pattern × text): a regular expression of a
 * client's many stars could backtrack for ever.
 */
export function globMatches(pattern: string, text: string): boolean {
  const tokens: Array<{ any: true } | { one: string | null }> = [];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*") {
      if (!("any" in (tokens.at(-1) ?? {}))) tokens.push({ any: true });
    } else if (char === "?") tokens.push({ one: null });
    else if (char === "\\" && i + 1 < pattern.length) tokens.push({ one: pattern[++i]! });
    else tokens.push({ one: char });
  }
  // matched[j]: the tokens so far match text[0, j).
  let matched = Array.from({ length: text.length + 1 }, (_, j) => j === 0);
  for (const token of tokens) {
    const next = new Array<boolean>(text.length + 1).fill(false);
    for (let j = 0; j <= text.length; j++) {
      if ("any" in token) next[j] = matched[j]! || (j > 0 && next[j - 1]!);
      else next[j] = j > 0 && matched[j - 1]! && (token.one === null || token.one === text[j - 1]);
    }
    matched = next;
  }
  return matched[text.length]!;
}
