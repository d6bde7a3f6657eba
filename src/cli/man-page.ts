import type { Command } from "commander";

/**
 * The vigil(8) manual page in roff, made of every visible command's own --help text: the page
 * cannot drift from the CLI because it is generated from it when a package is built.
 */

/**
 * Help is wrapped narrower than a terminal, since man indents it by 7 columns on an 80-column
 * page, and wrapped even where commander would not (a description column under 40 wide, as
 * beside the longest command names): a page that runs off its right edge is not read.
 */
const HELP_WIDTH = 72;
const MIN_DESCRIPTION_WIDTH = 24;

/**
 * Text set verbatim: a backslash is roff's escape, a leading dot or quote starts a request, and
 * a plain `-` is a typographic hyphen, which breaks copy-pasting an option from the page.
 */
function roffLiteral(line: string): string {
  const escaped = line.replaceAll("\\", "\\e").replaceAll("-", "\\-");
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

function visibleCommands(command: Command): Command[] {
  return command.commands.filter(
    (sub) => !(sub as unknown as { _hidden?: boolean })._hidden && sub.name() !== "help",
  );
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(" ");
}

function helpSection(command: Command): string[] {
  command.configureHelp({
    ...command.configureHelp(),
    helpWidth: HELP_WIDTH,
    minWidthToWrap: MIN_DESCRIPTION_WIDTH,
  });
  const help = command.helpInformation().trimEnd().split("\n");
  const lines = [`.SS ${roffLiteral(commandPath(command))}`, ".nf"];
  for (const line of help) lines.push(line === "" ? ".sp" : roffLiteral(line));
  lines.push(".fi");
  for (const sub of visibleCommands(command)) lines.push(...helpSection(sub));
  return lines;
}

export function renderManPage(program: Command, version: string): string {
  const lines = [
    `.TH VIGIL 8 "" "vigil ${roffLiteral(version)}" "System Administration"`,
    ".SH NAME",
    `vigil \\- ${roffLiteral(program.description())}`,
    ".SH SYNOPSIS",
    ".B vigil",
    ".I command",
    "[\\fIoptions\\fR]",
    ".SH DESCRIPTION",
    "Vigil keeps services running on a cluster of Linux machines: its agent exchanges",
    "authenticated heartbeats with the other nodes, agrees with them on who is a member, and",
    "starts, stops and moves the cluster's resources (addresses, services, promotable databases).",
    "The agent runs as the systemd service",
    ".BR vigil.service ;",
    "the other commands talk to the local agent through its control socket or work on files.",
    ".SH COMMANDS",
    "Each command's",
    ".B \\-\\-help",
    "as printed by this version.",
    ...helpSection(program),
    ".SH FILES",
    ".TP",
    ".I /etc/vigil/vigil.yaml",
    "The agent's configuration (cluster, nodes, links); created by",
    '.BR "vigil init" .',
    ".TP",
    ".I /etc/vigil/authkeys",
    "The cluster key file (mode 0600); created by",
    ".B vigil init",
    "or",
    '.BR "vigil keygen" .',
    ".TP",
    ".I /var/lib/vigil",
    "The agent's state directory (replicated log and snapshots).",
    ".SH SEE ALSO",
    ".BR systemctl (1),",
    ".BR systemd.service (5)",
    "",
  ];
  return lines.join("\n");
}
