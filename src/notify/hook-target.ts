/** Where one delivery goes: an executable (event in its environment and on stdin) or a URL. */
export type HookTarget = { run: string; args?: readonly string[] } | { webhook: string };
