import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

/**
 * What the guard can learn about a watchdog's timeout without an ioctl (Node has none without a
 * native addon): the driver publishes it in sysfs (CONFIG_WATCHDOG_SYSFS). The timeout itself
 * is the driver's default or a module parameter (softdog's soft_margin, iTCO_wdt's heartbeat);
 * the guard never sets it. It only picks a feed interval well inside it and logs it, because it
 * is how long after a fence that fails (or a hung guard) the machine resets.
 */

/** The legacy /dev/watchdog (misc 10:130) is the first watchdog registered: watchdog0. */
const LEGACY_MISC_DEVICE = "10:130";
const SYSFS_WATCHDOGS = "/sys/class/watchdog";
/** Feed at least this often, whatever the timeout (a feed is one write). */
const MAX_FEED_INTERVAL_MS = 1_000;
const MIN_FEED_INTERVAL_MS = 100;

export interface WatchdogTimeout {
  /** The sysfs name, e.g. watchdog0. */
  name: string;
  timeoutSeconds: number;
}

/** "major:minor" of a Linux dev_t as glibc encodes it (gnu_dev_major/minor). Pure. */
export function deviceNumber(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n);
  return `${major}:${minor}`;
}

/** A quarter of the timeout, at most a second: three lost feeds still do not reset. Pure. */
export function feedIntervalMs(timeoutSeconds: number | null): number {
  if (timeoutSeconds === null) return MAX_FEED_INTERVAL_MS;
  const quarter = Math.floor((timeoutSeconds * 1000) / 4);
  return Math.max(MIN_FEED_INTERVAL_MS, Math.min(MAX_FEED_INTERVAL_MS, quarter));
}

/** The timeout of the watchdog at `path`, or null if it is not one sysfs describes. */
export async function watchdogTimeout(
  path: string,
  sysfs: string = SYSFS_WATCHDOGS,
): Promise<WatchdogTimeout | null> {
  try {
    const info = await stat(path, { bigint: true });
    if (!info.isCharacterDevice()) return null;
    const number = deviceNumber(info.rdev);
    const names = number === LEGACY_MISC_DEVICE ? ["watchdog0"] : await readdir(sysfs);
    for (const name of names) {
      const dev = await readFile(join(sysfs, name, "dev"), "utf8").catch(() => "");
      if (number !== LEGACY_MISC_DEVICE && dev.trim() !== number) continue;
      const text = (await readFile(join(sysfs, name, "timeout"), "utf8")).trim();
      if (!/^\d+$/.test(text) || Number(text) <= 0) return null;
      return { name, timeoutSeconds: Number(text) };
    }
    return null;
  } catch {
    return null;
  }
}
