# A redis-py client of the Sentinel-protocol tests: finds the master of NAME through the given
# sentinels (redis.sentinel.Sentinel, as an application would) and writes with a 2 ms pause:
#   python3 sentinel-writer-py.py NAME LOGFILE HOST:PORT...
# Each write is one line of LOGFILE: "<n> <sent ms> <done ms> ok" or "<n> <sent ms> <done ms> fail
# <error>", in wall-clock epoch ms. A failed write is not retried: the next one has the next
# number. Reconnecting (asking the sentinels again) is redis-py's own. SIGTERM stops it.
import signal
import sys
import time

from redis.sentinel import Sentinel

name, log_path = sys.argv[1], sys.argv[2]
sentinels = [(host, int(port)) for host, port in (a.rsplit(":", 1) for a in sys.argv[3:])]
stopping = False


def stop(_signum, _frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, stop)
master = Sentinel(sentinels, socket_timeout=0.5).master_for(name, socket_timeout=0.5)
now = lambda: time.time() * 1000
print("writing", flush=True)
with open(log_path, "a", buffering=1) as log:
    n = 0
    while not stopping:
        sent = now()
        try:
            master.set(f"py:{n}", str(n))
            log.write(f"{n} {sent:.1f} {now():.1f} ok\n")
            time.sleep(0.002)
        except Exception as error:
            log.write(f"{n} {sent:.1f} {now():.1f} fail {type(error).__name__}\n")
            time.sleep(0.05)
        n += 1
