import { after, before } from "node:test";
import { type CreateLabOptions, createLab, type Lab } from "../lab/index.js";
import { TakeoverLab, type TakeoverLabOptions } from "./takeover-lab.js";

/**
 * The usual setup of a takeover test suite, as node:test hooks: a lab, a TakeoverLab running
 * the service group (applied and settled) and the client's prober; both always torn down, also
 * after a failure. `options` may compute paths in the lab's folder; `ready` hands both over.
 */
export function useTakeoverLab(
  labOptions: CreateLabOptions,
  options: (lab: Lab) => TakeoverLabOptions,
  ready: (created: { lab: Lab; t: TakeoverLab }) => void,
): void {
  let lab: Lab | undefined;
  let t: TakeoverLab | undefined;
  before(async () => {
    lab = await createLab(labOptions);
    t = await TakeoverLab.create(lab, options(lab));
    await t.apply();
    await t.waitForGroup();
    await t.startProber();
    ready({ lab, t });
  });
  after(async () => {
    await t?.close().catch(() => undefined);
    await lab?.teardown();
  });
}
